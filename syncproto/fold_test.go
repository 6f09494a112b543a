package syncproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Fixtures shared by the tests of this package.
var (
	testEnq = uuid.MustParse("0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b")
	agent   = Actor{Type: ActorAgent, ID: "agent-1", Name: "Ana Agent"}
	system  = Actor{Type: ActorSystem, ID: "intake"}
	device1 = Actor{Type: ActorDevice, ID: "tab-1", Name: "Carla Crew"}
	device2 = Actor{Type: ActorDevice, ID: "tab-2"}
)

// baseMillis is the wall clock of the fixtures (2025-10-09).
const baseMillis = 1_760_000_000_000

// at returns the HLC n milliseconds after baseMillis.
func at(n int64) HLC { return MakeHLC(baseMillis+n, 0) }

// idN returns a deterministic UUIDv7 whose byte order is n's order, so that
// tests can say which of two ops with equal HLCs folds first.
func idN(n int) uuid.UUID {
	var u uuid.UUID
	for i := 5; i >= 0; i-- {
		u[i] = byte(n)
		n >>= 8
	}
	u[6] = 0x70 // version 7
	u[8] = 0x80 // RFC 4122 variant
	return u
}

// randomID returns a UUIDv7-shaped id drawn from r, so a seed reproduces it.
func randomID(r *rand.Rand) uuid.UUID {
	var u uuid.UUID
	for i := range u {
		u[i] = byte(r.UintN(256))
	}
	u[6] = u[6]&0x0f | 0x70
	u[8] = u[8]&0x3f | 0x80
	return u
}

// mkOp builds an op on testEnq; data nil means no payload.
func mkOp(id uuid.UUID, h HLC, a Actor, k Kind, data any) Op {
	op := Op{ID: id, Enquiry: testEnq, Kind: k, HLC: h, Actor: a}
	if data != nil {
		op.Data = MustData(data)
	}
	return op
}

func createData() CreateData {
	return CreateData{
		Channel: "twitter", ExternalID: "tw-1", Handle: "@pax", Customer: "Pat Pax",
		Text: "My wife is on TP123 and needs a wheelchair at arrival", Language: "en",
		ReceivedAt: time.Date(2025, 10, 9, 8, 0, 0, 0, time.UTC),
	}
}

func opCreate(n int, h HLC) Op { return mkOp(idN(n), h, agent, KindCreate, createData()) }

func opAssign(n int, h HLC, flight string) Op {
	return mkOp(idN(n), h, agent, KindAssign, AssignData{FlightID: flight, PassengerName: "Maria Pax", Seat: "12C", Instructions: "Offer a wheelchair"})
}

func opRecall(n int, h HLC) Op {
	return mkOp(idN(n), h, agent, KindRecall, RecallData{Reason: "handled on the ground"})
}

func opNote(n int, h HLC, a Actor, text string) Op {
	return mkOp(idN(n), h, a, KindNote, NoteData{Text: text})
}

func opAck(n int, h HLC, a Actor) Op { return mkOp(idN(n), h, a, KindAck, nil) }

func opOutcome(n int, h HLC, a Actor, s Status) Op {
	return mkOp(idN(n), h, a, KindOutcome, OutcomeData{Outcome: s, Note: "told the passenger"})
}

func opClose(n int, h HLC, force bool, reason string) Op {
	return mkOp(idN(n), h, agent, KindClose, CloseData{Force: force, Reason: reason})
}

// mustJSON marshals v or fails the test.
func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("marshal %T: %v", v, err)
	}
	return b
}

// opList renders ops one JSON line each, for failure messages that let a
// reader rebuild the case.
func opList(tb testing.TB, ops []Op) string {
	tb.Helper()
	var sb strings.Builder
	for i := range ops {
		fmt.Fprintf(&sb, "\t%s\n", mustJSON(tb, &ops[i]))
	}
	return sb.String()
}

// roundTrip stores e the way the stores do (as JSON) and reads it back.
func roundTrip(tb testing.TB, e Enquiry) Enquiry {
	tb.Helper()
	var got Enquiry
	if err := json.Unmarshal(mustJSON(tb, &e), &got); err != nil {
		tb.Fatalf("unmarshal enquiry: %v", err)
	}
	return got
}

// foldLikeStore folds ops one at a time in arrival order, the way the
// server and device stores do: a duplicate id changes nothing; an op that
// CanAppend is applied to a clone of the stored state, anything else refolds
// every op stored so far. With persist, the state goes through JSON between
// ops, as it does in a store. It also returns how many ops took the
// incremental path.
func foldLikeStore(tb testing.TB, ops []Op, persist bool) (Enquiry, int) {
	tb.Helper()
	var before *Enquiry
	var stored []Op
	seen := make(map[uuid.UUID]bool)
	appended := 0
	for i := range ops {
		op := &ops[i]
		if seen[op.ID] {
			continue
		}
		seen[op.ID] = true
		stored = append(stored, *op)
		var after Enquiry
		if before != nil && before.CanAppend(op) {
			after = before.Clone()
			after.Apply(op)
			appended++
		} else {
			after = Fold(stored)
		}
		if persist {
			after = roundTrip(tb, after)
		}
		before = &after
	}
	if before == nil {
		return Enquiry{}, 0
	}
	return *before, appended
}

// genOps returns a random op set for testEnq: one create (rarely a second
// one), then assigns to one of 1-3 flights, recalls, notes, acks, outcomes
// and closes, from agents and devices, with HLCs packed into a few
// milliseconds so that they often collide.
func genOps(r *rand.Rand) []Op {
	flights := []string{"TP123-20251009", "TP456-20251009", "TP789-20251010"}[:1+r.IntN(3)]
	devices := []Actor{device1, device2, {Type: ActorDevice, ID: "tab-3", Name: "Rui Crew"}}
	hlc := func() HLC { return MakeHLC(baseMillis+r.Int64N(30), uint16(r.IntN(3))) }
	op := func(k Kind, a Actor, data any) Op {
		o := Op{ID: randomID(r), Enquiry: testEnq, Kind: k, HLC: hlc(), Actor: a}
		if data != nil {
			o.Data = MustData(data)
		}
		return o
	}
	pick := func(as []Actor) Actor { return as[r.IntN(len(as))] }

	cd := createData()
	ops := []Op{op(KindCreate, agent, cd)}
	if r.IntN(8) == 0 {
		cd.Channel, cd.ExternalID, cd.Text = "email", "mail-9", "a second intake of the same enquiry"
		ops = append(ops, op(KindCreate, system, cd))
	}
	outcomes := []Status{StatusResolved, StatusNotResolved, StatusPassengerNotOnBoard, StatusEscalated}
	for range r.IntN(25) {
		switch w := r.IntN(100); {
		case w < 20:
			ops = append(ops, op(KindAssign, agent, AssignData{FlightID: flights[r.IntN(len(flights))], Seat: fmt.Sprintf("%dC", 1+r.IntN(40))}))
		case w < 28:
			ops = append(ops, op(KindRecall, agent, RecallData{Reason: "wrong flight"}))
		case w < 45:
			a := pick(devices)
			if r.IntN(2) == 0 {
				a = agent
			}
			ops = append(ops, op(KindNote, a, NoteData{Text: fmt.Sprintf("note %d", r.IntN(1000))}))
		case w < 60:
			ops = append(ops, op(KindAck, pick(devices), nil))
		case w < 88:
			ops = append(ops, op(KindOutcome, pick(devices), OutcomeData{Outcome: outcomes[r.IntN(len(outcomes))]}))
		default:
			d := CloseData{}
			if r.IntN(2) == 0 {
				d = CloseData{Force: true, Reason: "customer answered by DM"}
			}
			ops = append(ops, op(KindClose, agent, d))
		}
	}
	return ops
}

// withDuplicates returns ops plus a random number of copies of random ops,
// shuffled.
func withDuplicates(r *rand.Rand, ops []Op) []Op {
	out := append([]Op(nil), ops...)
	for range 1 + r.IntN(len(ops)+1) {
		out = append(out, ops[r.IntN(len(ops))])
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// TestFold_Convergence ensures every replica computes byte-identical state
// from the same op set whatever the order, duplication or path (full fold
// or incremental store-style fold) it took.
func TestFold_Convergence(t *testing.T) {
	sets := 2000
	if testing.Short() {
		sets = 200
	}
	const chunks = 4
	var (
		mu              sync.Mutex
		steps, appended int
		statuses        = make(map[Status]int)
	)
	t.Run("Sets", func(t *testing.T) {
		for c := range uint64(chunks) {
			lo, hi := c*uint64(sets)/chunks, (c+1)*uint64(sets)/chunks
			t.Run(fmt.Sprintf("Seeds%d-%d", lo, hi-1), func(t *testing.T) {
				t.Parallel()
				for seed := lo; seed < hi; seed++ {
					s, a, st := checkConvergence(t, seed)
					mu.Lock()
					steps, appended = steps+s, appended+a
					statuses[st]++
					mu.Unlock()
				}
			})
		}
	})
	// The property is only worth something if the generated sets reach the
	// interesting states and the incremental path really ran.
	for _, s := range []Status{StatusNew, StatusAssigned, StatusAcknowledged, StatusResolved, StatusNotResolved, StatusPassengerNotOnBoard, StatusEscalated, StatusClosed} {
		if statuses[s] == 0 {
			t.Errorf("no generated op set ended %s: the generator does not cover it", s)
		}
	}
	if appended*3 < steps {
		t.Errorf("only %d of %d ops in fold order took the CanAppend path; want at least a third", appended, steps)
	}
}

// checkConvergence checks the op set of one seed and returns how many ops
// it folded incrementally in fold order, how many of those took the
// CanAppend path, and the final status.
func checkConvergence(t *testing.T, seed uint64) (steps, appended int, status Status) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	ops := genOps(r)
	wantState := Fold(ops)
	want := mustJSON(t, &wantState)

	check := func(name string, got Enquiry, input []Op) {
		t.Helper()
		if g := mustJSON(t, &got); !bytes.Equal(g, want) {
			t.Fatalf("seed %d: %s differs from Fold of the original\n got: %s\nwant: %s\nops (original order):\n%sops (%s):\n%s",
				seed, name, g, want, opList(t, ops), name, opList(t, input))
		}
	}

	perm := append([]Op(nil), ops...)
	r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	check("Fold of a permutation", Fold(perm), perm)

	dups := withDuplicates(r, ops)
	check("Fold with duplicates", Fold(dups), dups)

	sorted := SortOps(ops)
	inc, n := foldLikeStore(t, sorted, false)
	check("incremental fold in fold order", inc, sorted)

	// The JSON round trip of a stored state is the slow part; a quarter
	// of the sets is plenty to catch a field it loses.
	inc, _ = foldLikeStore(t, dups, seed%4 == 0)
	check("incremental fold in arrival order with duplicates", inc, dups)
	return len(sorted), n, wantState.Status
}

func ptr[T any](v T) *T { return &v }

// state names a starting point for the status tables.
type state string

const (
	stUncreated   state = "uncreated"
	stNew         state = "new"
	stRecalled    state = "new_after_recall" // new, but has been on a flight
	stAssigned    state = "assigned"
	stAcked       state = "acknowledged"
	stResolved    state = "resolved"
	stNotResolved state = "not_resolved"
	stNotOnBoard  state = "passenger_not_on_board"
	stEscalated   state = "escalated"
	stClosed      state = "closed"
)

var allStates = []state{stUncreated, stNew, stRecalled, stAssigned, stAcked, stResolved, stNotResolved, stNotOnBoard, stEscalated, stClosed}

// opsFor returns ops that bring testEnq to s, at HLCs at(1)..at(9).
func opsFor(tb testing.TB, s state) []Op {
	tb.Helper()
	created := []Op{opCreate(1, at(1))}
	assigned := append(created, opAssign(2, at(2), "TP123-20251009"))
	switch s {
	case stUncreated:
		return nil
	case stNew:
		return created
	case stRecalled:
		return append(assigned, opRecall(3, at(3)))
	case stAssigned:
		return assigned
	case stAcked:
		return append(assigned, opAck(3, at(3), device1))
	case stResolved, stNotResolved, stNotOnBoard, stEscalated:
		return append(assigned, opOutcome(3, at(3), device1, Status(s)))
	case stClosed:
		return append(created, opClose(3, at(3), false, ""))
	}
	tb.Fatalf("unknown state %q", s)
	return nil
}

// status is the folded status of a state.
func (s state) status() Status {
	switch s {
	case stUncreated:
		return ""
	case stRecalled:
		return StatusNew
	}
	return Status(s)
}

// TestEnquiry_Check walks every op kind from every status and checks both
// Check and what the fold makes of the op.
func TestEnquiry_Check(t *testing.T) {
	const ok = ""
	type want struct {
		code   string // "" if the op is legal
		status Status // status after folding the op ("" = unchanged)
	}
	legalTo := func(s Status) want { return want{status: s} }
	unchanged := want{}
	illegal := want{code: CodeIllegalTransition}
	unknown := want{code: CodeUnknownEnquiry}

	kinds := []struct {
		name string
		op   Op
		from map[state]want
	}{
		{"Assign", opAssign(10, at(10), "TP456-20251009"), map[state]want{
			stUncreated: unknown, stNew: legalTo(StatusAssigned), stRecalled: legalTo(StatusAssigned),
			stAssigned: legalTo(StatusAssigned), stAcked: illegal, stResolved: illegal,
			stNotResolved: legalTo(StatusAssigned), stNotOnBoard: legalTo(StatusAssigned),
			stEscalated: legalTo(StatusAssigned), stClosed: illegal,
		}},
		{"Recall", opRecall(10, at(10)), map[state]want{
			stUncreated: unknown, stNew: illegal, stRecalled: illegal, stAssigned: legalTo(StatusNew),
			stAcked: illegal, stResolved: illegal, stNotResolved: illegal, stNotOnBoard: illegal,
			stEscalated: illegal, stClosed: illegal,
		}},
		{"Ack", opAck(10, at(10), device2), map[state]want{
			stUncreated: unknown, stNew: illegal, stRecalled: illegal, stAssigned: legalTo(StatusAcknowledged),
			stAcked: illegal, stResolved: illegal, stNotResolved: illegal, stNotOnBoard: illegal,
			stEscalated: illegal, stClosed: illegal,
		}},
		{"Outcome", opOutcome(10, at(10), device2, StatusEscalated), map[state]want{
			stUncreated: unknown, stNew: illegal, stRecalled: legalTo(StatusEscalated),
			stAssigned: legalTo(StatusEscalated), stAcked: legalTo(StatusEscalated),
			stResolved: legalTo(StatusEscalated), stNotResolved: legalTo(StatusEscalated),
			stNotOnBoard: legalTo(StatusEscalated), stEscalated: legalTo(StatusEscalated), stClosed: illegal,
		}},
		{"Close", opClose(10, at(10), false, ""), map[state]want{
			stUncreated: unknown, stNew: legalTo(StatusClosed), stRecalled: legalTo(StatusClosed),
			stAssigned: illegal, stAcked: illegal, stResolved: legalTo(StatusClosed),
			stNotResolved: legalTo(StatusClosed), stNotOnBoard: legalTo(StatusClosed),
			stEscalated: legalTo(StatusClosed), stClosed: illegal,
		}},
		{"CloseForced", opClose(10, at(10), true, "answered the customer by phone"), map[state]want{
			stUncreated: unknown, stNew: legalTo(StatusClosed), stRecalled: legalTo(StatusClosed),
			stAssigned: legalTo(StatusClosed), stAcked: legalTo(StatusClosed), stResolved: legalTo(StatusClosed),
			stNotResolved: legalTo(StatusClosed), stNotOnBoard: legalTo(StatusClosed),
			stEscalated: legalTo(StatusClosed), stClosed: illegal,
		}},
		{"Note", opNote(10, at(10), device2, "gave a voucher"), map[state]want{
			stUncreated: unknown, stNew: unchanged, stRecalled: unchanged, stAssigned: unchanged,
			stAcked: unchanged, stResolved: unchanged, stNotResolved: unchanged, stNotOnBoard: unchanged,
			stEscalated: unchanged, stClosed: unchanged,
		}},
		{"Create", opCreate(10, at(10)), map[state]want{
			stUncreated: legalTo(StatusNew), stNew: {code: CodeConflict}, stRecalled: {code: CodeConflict},
			stAssigned: {code: CodeConflict}, stAcked: {code: CodeConflict}, stResolved: {code: CodeConflict},
			stNotResolved: {code: CodeConflict}, stNotOnBoard: {code: CodeConflict},
			stEscalated: {code: CodeConflict}, stClosed: {code: CodeConflict},
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for _, from := range allStates {
				w, found := k.from[from]
				if !found {
					t.Fatalf("table has no row for %s from %s", k.name, from)
				}
				t.Run("From_"+string(from), func(t *testing.T) {
					prefix := opsFor(t, from)
					before := Fold(prefix)
					if got, want := before.Status, from.status(); got != want {
						t.Fatalf("fixture status = %q, want %q", got, want)
					}

					// Ensure Check answers with the right code.
					err := before.Check(&k.op)
					if w.code == ok {
						if err != nil {
							t.Fatalf("Check = %v, want nil", err)
						}
					} else {
						var perr *Error
						if !errors.As(err, &perr) {
							t.Fatalf("Check = %v (%T), want an *Error", err, err)
						}
						if got := ErrorCode(err); got != w.code {
							t.Fatalf("Check code = %q, want %q (%v)", got, w.code, err)
						}
					}

					// Ensure the fold agrees with Check: a legal op moves
					// the status, an illegal one is kept as ignored.
					after := Fold(append(append([]Op(nil), prefix...), k.op))
					var last Entry
					for _, h := range after.History {
						if h.OpID == k.op.ID {
							last = h
						}
					}
					if last.OpID != k.op.ID {
						t.Fatalf("no history entry for the op %s", k.op.ID)
					}
					wantStatus := w.status
					if w.code != ok || wantStatus == "" {
						wantStatus = before.Status
					}
					if got := after.Status; got != wantStatus {
						t.Errorf("status after fold = %q, want %q", got, wantStatus)
					}
					if w.code == ok {
						if last.Effect != EffectApplied || last.Reason != "" {
							t.Errorf("entry = %s (%q), want %s", last.Effect, last.Reason, EffectApplied)
						}
					} else {
						if last.Effect != EffectIgnored {
							t.Errorf("entry effect = %s, want %s", last.Effect, EffectIgnored)
						}
						if got, want := last.Reason, ErrorMessage(err); got != want || got == "" {
							t.Errorf("entry reason = %q, want %q", got, want)
						}
						// An ignored op changes nothing but the history.
						b, a := before, after
						b.History, a.History = nil, nil
						b.Version, b.LastOp, a.Version, a.LastOp = 0, uuid.Nil, 0, uuid.Nil
						if g, w := mustJSON(t, &a), mustJSON(t, &b); !bytes.Equal(g, w) {
							t.Errorf("ignored op changed the state:\n got: %s\nwant: %s", g, w)
						}
					}
					if got, want := len(after.History), len(before.History)+1; got != want {
						t.Errorf("history has %d entries, want %d", got, want)
					}
				})
			}
		})
	}
}

// TestFold_Fields checks what each legal op writes besides the status.
func TestFold_Fields(t *testing.T) {
	t.Run("Create", func(t *testing.T) {
		e := Fold([]Op{opCreate(1, at(1))})
		cd := createData()
		if got, want := e.ID, testEnq; got != want {
			t.Errorf("ID = %s, want %s", got, want)
		}
		got := [...]string{e.Channel, e.ExternalID, e.Handle, e.Customer, e.Text, e.Language}
		want := [...]string{cd.Channel, cd.ExternalID, cd.Handle, cd.Customer, cd.Text, cd.Language}
		if got != want {
			t.Errorf("fields = %q, want %q", got, want)
		}
		if !e.ReceivedAt.Equal(cd.ReceivedAt) {
			t.Errorf("ReceivedAt = %v, want %v", e.ReceivedAt, cd.ReceivedAt)
		}
		if !e.Created() {
			t.Error("Created() = false after a create")
		}
		if e.Notes == nil || e.Flights == nil {
			t.Errorf("Notes = %v, Flights = %v, want empty lists (they encode as [])", e.Notes, e.Flights)
		}
		if got, want := e.Version, at(1); got != want {
			t.Errorf("Version = %s, want %s", got, want)
		}
	})

	t.Run("AssignMoveRecall", func(t *testing.T) {
		a1 := opAssign(2, at(2), "TP123-20251009")
		a2 := opAssign(3, at(3), "TP456-20251009")
		e := Fold([]Op{opCreate(1, at(1)), a1, a2})
		if got, want := e.FlightID, "TP456-20251009"; got != want {
			t.Errorf("FlightID = %q, want %q", got, want)
		}
		if got, want := e.AssignOp, a2.ID; got != want {
			t.Errorf("AssignOp = %s, want %s", got, want)
		}
		if e.AssignedAt == nil || !e.AssignedAt.Equal(at(3).Time()) {
			t.Errorf("AssignedAt = %v, want %v", e.AssignedAt, at(3).Time())
		}
		if got, want := fmt.Sprint(e.Flights), "[TP123-20251009 TP456-20251009]"; got != want {
			t.Errorf("Flights = %s, want %s", got, want)
		}
		if e.PassengerName != "Maria Pax" || e.Seat != "12C" || e.Instructions != "Offer a wheelchair" {
			t.Errorf("passenger fields = %q %q %q", e.PassengerName, e.Seat, e.Instructions)
		}

		// Ensure a recall clears the hand-off but remembers the flights.
		e = Fold([]Op{opCreate(1, at(1)), a1, a2, opRecall(4, at(4))})
		if e.FlightID != "" || e.AssignOp != uuid.Nil || e.AssignedAt != nil {
			t.Errorf("after recall FlightID = %q, AssignOp = %s, AssignedAt = %v, want all cleared", e.FlightID, e.AssignOp, e.AssignedAt)
		}
		if got, want := len(e.Flights), 2; got != want {
			t.Errorf("after recall %d flights, want %d", got, want)
		}
	})

	t.Run("ReassignClearsCrewMarks", func(t *testing.T) {
		e := Fold([]Op{opCreate(1, at(1)), opAssign(2, at(2), "TP123-20251009"), opAck(3, at(3), device1),
			opOutcome(4, at(4), device1, StatusNotResolved), opAssign(5, at(5), "TP456-20251009")})
		if e.Acknowledged != nil || e.Resolution != nil {
			t.Errorf("after reassign Acknowledged = %v, Resolution = %v, want nil", e.Acknowledged, e.Resolution)
		}
		if got, want := e.Status, StatusAssigned; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})

	t.Run("AckOutcomeClose", func(t *testing.T) {
		out := opOutcome(4, at(4), device1, StatusPassengerNotOnBoard)
		e := Fold([]Op{opCreate(1, at(1)), opAssign(2, at(2), "TP123-20251009"), opAck(3, at(3), device2), out, opClose(5, at(5), false, "")})
		if got, want := e.Acknowledged, (&Mark{By: device2.String(), At: at(3).Time()}); got == nil || *got != *want {
			t.Errorf("Acknowledged = %+v, want %+v", got, want)
		}
		want := Resolution{Outcome: StatusPassengerNotOnBoard, Note: "told the passenger", By: "Carla Crew", At: at(4).Time(), OpID: out.ID}
		if got := e.Resolution; got == nil || *got != want {
			t.Errorf("Resolution = %+v, want %+v", got, want)
		}
		if got, want := e.Closed, (&Mark{By: "Ana Agent", At: at(5).Time()}); got == nil || *got != *want {
			t.Errorf("Closed = %+v, want %+v", got, want)
		}
		if got, want := e.Status, StatusClosed; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
	})

	t.Run("NotesAppendInFoldOrder", func(t *testing.T) {
		ops := []Op{opNote(4, at(3), device1, "second"), opCreate(1, at(1)), opClose(2, at(2), false, ""), opNote(3, at(3), agent, "first"), opNote(5, at(9), device2, "after close")}
		e := Fold(ops)
		var got []string
		for _, n := range e.Notes {
			got = append(got, n.Text+"/"+n.By)
		}
		want := []string{"first/Ana Agent", "second/Carla Crew", "after close/device:tab-2"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("notes = %q, want %q", got, want)
		}
	})

	t.Run("SecondCreateIgnored", func(t *testing.T) {
		second := opCreate(2, at(2))
		second.Data = MustData(CreateData{Channel: "email", ExternalID: "m-2", Handle: "x@y", Text: "other", Language: "pt"})
		e := Fold([]Op{second, opCreate(1, at(1))})
		if got, want := e.Channel, "twitter"; got != want {
			t.Errorf("Channel = %q, want %q (the first create wins)", got, want)
		}
		if got := e.History[1]; got.OpID != second.ID || got.Effect != EffectIgnored || got.Reason == "" {
			t.Errorf("second create entry = %+v, want ignored with a reason", got)
		}
		if got, want := e.Version, at(1); got != want {
			t.Errorf("Version = %s, want %s (an ignored create does not move it)", got, want)
		}
	})

	t.Run("CreateFoldsFirst", func(t *testing.T) {
		// A create stamped by a clock behind the crew's still folds first,
		// so the crew's earlier-stamped ops are not lost as unknown.
		e := Fold([]Op{opAssign(2, at(1), "TP123-20251009"), opCreate(1, at(5)), opNote(3, at(2), device1, "hi")})
		if got, want := e.Status, StatusAssigned; got != want {
			t.Errorf("Status = %q, want %q", got, want)
		}
		for _, h := range e.History {
			if h.Effect != EffectApplied {
				t.Errorf("entry %s %s = %s (%s), want applied", h.Kind, h.OpID, h.Effect, h.Reason)
			}
		}
	})

	t.Run("NoCreate", func(t *testing.T) {
		e := Fold([]Op{opNote(1, at(1), agent, "x"), opAssign(2, at(2), "TP123-20251009")})
		if e.Created() {
			t.Fatal("Created() = true without a create op")
		}
		for _, h := range e.History {
			if h.Effect != EffectIgnored || !strings.Contains(h.Reason, "does not exist") {
				t.Errorf("entry %s = %s (%q), want ignored: does not exist", h.Kind, h.Effect, h.Reason)
			}
		}
	})
}

// TestFold_ConcurrentOutcomes ensures two tablets' outcomes on one enquiry
// converge on the later one, and the earlier stays visible.
func TestFold_ConcurrentOutcomes(t *testing.T) {
	base := []Op{opCreate(1, at(1)), opAssign(2, at(2), "TP123-20251009")}
	for _, tc := range []struct {
		name          string
		first, second Op // second wins: later (HLC, id)
	}{
		{"LaterHLC", opOutcome(9, at(5), device1, StatusResolved), opOutcome(8, at(6), device2, StatusNotResolved)},
		{"EqualHLCLaterID", opOutcome(8, at(5), device1, StatusResolved), opOutcome(9, at(5), device2, StatusEscalated)},
		{"SameLogicalTick", opOutcome(8, MakeHLC(baseMillis+5, 3), device1, StatusEscalated), opOutcome(9, MakeHLC(baseMillis+5, 4), device2, StatusResolved)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range [][]Op{{tc.first, tc.second}, {tc.second, tc.first}} {
				e := Fold(append(append([]Op(nil), base...), order...))
				var want OutcomeData
				if err := DecodeData(tc.second.Data, &want); err != nil {
					t.Fatal(err)
				}
				if e.Resolution == nil || e.Resolution.OpID != tc.second.ID {
					t.Fatalf("Resolution = %+v, want op %s", e.Resolution, tc.second.ID)
				}
				if got := e.Status; got != want.Outcome {
					t.Errorf("Status = %q, want %q", got, want.Outcome)
				}
				effects := make(map[uuid.UUID]Entry)
				for _, h := range e.History {
					effects[h.OpID] = h
				}
				if got := effects[tc.first.ID]; got.Effect != EffectSuperseded || got.Reason == "" {
					t.Errorf("earlier outcome entry = %s (%q), want %s with a reason", got.Effect, got.Reason, EffectSuperseded)
				}
				if got := effects[tc.second.ID]; got.Effect != EffectApplied {
					t.Errorf("later outcome entry = %s, want %s", got.Effect, EffectApplied)
				}
			}
		})
	}
}

// TestFold_NoResurrection ensures a late-arriving edit cannot undo a crew
// outcome or bring a recalled enquiry back to the crew.
func TestFold_NoResurrection(t *testing.T) {
	create, assign := opCreate(1, at(1)), opAssign(2, at(2), "TP123-20251009")
	for _, tc := range []struct {
		name        string
		ops         []Op
		wantStatus  Status
		wantFlight  string
		wantIgnored uuid.UUID
	}{{
		// The agent recalled from a stale screen after the crew reported.
		name:        "RecallAfterOutcome",
		ops:         []Op{create, assign, opOutcome(3, at(3), device1, StatusResolved), opRecall(4, at(4))},
		wantStatus:  StatusResolved,
		wantFlight:  "TP123-20251009",
		wantIgnored: idN(4),
	}, {
		// An offline tablet reports an outcome stamped before the recall:
		// the crew's work stands and the recall loses.
		name:        "OutcomeStampedBeforeRecall",
		ops:         []Op{create, assign, opRecall(4, at(4)), opOutcome(3, at(3), device1, StatusNotResolved)},
		wantStatus:  StatusNotResolved,
		wantFlight:  "TP123-20251009",
		wantIgnored: idN(4),
	}, {
		// An offline tablet acknowledges after the recall: the enquiry
		// stays off the flight.
		name:        "AckAfterRecall",
		ops:         []Op{create, assign, opRecall(3, at(3)), opAck(4, at(4), device1)},
		wantStatus:  StatusNew,
		wantFlight:  "",
		wantIgnored: idN(4),
	}, {
		// A duplicate of the assign arriving after the recall is the same
		// op: it cannot re-assign.
		name:        "DuplicateAssignAfterRecall",
		ops:         []Op{create, assign, opRecall(3, at(3)), assign},
		wantStatus:  StatusNew,
		wantFlight:  "",
		wantIgnored: uuid.Nil,
	}, {
		// A crew outcome arriving after the close is kept as ignored and
		// does not reopen the enquiry.
		name:        "OutcomeAfterClose",
		ops:         []Op{create, assign, opClose(3, at(3), true, "phoned the customer"), opOutcome(4, at(4), device1, StatusEscalated)},
		wantStatus:  StatusClosed,
		wantFlight:  "TP123-20251009",
		wantIgnored: idN(4),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			e := Fold(tc.ops)
			if got := e.Status; got != tc.wantStatus {
				t.Errorf("Status = %q, want %q", got, tc.wantStatus)
			}
			if got := e.FlightID; got != tc.wantFlight {
				t.Errorf("FlightID = %q, want %q", got, tc.wantFlight)
			}
			ignored := 0
			for _, h := range e.History {
				if h.Effect == EffectIgnored {
					ignored++
					if h.OpID != tc.wantIgnored || h.Reason == "" {
						t.Errorf("ignored entry %s %s (%q), want only %s, with a reason", h.Kind, h.OpID, h.Reason, tc.wantIgnored)
					}
				}
			}
			if got, want := ignored, map[bool]int{true: 0, false: 1}[tc.wantIgnored == uuid.Nil]; got != want {
				t.Errorf("%d ignored entries, want %d", got, want)
			}
			// The store path must agree.
			got, _ := foldLikeStore(t, tc.ops, true)
			if g, w := mustJSON(t, &got), mustJSON(t, &e); !bytes.Equal(g, w) {
				t.Errorf("incremental fold differs:\n got: %s\nwant: %s", g, w)
			}
		})
	}
}

// TestSortOps ensures the fold order: creates first, then (HLC, id),
// duplicates dropped, and the input left alone.
func TestSortOps(t *testing.T) {
	in := []Op{
		opNote(5, at(2), agent, "b"),
		opNote(4, at(2), agent, "a"),
		opCreate(9, at(7)),
		opNote(6, at(1), agent, "c"),
		opNote(4, at(2), agent, "a"),
		opCreate(8, at(8)),
	}
	orig := append([]Op(nil), in...)
	got := SortOps(in)
	var gotIDs []uuid.UUID
	for _, op := range got {
		gotIDs = append(gotIDs, op.ID)
	}
	wantIDs := []uuid.UUID{idN(9), idN(8), idN(6), idN(4), idN(5)}
	if fmt.Sprint(gotIDs) != fmt.Sprint(wantIDs) {
		t.Errorf("SortOps ids = %v, want %v", gotIDs, wantIDs)
	}
	if !bytes.Equal(mustJSON(t, in), mustJSON(t, orig)) {
		t.Error("SortOps modified its input")
	}
}

// TestEnquiry_CanAppend ensures CanAppend holds only for a non-create op
// that sorts after the last folded one.
func TestEnquiry_CanAppend(t *testing.T) {
	e := Fold([]Op{opCreate(1, at(1)), opNote(5, at(5), agent, "x")})
	for _, tc := range []struct {
		name string
		e    Enquiry
		op   Op
		want bool
	}{
		{"LaterHLC", e, opNote(2, at(6), agent, "y"), true},
		{"EqualHLCLaterID", e, opNote(6, at(5), agent, "y"), true},
		{"EqualHLCEarlierID", e, opNote(4, at(5), agent, "y"), false},
		{"SameOp", e, opNote(5, at(5), agent, "x"), false},
		{"EarlierHLC", e, opNote(9, at(4), agent, "y"), false},
		{"Create", e, opCreate(9, at(9)), false},
		{"Uncreated", Enquiry{}, opNote(9, at(9), agent, "y"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.CanAppend(&tc.op); got != tc.want {
				t.Errorf("CanAppend = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEnquiry_Clone ensures applying to a clone leaves the original alone.
func TestEnquiry_Clone(t *testing.T) {
	e := Fold([]Op{opCreate(1, at(1)), opAssign(2, at(2), "TP123-20251009"), opOutcome(3, at(3), device1, StatusResolved)})
	want := mustJSON(t, &e)
	c := e.Clone()
	c.Apply(ptr(opOutcome(4, at(4), device2, StatusEscalated)))
	c.Apply(ptr(opAssign(5, at(5), "TP456-20251009")))
	c.Apply(ptr(opNote(6, at(6), agent, "moved")))
	if got := mustJSON(t, &e); !bytes.Equal(got, want) {
		t.Errorf("original changed by applying to its clone:\n got: %s\nwant: %s", got, want)
	}
}

// TestOp_Validate ensures each malformed op is refused with its code.
func TestOp_Validate(t *testing.T) {
	valid := func(k Kind, a Actor, data any) Op { return mkOp(idN(1), at(1), a, k, data) }
	with := func(op Op, f func(*Op)) Op { f(&op); return op }
	rawData := func(op Op, raw string) Op { op.Data = json.RawMessage(raw); return op }
	create := func(f func(*CreateData)) Op {
		d := createData()
		f(&d)
		return valid(KindCreate, agent, d)
	}
	note := valid(KindNote, device1, NoteData{Text: "ok"})
	long := strings.Repeat("x", MaxTextLen+1)
	v4 := uuid.MustParse("6ba7b810-9dad-41d1-80b4-00c04fd430c8")
	badVariant := idN(1)
	badVariant[8] = 0xc0 // Microsoft variant

	for _, tc := range []struct {
		name string
		op   Op
		code string // "" = valid
	}{
		{"OK/Create", valid(KindCreate, agent, createData()), ""},
		{"OK/CreateBySystem", valid(KindCreate, system, createData()), ""},
		{"OK/Assign", valid(KindAssign, agent, AssignData{FlightID: "TP123-20251009"}), ""},
		{"OK/Recall", valid(KindRecall, agent, RecallData{}), ""},
		{"OK/RecallNoData", valid(KindRecall, agent, nil), ""},
		{"OK/NoteByAgent", valid(KindNote, agent, NoteData{Text: "called the station"}), ""},
		{"OK/NoteByDevice", note, ""},
		{"OK/NoteMaxLen", valid(KindNote, device1, NoteData{Text: long[:MaxTextLen]}), ""},
		{"OK/Ack", valid(KindAck, device1, nil), ""},
		{"OK/AckEmptyObject", rawData(valid(KindAck, device1, nil), `{}`), ""},
		{"OK/OutcomeResolved", valid(KindOutcome, device1, OutcomeData{Outcome: StatusResolved}), ""},
		{"OK/OutcomeNotResolved", valid(KindOutcome, device1, OutcomeData{Outcome: StatusNotResolved}), ""},
		{"OK/OutcomeNotOnBoard", valid(KindOutcome, device1, OutcomeData{Outcome: StatusPassengerNotOnBoard}), ""},
		{"OK/OutcomeEscalated", valid(KindOutcome, device1, OutcomeData{Outcome: StatusEscalated, Note: "purser called ops"}), ""},
		{"OK/Close", valid(KindClose, agent, CloseData{}), ""},
		{"OK/CloseForced", valid(KindClose, agent, CloseData{Force: true, Reason: "answered by phone"}), ""},
		{"OK/LanguageRegion", create(func(d *CreateData) { d.Language = "pt-BR" }), ""},
		{"OK/LanguageScript", create(func(d *CreateData) { d.Language = "zh-Hant" }), ""},
		{"OK/LanguageThreeLetters", create(func(d *CreateData) { d.Language = "fil" }), ""},
		{"OK/Unicode", valid(KindNote, device1, NoteData{Text: "passagère à bord ✈ 乘客"}), ""},

		{"ErrForbidden/DeviceCreate", valid(KindCreate, device1, createData()), CodeForbidden},
		{"ErrForbidden/DeviceAssign", valid(KindAssign, device1, AssignData{FlightID: "TP1"}), CodeForbidden},
		{"ErrForbidden/DeviceRecall", valid(KindRecall, device1, RecallData{}), CodeForbidden},
		{"ErrForbidden/DeviceClose", valid(KindClose, device1, CloseData{}), CodeForbidden},
		{"ErrForbidden/DeviceUnknownKind", valid("delete", device1, nil), CodeForbidden},

		{"ErrInvalid/AgentAck", valid(KindAck, agent, nil), CodeInvalid},
		{"ErrInvalid/AgentOutcome", valid(KindOutcome, agent, OutcomeData{Outcome: StatusResolved}), CodeInvalid},
		{"ErrInvalid/UnknownKind", valid("delete", agent, nil), CodeInvalid},
		{"ErrInvalid/EmptyKind", valid("", agent, nil), CodeInvalid},
		{"ErrInvalid/IDv4", with(note, func(o *Op) { o.ID = v4 }), CodeInvalid},
		{"ErrInvalid/IDNil", with(note, func(o *Op) { o.ID = uuid.Nil }), CodeInvalid},
		{"ErrInvalid/IDVariant", with(note, func(o *Op) { o.ID = badVariant }), CodeInvalid},
		{"ErrInvalid/NoEnquiry", with(note, func(o *Op) { o.Enquiry = uuid.Nil }), CodeInvalid},
		{"ErrInvalid/ZeroHLC", with(note, func(o *Op) { o.HLC = 0 }), CodeInvalid},
		{"ErrInvalid/ActorType", with(note, func(o *Op) { o.Actor.Type = "robot" }), CodeInvalid},
		{"ErrInvalid/ActorNoType", with(note, func(o *Op) { o.Actor.Type = "" }), CodeInvalid},
		{"ErrInvalid/ActorNoID", with(note, func(o *Op) { o.Actor.ID = " " }), CodeInvalid},
		{"ErrInvalid/ActorNameLong", with(note, func(o *Op) { o.Actor.Name = strings.Repeat("n", MaxShortLen+1) }), CodeInvalid},
		{"ErrInvalid/ActorNameUTF8", with(note, func(o *Op) { o.Actor.Name = "Jo\xffo" }), CodeInvalid},
		{"ErrInvalid/UnknownField", rawData(note, `{"text":"x","colour":"red"}`), CodeInvalid},
		{"ErrInvalid/AckWithData", rawData(valid(KindAck, device1, nil), `{"seen":true}`), CodeInvalid},
		{"ErrInvalid/WrongFieldType", rawData(note, `{"text":5}`), CodeInvalid},
		{"ErrInvalid/DataNotObject", rawData(note, `"text"`), CodeInvalid},
		{"ErrInvalid/DataArray", rawData(note, `[]`), CodeInvalid},
		{"ErrInvalid/DataNotJSON", rawData(note, `{text`), CodeInvalid},
		{"ErrInvalid/DataTrailing", rawData(note, `{"text":"x"} {}`), CodeInvalid},
		{"ErrInvalid/DataTrailingBrace", rawData(note, `{"text":"x"}}`), CodeInvalid},
		{"ErrInvalid/DataTrailingBracket", rawData(note, `{"text":"x"}]`), CodeInvalid},
		{"ErrInvalid/DataUTF8", rawData(note, "{\"text\":\"Jo\xffo\"}"), CodeInvalid},
		{"ErrInvalid/NoteEmpty", valid(KindNote, device1, NoteData{Text: " \n\t"}), CodeInvalid},
		{"ErrInvalid/NoteNoData", valid(KindNote, device1, nil), CodeInvalid},
		{"ErrInvalid/NoteTooLong", valid(KindNote, device1, NoteData{Text: long}), CodeInvalid},
		{"ErrInvalid/RecallReasonTooLong", valid(KindRecall, agent, RecallData{Reason: long}), CodeInvalid},
		{"ErrInvalid/AssignNoFlight", valid(KindAssign, agent, AssignData{Seat: "1A"}), CodeInvalid},
		{"ErrInvalid/AssignSeatTooLong", valid(KindAssign, agent, AssignData{FlightID: "TP1", Seat: strings.Repeat("1", MaxShortLen+1)}), CodeInvalid},
		{"ErrInvalid/AssignInstructionsTooLong", valid(KindAssign, agent, AssignData{FlightID: "TP1", Instructions: long}), CodeInvalid},
		{"ErrInvalid/CreateChannel", create(func(d *CreateData) { d.Channel = "myspace" }), CodeInvalid},
		{"ErrInvalid/CreateChannelCase", create(func(d *CreateData) { d.Channel = "Twitter" }), CodeInvalid},
		{"ErrInvalid/CreateNoExternalID", create(func(d *CreateData) { d.ExternalID = "" }), CodeInvalid},
		{"ErrInvalid/CreateNoHandle", create(func(d *CreateData) { d.Handle = "" }), CodeInvalid},
		{"ErrInvalid/CreateHandleTooLong", create(func(d *CreateData) { d.Handle = strings.Repeat("h", MaxShortLen+1) }), CodeInvalid},
		{"ErrInvalid/CreateNoText", create(func(d *CreateData) { d.Text = "" }), CodeInvalid},
		{"ErrInvalid/CreateTextTooLong", create(func(d *CreateData) { d.Text = long }), CodeInvalid},
		{"ErrInvalid/LanguageEmpty", create(func(d *CreateData) { d.Language = "" }), CodeInvalid},
		{"ErrInvalid/LanguageOneLetter", create(func(d *CreateData) { d.Language = "e" }), CodeInvalid},
		{"ErrInvalid/LanguageWord", create(func(d *CreateData) { d.Language = "english" }), CodeInvalid},
		{"ErrInvalid/LanguageUnderscore", create(func(d *CreateData) { d.Language = "en_US" }), CodeInvalid},
		{"ErrInvalid/LanguageDigit", create(func(d *CreateData) { d.Language = "e1" }), CodeInvalid},
		{"ErrInvalid/LanguageEmptySubtag", create(func(d *CreateData) { d.Language = "en--US" }), CodeInvalid},
		{"ErrInvalid/LanguageTrailingDash", create(func(d *CreateData) { d.Language = "en-" }), CodeInvalid},
		{"ErrInvalid/OutcomeClosed", valid(KindOutcome, device1, OutcomeData{Outcome: StatusClosed}), CodeInvalid},
		{"ErrInvalid/OutcomeAssigned", valid(KindOutcome, device1, OutcomeData{Outcome: StatusAssigned}), CodeInvalid},
		{"ErrInvalid/OutcomeDelivered", valid(KindOutcome, device1, OutcomeData{Outcome: StatusDelivered}), CodeInvalid},
		{"ErrInvalid/OutcomeEmpty", valid(KindOutcome, device1, OutcomeData{}), CodeInvalid},
		{"ErrInvalid/OutcomeNoteTooLong", valid(KindOutcome, device1, OutcomeData{Outcome: StatusResolved, Note: long}), CodeInvalid},
		{"ErrInvalid/ForcedCloseNoReason", valid(KindClose, agent, CloseData{Force: true}), CodeInvalid},
		{"ErrInvalid/ForcedCloseBlankReason", valid(KindClose, agent, CloseData{Force: true, Reason: "  "}), CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.op.Validate()
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Validate = %v (%T), want an *Error", err, err)
			}
			if got := ErrorCode(err); got != tc.code {
				t.Errorf("code = %q, want %q (%v)", got, tc.code, err)
			}
			if perr.Message == "" {
				t.Error("empty message")
			}
		})
	}
}

// TestStatus ensures the status predicates used by filters and Validate.
func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		s                   string
		isStatus, isOutcome bool
	}{
		{"new", true, false}, {"assigned", true, false}, {"delivered", true, false},
		{"acknowledged", true, false}, {"closed", true, false},
		{"resolved", true, true}, {"not_resolved", true, true},
		{"passenger_not_on_board", true, true}, {"escalated", true, true},
		{"", false, false}, {"Resolved", false, false}, {"open", false, false},
	} {
		if got := IsStatus(tc.s); got != tc.isStatus {
			t.Errorf("IsStatus(%q) = %v, want %v", tc.s, got, tc.isStatus)
		}
		if got := Status(tc.s).IsOutcome(); got != tc.isOutcome {
			t.Errorf("Status(%q).IsOutcome() = %v, want %v", tc.s, got, tc.isOutcome)
		}
	}
}
