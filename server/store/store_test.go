package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// MustOpenStore opens a ground store in a temporary directory. Cleanup
// checks the file's integrity, then closes it.
func MustOpenStore(tb testing.TB) *store.Store {
	tb.Helper()
	return MustOpenStoreAt(tb, filepath.Join(tb.TempDir(), "ground.db"))
}

// MustOpenStoreAt opens the ground store at path, with the same cleanup as
// MustOpenStore.
func MustOpenStoreAt(tb testing.TB, path string) *store.Store {
	tb.Helper()
	s, err := store.Open(path)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	pc := &projections{byOp: map[uuid.UUID]store.Result{}}
	projected.Store(s, pc)
	s.SetProjected(pc.add)
	tb.Cleanup(func() {
		projected.Delete(s)
		if err := s.Check(); err != nil {
			tb.Errorf("integrity check: %v", err)
		}
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

var agent = syncproto.Actor{Type: syncproto.ActorAgent, ID: "agent-1", Name: "Ana"}

func device(id string) syncproto.Actor {
	return syncproto.Actor{Type: syncproto.ActorDevice, ID: id, Name: "crew of " + id}
}

// hlcs issues strictly increasing timestamps near the current time.
type hlcs struct {
	mu sync.Mutex
	h  syncproto.HLC
}

func newHLCs() *hlcs { return &hlcs{h: syncproto.MakeHLC(time.Now().UnixMilli(), 0)} }

func (c *hlcs) next() syncproto.HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.h++
	return c.h
}

func newOp(c *hlcs, enq uuid.UUID, kind syncproto.Kind, actor syncproto.Actor, data any) syncproto.Op {
	op := syncproto.Op{ID: syncproto.NewOpID(), Enquiry: enq, Kind: kind, HLC: c.next(), Actor: actor}
	if data != nil {
		op.Data = syncproto.MustData(data)
	}
	return op
}

func createOp(c *hlcs, externalID string) syncproto.Op {
	return newOp(c, syncproto.NewOpID(), syncproto.KindCreate, agent, syncproto.CreateData{
		Channel: "twitter", ExternalID: externalID, Handle: "@pax", Text: "my wheelchair was not at the gate",
		Language: "en", ReceivedAt: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
	})
}

func assignOp(c *hlcs, enq uuid.UUID, flight string) syncproto.Op {
	return newOp(c, enq, syncproto.KindAssign, agent, syncproto.AssignData{FlightID: flight, PassengerName: "A. Passenger", Seat: "12C"})
}

func noteOp(c *hlcs, enq uuid.UUID, actor syncproto.Actor, text string) syncproto.Op {
	return newOp(c, enq, syncproto.KindNote, actor, syncproto.NoteData{Text: text})
}

func ackOp(c *hlcs, enq uuid.UUID, dev string) syncproto.Op {
	return newOp(c, enq, syncproto.KindAck, device(dev), nil)
}

func outcomeOp(c *hlcs, enq uuid.UUID, dev string, outcome syncproto.Status) syncproto.Op {
	return newOp(c, enq, syncproto.KindOutcome, device(dev), syncproto.OutcomeData{Outcome: outcome, Note: "done"})
}

func closeOp(c *hlcs, enq uuid.UUID, force bool) syncproto.Op {
	d := syncproto.CloseData{}
	if force {
		d = syncproto.CloseData{Force: true, Reason: "customer answered directly"}
	}
	return newOp(c, enq, syncproto.KindClose, agent, d)
}

var strict = store.Scope{Strict: true}

// MustApply applies ops and fails the test on a store error.
// A device's push is projected after Apply returns (store.SetProjected);
// projected holds, per store opened by MustOpenStoreAt, what the
// projection said of each op, so MustApply can answer as a ground write
// does.
var projected sync.Map // *store.Store -> *projections

type projections struct {
	mu   sync.Mutex
	byOp map[uuid.UUID]store.Result
}

func (p *projections) add(rs []store.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rs {
		p.byOp[r.ID] = r
	}
}

// MustApply applies ops. For a device's push it waits for the projection
// and returns the projected results of the applied ops (their state and
// flights), so tests check what the deferred projection did.
func MustApply(tb testing.TB, s *store.Store, scope store.Scope, ops ...syncproto.Op) []store.Result {
	tb.Helper()
	rs, err := s.Apply(context.Background(), ops, scope)
	if err != nil {
		tb.Fatalf("apply: %v", err)
	}
	if got, want := len(rs), len(ops); got != want {
		tb.Fatalf("results = %d, want %d", got, want)
	}
	if scope.Device == "" {
		return rs
	}
	if err := s.Project(context.Background()); err != nil {
		tb.Fatalf("project: %v", err)
	}
	v, ok := projected.Load(s)
	if !ok {
		return rs
	}
	pc := v.(*projections)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for i, r := range rs {
		if r.Result != syncproto.ResultApplied {
			continue
		}
		p, ok := pc.byOp[r.ID]
		if !ok {
			tb.Fatalf("op %s applied but never projected", r.ID)
		}
		if p.Seq != r.Seq {
			tb.Fatalf("op %s logged at %d, projected at %d", r.ID, r.Seq, p.Seq)
		}
		rs[i] = p
	}
	return rs
}

// MustApplyOK applies ops and fails the test unless every op is applied.
func MustApplyOK(tb testing.TB, s *store.Store, scope store.Scope, ops ...syncproto.Op) []store.Result {
	tb.Helper()
	rs := MustApply(tb, s, scope, ops...)
	for i, r := range rs {
		if r.Result != syncproto.ResultApplied {
			tb.Fatalf("op %d (%s): result %s %s %s, want applied", i, ops[i].Kind, r.Result, r.Code, r.Message)
		}
	}
	return rs
}

func MustEnquiry(tb testing.TB, s *store.Store, id uuid.UUID) (*syncproto.Enquiry, *store.Delivery) {
	tb.Helper()
	e, d, err := s.Enquiry(context.Background(), id)
	if err != nil {
		tb.Fatalf("enquiry %s: %v", id, err)
	}
	return e, d
}

func MustCreateDevice(tb testing.TB, s *store.Store, id, token string) {
	tb.Helper()
	d := &store.Device{ID: id, Name: "tablet " + id, TokenHash: store.HashToken(token), CreatedAt: time.Now().UTC()}
	if err := s.CreateDevice(context.Background(), d); err != nil {
		tb.Fatalf("create device: %v", err)
	}
}

func jsonOf(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func opIDs(ops []syncproto.Op) []uuid.UUID {
	ids := make([]uuid.UUID, len(ops))
	for i := range ops {
		ids[i] = ops[i].ID
	}
	return ids
}

func TestApply(t *testing.T) {
	// Ensure an agent's ops are applied in order with increasing sequences.
	t.Run("OK", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c, "tw-1")
		enq := create.Enquiry
		ops := []syncproto.Op{create, assignOp(c, enq, "F1"), noteOp(c, enq, agent, "called the station"), closeOp(c, enq, true)}
		rs := MustApplyOK(t, s, strict, ops...)
		for i, r := range rs {
			if got, want := r.ID, ops[i].ID; got != want {
				t.Errorf("result %d id = %s, want %s", i, got, want)
			}
			if got, want := r.Seq, uint64(i+1); got != want {
				t.Errorf("result %d seq = %d, want %d", i, got, want)
			}
		}
		if got, want := s.Head(), uint64(4); got != want {
			t.Errorf("head = %d, want %d", got, want)
		}
		e, _ := MustEnquiry(t, s, enq)
		if got, want := e.Status, syncproto.StatusClosed; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
		if got, want := e.FlightID, "F1"; got != want {
			t.Errorf("flight = %s, want %s", got, want)
		}
		if got, want := len(e.Notes), 1; got != want {
			t.Errorf("notes = %d, want %d", got, want)
		}
		if got, want := len(e.History), 4; got != want {
			t.Errorf("history = %d, want %d", got, want)
		}
		if got, want := rs[3].Enquiry.Status, syncproto.StatusClosed; got != want {
			t.Errorf("result enquiry status = %s, want %s", got, want)
		}
		stored, err := s.EnquiryOps(context.Background(), enq)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := opIDs(stored), opIDs(ops); !slices.Equal(got, want) {
			t.Errorf("enquiry ops = %v, want %v", got, want)
		}
	})

	// Ensure the same op again is a duplicate that changes nothing.
	t.Run("Duplicate", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c, "tw-1")
		note := noteOp(c, create.Enquiry, agent, "first")
		rs := MustApplyOK(t, s, strict, create, note)
		before, _ := MustEnquiry(t, s, create.Enquiry)
		head := s.Head()

		again := MustApply(t, s, strict, note, create)
		for i, r := range again {
			if got, want := r.Result, syncproto.ResultDuplicate; got != want {
				t.Errorf("op %d result = %s, want %s", i, got, want)
			}
		}
		if got, want := again[0].Seq, rs[1].Seq; got != want {
			t.Errorf("duplicate seq = %d, want the original %d", got, want)
		}
		if got, want := s.Head(), head; got != want {
			t.Errorf("head = %d, want %d", got, want)
		}
		after, _ := MustEnquiry(t, s, create.Enquiry)
		if got, want := jsonOf(t, after), jsonOf(t, before); got != want {
			t.Errorf("enquiry changed by a duplicate:\n got %s\nwant %s", got, want)
		}
	})

	// Ensure a second create for the same social message returns the
	// existing enquiry and stores nothing.
	t.Run("DuplicateExternalID", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		first := createOp(c, "tw-42")
		MustApplyOK(t, s, strict, first)
		head := s.Head()

		second := createOp(c, "tw-42")
		rs := MustApply(t, s, strict, second)
		if got, want := rs[0].Result, syncproto.ResultDuplicate; got != want {
			t.Fatalf("result = %s, want %s", got, want)
		}
		if rs[0].Enquiry == nil {
			t.Fatal("duplicate create returned no enquiry")
		}
		if got, want := rs[0].Enquiry.ID, first.Enquiry; got != want {
			t.Errorf("enquiry = %s, want the existing %s", got, want)
		}
		if got, want := s.Head(), head; got != want {
			t.Errorf("head = %d, want %d", got, want)
		}
		_, _, err := s.Enquiry(context.Background(), second.Enquiry)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second enquiry: err = %v, want ErrNotFound", err)
		}
		if got, want := syncproto.ErrorCode(err), syncproto.CodeNotFound; got != want {
			t.Errorf("code = %s, want %s", got, want)
		}
	})

	// Ensure an op for an enquiry the server does not know is refused.
	t.Run("ErrUnknownEnquiry", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		rs := MustApply(t, s, strict, noteOp(c, syncproto.NewOpID(), agent, "hello?"))
		if got, want := rs[0].Result, syncproto.ResultRefused; got != want {
			t.Errorf("result = %s, want %s", got, want)
		}
		if got, want := rs[0].Code, syncproto.CodeUnknownEnquiry; got != want {
			t.Errorf("code = %s, want %s", got, want)
		}
		if rs[0].Message == "" {
			t.Error("refusal has no message")
		}
		if got, want := s.Head(), uint64(0); got != want {
			t.Errorf("head = %d, want %d", got, want)
		}
	})

	// Ensure Strict refuses an illegal status change and changes nothing.
	t.Run("ErrIllegalTransition", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c, "tw-1")
		MustApplyOK(t, s, strict, create, assignOp(c, create.Enquiry, "F1"))
		before, _ := MustEnquiry(t, s, create.Enquiry)
		head := s.Head()

		for _, tc := range []struct {
			op   syncproto.Op
			code string
		}{
			{closeOp(c, create.Enquiry, false), syncproto.CodeIllegalTransition}, // crew outcome pending
			{newOp(c, create.Enquiry, syncproto.KindCreate, agent, syncproto.CreateData{Channel: "email", ExternalID: "x", Handle: "h", Text: "t", Language: "en"}), syncproto.CodeConflict},
		} {
			rs := MustApply(t, s, strict, tc.op)
			if got, want := rs[0].Result, syncproto.ResultRefused; got != want {
				t.Errorf("%s: result = %s, want %s", tc.op.Kind, got, want)
			}
			if got, want := rs[0].Code, tc.code; got != want {
				t.Errorf("%s: code = %s, want %s", tc.op.Kind, got, want)
			}
		}
		if got, want := s.Head(), head; got != want {
			t.Errorf("head = %d, want %d", got, want)
		}
		after, _ := MustEnquiry(t, s, create.Enquiry)
		if got, want := jsonOf(t, after), jsonOf(t, before); got != want {
			t.Errorf("enquiry changed by a refused op:\n got %s\nwant %s", got, want)
		}
		ops, err := s.EnquiryOps(context.Background(), create.Enquiry)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(ops), 2; got != want {
			t.Errorf("stored ops = %d, want %d", got, want)
		}
	})

	// Ensure the ops after a refused op in a batch are still applied.
	t.Run("RefusedDoesNotBlock", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c, "tw-1")
		enq := create.Enquiry
		batch := []syncproto.Op{
			create,
			noteOp(c, syncproto.NewOpID(), agent, "lost"), // unknown enquiry
			closeOp(c, enq, false),                        // a new enquiry may be closed
			assignOp(c, enq, "F1"),                        // illegal after close
			noteOp(c, enq, agent, "after"),
			{ID: uuid.New(), Enquiry: enq, Kind: syncproto.KindNote, HLC: c.next(), Actor: agent, Data: syncproto.MustData(syncproto.NoteData{Text: "v4 id"})}, // invalid
			noteOp(c, enq, agent, "last"),
		}
		rs := MustApply(t, s, strict, batch...)
		want := []string{
			syncproto.ResultApplied, syncproto.ResultRefused, syncproto.ResultApplied, syncproto.ResultRefused,
			syncproto.ResultApplied, syncproto.ResultRefused, syncproto.ResultApplied,
		}
		for i := range rs {
			if got := rs[i].Result; got != want[i] {
				t.Errorf("op %d result = %s (%s), want %s", i, got, rs[i].Message, want[i])
			}
		}
		if got, want := rs[3].Code, syncproto.CodeIllegalTransition; got != want {
			t.Errorf("assign after close: code = %s, want %s", got, want)
		}
		if got, want := rs[5].Code, syncproto.CodeInvalid; got != want {
			t.Errorf("non-v7 id: code = %s, want %s", got, want)
		}
		if got, want := s.Head(), uint64(4); got != want {
			t.Errorf("head = %d, want %d", got, want)
		}
		if got, want := rs[6].Seq, uint64(4); got != want {
			t.Errorf("last seq = %d, want %d", got, want)
		}
		e, _ := MustEnquiry(t, s, enq)
		if got, want := len(e.Notes), 2; got != want {
			t.Errorf("notes = %d, want %d", got, want)
		}
	})
}

func TestApply_DeviceScope(t *testing.T) {
	setup := func(t *testing.T) (*store.Store, *hlcs, uuid.UUID, uuid.UUID) {
		s, c := MustOpenStore(t), newHLCs()
		onF, onG := createOp(c, "tw-f"), createOp(c, "tw-g")
		MustApplyOK(t, s, strict, onF, onG, assignOp(c, onF.Enquiry, "F"), assignOp(c, onG.Enquiry, "G"))
		return s, c, onF.Enquiry, onG.Enquiry
	}
	d1 := store.Scope{Device: "d1", Flights: []string{"F"}}

	// Ensure a device's op on an enquiry of its flight is applied.
	t.Run("OK", func(t *testing.T) {
		s, c, onF, _ := setup(t)
		rs := MustApplyOK(t, s, d1, ackOp(c, onF, "d1"), noteOp(c, onF, device("d1"), "seat 12C asleep"))
		if got, want := rs[1].Enquiry.Status, syncproto.StatusAcknowledged; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
		if got, want := rs[0].Flights, []string{"F"}; !slices.Equal(got, want) {
			t.Errorf("flights = %v, want %v", got, want)
		}
	})

	// Ensure a device cannot write to an enquiry of a flight it does not serve.
	t.Run("ErrOutOfScope", func(t *testing.T) {
		s, c, _, onG := setup(t)
		before, _ := MustEnquiry(t, s, onG)
		head := s.Head()
		rs := MustApply(t, s, d1, ackOp(c, onG, "d1"))
		if got, want := rs[0].Result, syncproto.ResultRefused; got != want {
			t.Errorf("result = %s, want %s", got, want)
		}
		if got, want := rs[0].Code, syncproto.CodeOutOfScope; got != want {
			t.Errorf("code = %s, want %s", got, want)
		}
		if got, want := s.Head(), head; got != want {
			t.Errorf("head = %d, want %d", got, want)
		}
		after, _ := MustEnquiry(t, s, onG)
		if got, want := jsonOf(t, after), jsonOf(t, before); got != want {
			t.Errorf("enquiry changed:\n got %s\nwant %s", got, want)
		}
	})

	// Ensure a tablet that was sent an enquiry keeps the right to write to
	// it when a late op voids, in hindsight, the move that brought it:
	// its work is stored (the fold decides what it does), not refused.
	t.Run("MoveVoidedInHindsight", func(t *testing.T) {
		s, c, onF, _ := setup(t)
		resolved := outcomeOp(c, onF, "d1", syncproto.StatusResolved) // offline on F
		MustApplyOK(t, s, strict, assignOp(c, onF, "G"))
		d2 := store.Scope{Device: "d2", Flights: []string{"G"}}
		MustApplyOK(t, s, d2, ackOp(c, onF, "d2"))
		MustApplyOK(t, s, d1, resolved)
		if e, _ := MustEnquiry(t, s, onF); e.FlightID != "F" || slices.Contains(e.Flights, "G") {
			t.Fatalf("after the late outcome: flight %q, flights %v; want the move to G void", e.FlightID, e.Flights)
		}
		MustApplyOK(t, s, d2, noteOp(c, onF, device("d2"), "passenger asked for a blanket"))
		// A device whose flight never carried it is still refused.
		rs := MustApply(t, s, store.Scope{Device: "d3", Flights: []string{"H"}}, noteOp(c, onF, device("d3"), "x"))
		if got, want := rs[0].Code, syncproto.CodeOutOfScope; got != want {
			t.Errorf("code for a flight that never carried it = %s, want %s", got, want)
		}
	})

	// Ensure a device cannot push ops written by another device or an agent.
	t.Run("ErrForbidden", func(t *testing.T) {
		s, c, onF, _ := setup(t)
		before, _ := MustEnquiry(t, s, onF)
		head := s.Head()
		rs := MustApply(t, s, d1, ackOp(c, onF, "d2"), noteOp(c, onF, agent, "spoofed"))
		for i, r := range rs {
			if got, want := r.Code, syncproto.CodeForbidden; got != want {
				t.Errorf("op %d code = %s, want %s", i, got, want)
			}
		}
		if got, want := s.Head(), head; got != want {
			t.Errorf("head = %d, want %d", got, want)
		}
		after, _ := MustEnquiry(t, s, onF)
		if got, want := jsonOf(t, after), jsonOf(t, before); got != want {
			t.Errorf("enquiry changed:\n got %s\nwant %s", got, want)
		}
	})

	// Ensure crew work done before a move is accepted after it: the
	// enquiry's flight history keeps the old flight in scope.
	t.Run("AfterMove", func(t *testing.T) {
		s, c, onF, _ := setup(t)
		MustApplyOK(t, s, strict, assignOp(c, onF, "G"))
		// Written on board before the move reached the tablet.
		ack := ackOp(c, onF, "d1")
		outcome := outcomeOp(c, onF, "d1", syncproto.StatusResolved)
		rs := MustApply(t, s, d1, ack, outcome)
		for i, r := range rs {
			if got, want := r.Result, syncproto.ResultApplied; got != want {
				t.Errorf("op %d result = %s (%s %s), want %s", i, got, r.Code, r.Message, want)
			}
		}
		e, _ := MustEnquiry(t, s, onF)
		if got, want := e.FlightID, "G"; got != want {
			t.Errorf("flight = %s, want %s", got, want)
		}
		if got, want := e.Status, syncproto.StatusResolved; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
		if e.Resolution == nil || e.Resolution.OpID != outcome.ID {
			t.Errorf("resolution = %+v, want op %s", e.Resolution, outcome.ID)
		}
		// An enquiry never on F stays out of scope.
		other := createOp(c, "tw-h")
		MustApplyOK(t, s, strict, other, assignOp(c, other.Enquiry, "H"))
		if rs := MustApply(t, s, d1, ackOp(c, other.Enquiry, "d1")); rs[0].Code != syncproto.CodeOutOfScope {
			t.Errorf("code = %s, want %s", rs[0].Code, syncproto.CodeOutOfScope)
		}
	})
}

func TestChanges(t *testing.T) {
	ctx := context.Background()

	// Ensure a flight's feed brings an assigned enquiry's earlier ops.
	t.Run("Join", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c, "tw-1")
		MustApplyOK(t, s, strict, create)
		if p, err := s.Changes(ctx, "F", 0, 100, ""); err != nil {
			t.Fatal(err)
		} else if got, want := len(p.Ops), 0; got != want {
			t.Errorf("ops before assign = %d, want %d", got, want)
		}
		assign := assignOp(c, create.Enquiry, "F")
		rs := MustApplyOK(t, s, strict, assign)
		p, err := s.Changes(ctx, "F", 0, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := opIDs(p.Ops), []uuid.UUID{create.ID, assign.ID}; !slices.Equal(got, want) {
			t.Errorf("ops = %v, want %v", got, want)
		}
		if got, want := p.Cursor, rs[0].Seq; got != want {
			t.Errorf("cursor = %d, want %d", got, want)
		}
		if p.More {
			t.Error("more = true, want false")
		}
		// Nothing after the cursor.
		p, err = s.Changes(ctx, "F", p.Cursor, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(p.Ops), 0; got != want {
			t.Errorf("ops after cursor = %d, want %d", got, want)
		}
		if got, want := p.Cursor, rs[0].Seq; got != want {
			t.Errorf("cursor = %d, want %d", got, want)
		}
	})

	// Ensure an offline crew op that sorts before ops already folded
	// reaches the tablets of every flight the enquiry was ever on with its
	// whole history: here an outcome recorded on flight F before the
	// agent's recall makes the recall void, so the agent's later assign
	// to G now moves the enquiry off F, and F's tablets, which were only
	// told of the recall, must learn of the move.
	t.Run("ReorderedHistoryRejoins", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c, "tw-r")
		enq := create.Enquiry
		assignF := assignOp(c, enq, "F")
		MustApplyOK(t, s, strict, create, assignF)
		outcome := outcomeOp(c, enq, "d1", syncproto.StatusPassengerNotOnBoard) // recorded offline
		recall := newOp(c, enq, syncproto.KindRecall, agent, syncproto.RecallData{Reason: "wrong flight"})
		assignG := assignOp(c, enq, "G")
		MustApplyOK(t, s, strict, recall, assignG)
		p, err := s.Changes(ctx, "F", 0, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		cursor := p.Cursor
		if got, want := opIDs(p.Ops), []uuid.UUID{create.ID, assignF.ID, recall.ID}; !slices.Equal(got, want) {
			t.Fatalf("F before the outcome = %v, want %v", got, want)
		}
		MustApplyOK(t, s, store.Scope{Device: "d1", Flights: []string{"F"}}, outcome)
		e, _ := MustEnquiry(t, s, enq)
		if e.FlightID != "G" {
			t.Fatalf("flight after the outcome = %q, want G", e.FlightID)
		}
		// Another tablet of F: the whole history, from which it folds the
		// move to G.
		p, err = s.Changes(ctx, "F", cursor, 100, "d2")
		if err != nil {
			t.Fatal(err)
		}
		if got := syncproto.Fold(p.Ops); got.FlightID != "G" {
			t.Errorf("F's tablet folds %q from %v, want G", got.FlightID, opIDs(p.Ops))
		}
		if !slices.Contains(opIDs(p.Ops), assignG.ID) {
			t.Errorf("F's feed after the outcome = %v lacks the assign to G", opIDs(p.Ops))
		}
		// The author too gets the join, its own op left in: it may hold
		// the enquiry on F.
		p, err = s.Changes(ctx, "F", cursor, 100, "d1")
		if err != nil {
			t.Fatal(err)
		}
		if got := syncproto.Fold(p.Ops); got.FlightID != "G" {
			t.Errorf("the author folds %q from %v, want G", got.FlightID, opIDs(p.Ops))
		}
	})

	// Ensure paging with a small limit is resumable and gives every op once.
	t.Run("Paging", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		var want []uuid.UUID
		var enqs []uuid.UUID
		for i := range 5 {
			create := createOp(c, fmt.Sprintf("tw-%d", i))
			MustApplyOK(t, s, strict, create)
			enqs = append(enqs, create.Enquiry)
			MustApplyOK(t, s, strict, noteOp(c, create.Enquiry, agent, "before assign"))
		}
		// Each assign joins the enquiry to F: create, note, assign.
		for _, id := range enqs {
			ops, _ := s.EnquiryOps(ctx, id)
			want = append(want, opIDs(ops)...)
			a := assignOp(c, id, "F")
			MustApplyOK(t, s, strict, a)
			want = append(want, a.ID)
		}
		for _, id := range enqs {
			n := noteOp(c, id, agent, "after assign")
			MustApplyOK(t, s, strict, n)
			want = append(want, n.ID)
		}
		ack := ackOp(c, enqs[0], "d1")
		MustApplyOK(t, s, store.Scope{Device: "d1", Flights: []string{"F"}}, ack)
		want = append(want, ack.ID)
		// Ops on another flight never show.
		other := createOp(c, "tw-g")
		MustApplyOK(t, s, strict, other, assignOp(c, other.Enquiry, "G"))

		for _, limit := range []int{1, 2, 3, 7, 1000} {
			t.Run(fmt.Sprint(limit), func(t *testing.T) {
				var got []uuid.UUID
				var cursor uint64
				for pages := 0; ; pages++ {
					if pages > 100 {
						t.Fatal("paging does not end")
					}
					p, err := s.Changes(ctx, "F", cursor, limit, "")
					if err != nil {
						t.Fatal(err)
					}
					if p.Cursor < cursor {
						t.Fatalf("cursor went back from %d to %d", cursor, p.Cursor)
					}
					if p.More && p.Cursor == cursor {
						t.Fatalf("page at %d made no progress", cursor)
					}
					// A join (create, note, assign here) is never split, so
					// a page may pass the limit by what one join adds.
					if len(p.Ops) > limit+2 {
						t.Errorf("page at %d has %d ops, limit %d", cursor, len(p.Ops), limit)
					}
					got = append(got, opIDs(p.Ops)...)
					cursor = p.Cursor
					if !p.More {
						if limit < len(want) && pages == 0 {
							t.Errorf("one page of %d ops with limit %d", len(p.Ops), limit)
						}
						break
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("ops = %v\nwant %v", got, want)
				}
				head, err := s.FlightHead(ctx, "F")
				if err != nil {
					t.Fatal(err)
				}
				if got, want := cursor, head; got != want {
					t.Errorf("final cursor = %d, want flight head %d", got, want)
				}
			})
		}
	})

	// Ensure skipDevice leaves out the device's own ops but advances the
	// cursor past them, and keeps them inside a join.
	t.Run("SkipDevice", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c, "tw-1")
		MustApplyOK(t, s, strict, create, assignOp(c, create.Enquiry, "F"))
		start := s.Head()
		ack := noteOp(c, create.Enquiry, device("d1"), "seen")
		rs := MustApplyOK(t, s, store.Scope{Device: "d1", Flights: []string{"F"}}, ack)

		p, err := s.Changes(ctx, "F", start, 100, "d1")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(p.Ops), 0; got != want {
			t.Errorf("ops = %d, want %d", got, want)
		}
		if got, want := p.Cursor, rs[0].Seq; got != want {
			t.Errorf("cursor = %d, want %d", got, want)
		}
		p, err = s.Changes(ctx, "F", start, 100, "d2")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := opIDs(p.Ops), []uuid.UUID{ack.ID}; !slices.Equal(got, want) {
			t.Errorf("ops for another device = %v, want %v", got, want)
		}

		// A move to G joins the enquiry to G with its whole history,
		// d1's ack included: d1 may have purged it.
		move := assignOp(c, create.Enquiry, "G")
		MustApplyOK(t, s, strict, move)
		p, err = s.Changes(ctx, "G", 0, 100, "d1")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(p.Ops), 4; got != want {
			t.Errorf("join ops = %d, want %d", got, want)
		}
		if !slices.Contains(opIDs(p.Ops), ack.ID) {
			t.Error("join left out the device's own op")
		}
	})

	// Ensure a move puts the op in the feeds of both flights.
	t.Run("Move", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c, "tw-1")
		MustApplyOK(t, s, strict, create, assignOp(c, create.Enquiry, "F"))
		pf, err := s.Changes(ctx, "F", 0, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		move := assignOp(c, create.Enquiry, "G")
		rs := MustApplyOK(t, s, strict, move)
		if got, want := rs[0].Flights, []string{"G", "F"}; !slices.Equal(got, want) {
			t.Errorf("result flights = %v, want %v", got, want)
		}
		p, err := s.Changes(ctx, "F", pf.Cursor, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := opIDs(p.Ops), []uuid.UUID{move.ID}; !slices.Equal(got, want) {
			t.Errorf("F ops = %v, want %v", got, want)
		}
		p, err = s.Changes(ctx, "G", 0, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := opIDs(p.Ops); len(got) == 0 || got[len(got)-1] != move.ID {
			t.Errorf("G ops = %v, want ending with %v", got, move.ID)
		}
		for _, fl := range []string{"F", "G"} {
			head, err := s.FlightHead(ctx, fl)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := head, rs[0].Seq; got != want {
				t.Errorf("FlightHead(%s) = %d, want %d", fl, got, want)
			}
		}
		// Ops after the move go to G only.
		note := noteOp(c, create.Enquiry, agent, "on G now")
		MustApplyOK(t, s, strict, note)
		if head, _ := s.FlightHead(ctx, "F"); head != rs[0].Seq {
			t.Errorf("FlightHead(F) = %d, want %d", head, rs[0].Seq)
		}
		if head, _ := s.FlightHead(ctx, "G"); head != s.Head() {
			t.Errorf("FlightHead(G) = %d, want %d", head, s.Head())
		}
	})

	// Ensure FlightHead reads only the flight's own feed, whatever flights
	// sort before or after it.
	t.Run("FlightHead", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		for _, fl := range []string{"KL10", "KL1", "KL100", "KL2"} {
			create := createOp(c, "tw-"+fl)
			MustApplyOK(t, s, strict, create, assignOp(c, create.Enquiry, fl))
		}
		for fl, want := range map[string]uint64{"KL10": 2, "KL1": 4, "KL100": 6, "KL2": 8, "KL": 0, "KL3": 0, "A": 0, "Z": 0} {
			got, err := s.FlightHead(ctx, fl)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("FlightHead(%q) = %d, want %d", fl, got, want)
			}
		}
	})
}

func TestAckChanges(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*store.Store, *hlcs, uuid.UUID, store.Result) {
		s, c := MustOpenStore(t), newHLCs()
		MustCreateDevice(t, s, "d1", "secret-1")
		MustCreateDevice(t, s, "d2", "secret-2")
		create := createOp(c, "tw-1")
		rs := MustApplyOK(t, s, strict, create, assignOp(c, create.Enquiry, "F"))
		return s, c, create.Enquiry, rs[1]
	}
	status := func(t *testing.T, s *store.Store, id uuid.UUID) syncproto.Status {
		t.Helper()
		return store.EffectiveStatus(MustEnquiry(t, s, id))
	}

	// Ensure acking the assign's sequence gives the enquiry a receipt.
	t.Run("OK", func(t *testing.T) {
		s, _, enq, assign := setup(t)
		if got, want := status(t, s, enq), syncproto.StatusAssigned; got != want {
			t.Errorf("status before ack = %s, want %s", got, want)
		}
		// A cursor before the assign delivers nothing.
		if got, err := s.AckChanges(ctx, "d1", "F", assign.Seq-1); err != nil || len(got) != 0 {
			t.Errorf("ack before assign = %v, %v; want none", got, err)
		}
		got, err := s.AckChanges(ctx, "d1", "F", assign.Seq)
		if err != nil {
			t.Fatal(err)
		}
		if want := []uuid.UUID{enq}; !slices.Equal(got, want) {
			t.Errorf("delivered = %v, want %v", got, want)
		}
		if got, want := status(t, s, enq), syncproto.StatusDelivered; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
		_, d := MustEnquiry(t, s, enq)
		if d == nil {
			t.Fatal("no delivery")
		}
		if got, want := d.AssignOp, assign.ID; got != want {
			t.Errorf("delivery assign op = %s, want %s", got, want)
		}
		if got, want := d.DeviceID, "d1"; got != want {
			t.Errorf("delivery device = %s, want %s", got, want)
		}
		dev, err := s.Device(ctx, "d1")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := dev.Cursors["F"], assign.Seq; got != want {
			t.Errorf("device cursor = %d, want %d", got, want)
		}
		if dev.LastSync == nil {
			t.Error("last sync not set")
		}
	})

	// Ensure acking again, or lower, changes nothing.
	t.Run("Repeat", func(t *testing.T) {
		s, _, enq, assign := setup(t)
		if _, err := s.AckChanges(ctx, "d1", "F", assign.Seq); err != nil {
			t.Fatal(err)
		}
		_, first := MustEnquiry(t, s, enq)
		for _, cur := range []uint64{assign.Seq, assign.Seq - 1, 0} {
			got, err := s.AckChanges(ctx, "d1", "F", cur)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Errorf("ack %d delivered %v, want none", cur, got)
			}
		}
		dev, err := s.Device(ctx, "d1")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := dev.Cursors["F"], assign.Seq; got != want {
			t.Errorf("device cursor = %d, want %d", got, want)
		}
		_, d := MustEnquiry(t, s, enq)
		if got, want := jsonOf(t, d), jsonOf(t, first); got != want {
			t.Errorf("delivery = %s, want %s", got, want)
		}
		// Another device's ack does not replace the receipt either.
		if got, err := s.AckChanges(ctx, "d2", "F", assign.Seq); err != nil || len(got) != 0 {
			t.Errorf("d2 ack = %v, %v; want none", got, err)
		}
		_, d = MustEnquiry(t, s, enq)
		if got, want := d.DeviceID, "d1"; got != want {
			t.Errorf("delivery device = %s, want %s", got, want)
		}
	})

	// Ensure a new hand-off needs its own receipt, on the same flight or
	// on another one.
	t.Run("Reassign", func(t *testing.T) {
		s, c, enq, assign := setup(t)
		if _, err := s.AckChanges(ctx, "d1", "F", assign.Seq); err != nil {
			t.Fatal(err)
		}
		// Re-assigned on the same flight (another seat).
		rs := MustApplyOK(t, s, strict, assignOp(c, enq, "F"))
		if got, want := status(t, s, enq), syncproto.StatusAssigned; got != want {
			t.Errorf("status after re-assign = %s, want %s", got, want)
		}
		if _, d := MustEnquiry(t, s, enq); d != nil {
			t.Errorf("delivery = %+v, want none", d)
		}
		got, err := s.AckChanges(ctx, "d1", "F", rs[0].Seq)
		if err != nil {
			t.Fatal(err)
		}
		if want := []uuid.UUID{enq}; !slices.Equal(got, want) {
			t.Errorf("delivered after re-assign = %v, want %v", got, want)
		}
		if got, want := status(t, s, enq), syncproto.StatusDelivered; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}

		// Moved to G: F's receipt no longer counts; G's device delivers it.
		rs = MustApplyOK(t, s, strict, assignOp(c, enq, "G"))
		if got, want := status(t, s, enq), syncproto.StatusAssigned; got != want {
			t.Errorf("status after move = %s, want %s", got, want)
		}
		if got, err := s.AckChanges(ctx, "d1", "F", rs[0].Seq); err != nil || len(got) != 0 {
			t.Errorf("F ack after move = %v, %v; want none", got, err)
		}
		if got, want := status(t, s, enq), syncproto.StatusAssigned; got != want {
			t.Errorf("status after F ack = %s, want %s", got, want)
		}
		if got, err := s.AckChanges(ctx, "d2", "G", rs[0].Seq); err != nil || !slices.Equal(got, []uuid.UUID{enq}) {
			t.Errorf("G ack = %v, %v; want [%s]", got, err, enq)
		}
		_, d := MustEnquiry(t, s, enq)
		if d == nil || d.DeviceID != "d2" || d.AssignOp != rs[0].ID {
			t.Errorf("delivery = %+v, want d2 for %s", d, rs[0].ID)
		}
	})

	// Ensure an unknown device cannot ack.
	t.Run("ErrNotFound", func(t *testing.T) {
		s, _, _, assign := setup(t)
		_, err := s.AckChanges(ctx, "nobody", "F", assign.Seq)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
		if got, want := syncproto.ErrorCode(err), syncproto.CodeNotFound; got != want {
			t.Errorf("code = %s, want %s", got, want)
		}
	})
}

func TestApply_Concurrent(t *testing.T) {
	ctx := context.Background()

	// Ensure concurrent writers share commits without losing or reusing
	// a sequence.
	t.Run("OK", func(t *testing.T) {
		const writers, perWriter = 20, 50
		s, c := MustOpenStore(t), newHLCs()
		seqs := make([][]uint64, writers)
		enqs := make([]uuid.UUID, writers)
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			create := createOp(c, fmt.Sprintf("tw-%d", w))
			enqs[w] = create.Enquiry
			ops := []syncproto.Op{create}
			for i := 1; i < perWriter; i++ {
				ops = append(ops, noteOp(c, create.Enquiry, agent, fmt.Sprintf("note %d", i)))
			}
			wg.Go(func() {
				for i := range ops {
					rs, err := s.Apply(ctx, ops[i:i+1], strict)
					if err != nil {
						errs <- err
						return
					}
					if rs[0].Result != syncproto.ResultApplied {
						errs <- fmt.Errorf("writer %d op %d: %s %s", w, i, rs[0].Result, rs[0].Message)
						return
					}
					seqs[w] = append(seqs[w], rs[0].Seq)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var all []uint64
		for _, ss := range seqs {
			all = append(all, ss...)
		}
		slices.Sort(all)
		for i, seq := range all {
			if seq != uint64(i+1) {
				t.Fatalf("sequences are not 1..%d: position %d holds %d", writers*perWriter, i, seq)
			}
		}
		if got, want := len(all), writers*perWriter; got != want {
			t.Errorf("applied = %d, want %d", got, want)
		}
		if got, want := s.Head(), uint64(writers*perWriter); got != want {
			t.Errorf("head = %d, want %d", got, want)
		}
		for _, id := range enqs {
			e, _ := MustEnquiry(t, s, id)
			if got, want := len(e.Notes), perWriter-1; got != want {
				t.Errorf("enquiry %s notes = %d, want %d", id, got, want)
			}
		}
	})

	// Ensure one op pushed twice at once is stored once.
	t.Run("SameOp", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c, "tw-1")
		MustApplyOK(t, s, strict, create)
		for round := range 20 {
			note := noteOp(c, create.Enquiry, agent, fmt.Sprintf("round %d", round))
			head := s.Head()
			results := make([]string, 2)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() {
					<-start
					rs, err := s.Apply(ctx, []syncproto.Op{note}, strict)
					if err != nil {
						t.Error(err)
						return
					}
					results[i] = rs[0].Result
				})
			}
			close(start)
			wg.Wait()
			slices.Sort(results)
			if got, want := results, []string{syncproto.ResultApplied, syncproto.ResultDuplicate}; !slices.Equal(got, want) {
				t.Fatalf("round %d: results = %v, want %v", round, got, want)
			}
			if got, want := s.Head(), head+1; got != want {
				t.Fatalf("round %d: head = %d, want %d", round, got, want)
			}
		}
		e, _ := MustEnquiry(t, s, create.Enquiry)
		if got, want := len(e.Notes), 20; got != want {
			t.Errorf("notes = %d, want %d", got, want)
		}
	})
}

func TestOpen_Restart(t *testing.T) {
	// Ensure a restart keeps the epoch, the head, the clock and the data.
	path := filepath.Join(t.TempDir(), "ground.db")
	c := newHLCs()
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	create := createOp(c, "tw-1")
	ops := []syncproto.Op{create, assignOp(c, create.Enquiry, "F"), noteOp(c, create.Enquiry, agent, "n")}
	// A late op with a high HLC, then one with a lower HLC.
	late := noteOp(c, create.Enquiry, agent, "late")
	ops = append(ops, late, noteOp(c, create.Enquiry, agent, "early"))
	ops[4].HLC = ops[1].HLC + 1
	MustApplyOK(t, s, store.Scope{}, ops...)
	epoch, head := s.Epoch(), s.Head()
	before, _ := MustEnquiry(t, s, create.Enquiry)
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = MustOpenStoreAt(t, path)
	if got, want := s.Epoch(), epoch; got != want {
		t.Errorf("epoch = %s, want %s", got, want)
	}
	if epoch == "" {
		t.Error("epoch is empty")
	}
	if got, want := s.Head(), head; got != want {
		t.Errorf("head = %d, want %d", got, want)
	}
	if got, want := s.MaxHLC(), late.HLC; got < want {
		t.Errorf("max HLC = %s, want at least %s", got, want)
	}
	after, _ := MustEnquiry(t, s, create.Enquiry)
	if !reflect.DeepEqual(after, before) {
		t.Errorf("enquiry after restart:\n got %s\nwant %s", jsonOf(t, after), jsonOf(t, before))
	}
	if got, want := len(after.Notes), 3; got != want {
		t.Errorf("notes = %d, want %d", got, want)
	}
	// The sequence carries on from the head.
	rs := MustApplyOK(t, s, strict, noteOp(c, create.Enquiry, agent, "after restart"))
	if got, want := rs[0].Seq, head+1; got != want {
		t.Errorf("seq after restart = %d, want %d", got, want)
	}
	// Another file is another database.
	other := MustOpenStore(t)
	if other.Epoch() == epoch {
		t.Error("two databases share an epoch")
	}
}

func TestOpen_NotADatabase(t *testing.T) {
	// Ensure a file that is not a store is refused and left as it was.
	path := filepath.Join(t.TempDir(), "ground.db")
	junk := bytes.Repeat([]byte("not a bbolt file "), 1000)
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := store.Open(path); err == nil {
		s.Close()
		t.Fatal("open succeeded")
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, junk) {
		t.Error("open changed the file")
	}
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	MustCreateDevice(t, s, "d1", "token-1")
	MustCreateDevice(t, s, "d2", "token-2")
	revokedAt := time.Now().UTC()
	if err := s.UpdateDevice(ctx, "d2", func(d *store.Device) error { d.RevokedAt = &revokedAt; return nil }); err != nil {
		t.Fatal(err)
	}

	// Ensure the right token authenticates its device.
	t.Run("OK", func(t *testing.T) {
		d, err := s.Authenticate(ctx, "d1", "token-1")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := d.ID, "d1"; got != want {
			t.Errorf("device = %s, want %s", got, want)
		}
	})

	// Ensure bad credentials are refused with the right code.
	for _, tc := range []struct {
		name, id, token, code string
	}{
		{"ErrWrongToken", "d1", "token-2", syncproto.CodeUnauthorized},
		{"ErrEmptyToken", "d1", "", syncproto.CodeUnauthorized},
		{"ErrUnknownDevice", "d9", "token-1", syncproto.CodeUnauthorized},
		{"ErrRevoked", "d2", "token-2", syncproto.CodeRevoked},
		{"ErrRevokedWrongToken", "d2", "token-1", syncproto.CodeUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.Authenticate(ctx, tc.id, tc.token)
			if err == nil {
				t.Fatalf("authenticated %+v, want an error", d)
			}
			if got, want := syncproto.ErrorCode(err), tc.code; got != want {
				t.Errorf("code = %s, want %s", got, want)
			}
		})
	}

	// Ensure a device id is registered once.
	t.Run("ErrConflict", func(t *testing.T) {
		err := s.CreateDevice(ctx, &store.Device{ID: "d1", TokenHash: store.HashToken("other")})
		if got, want := syncproto.ErrorCode(err), syncproto.CodeConflict; got != want {
			t.Errorf("code = %s, want %s", got, want)
		}
		if _, err := s.Authenticate(ctx, "d1", "token-1"); err != nil {
			t.Errorf("original token no longer works: %v", err)
		}
	})
}

func TestEnquiries(t *testing.T) {
	ctx := context.Background()
	s, c := MustOpenStore(t), newHLCs()
	MustCreateDevice(t, s, "d1", "t")
	mk := func(ext string, more ...func(uuid.UUID) []syncproto.Op) uuid.UUID {
		create := createOp(c, ext)
		MustApplyOK(t, s, strict, create)
		for _, m := range more {
			MustApplyOK(t, s, strict, m(create.Enquiry)...)
		}
		return create.Enquiry
	}
	assignTo := func(fl string) func(uuid.UUID) []syncproto.Op {
		return func(id uuid.UUID) []syncproto.Op { return []syncproto.Op{assignOp(c, id, fl)} }
	}
	newEnq := mk("tw-new")
	assignedF := mk("tw-af", assignTo("F"))
	deliveredF := mk("tw-df", assignTo("F"))
	assignedG := mk("tw-ag", assignTo("G"))
	closed := mk("tw-closed", func(id uuid.UUID) []syncproto.Op { return []syncproto.Op{closeOp(c, id, false)} })
	head, _ := s.FlightHead(ctx, "F")
	if _, err := s.AckChanges(ctx, "d1", "F", head); err != nil {
		t.Fatal(err)
	}
	// Only deliveredF was assigned when the ack covered F... and so was
	// assignedF: re-assign it so its receipt no longer counts.
	MustApplyOK(t, s, strict, assignOp(c, assignedF, "F"))

	for _, tc := range []struct {
		name   string
		filter store.Filter
		want   []uuid.UUID
	}{
		{"All", store.Filter{}, []uuid.UUID{closed, assignedG, deliveredF, assignedF, newEnq}},
		{"New", store.Filter{Status: syncproto.StatusNew}, []uuid.UUID{newEnq}},
		{"Assigned", store.Filter{Status: syncproto.StatusAssigned}, []uuid.UUID{assignedG, assignedF}},
		{"Delivered", store.Filter{Status: syncproto.StatusDelivered}, []uuid.UUID{deliveredF}},
		{"Closed", store.Filter{Status: syncproto.StatusClosed}, []uuid.UUID{closed}},
		{"Flight", store.Filter{FlightID: "F"}, []uuid.UUID{deliveredF, assignedF}},
		{"FlightAndStatus", store.Filter{FlightID: "F", Status: syncproto.StatusAssigned}, []uuid.UUID{assignedF}},
		{"OtherFlight", store.Filter{FlightID: "G"}, []uuid.UUID{assignedG}},
		{"NoFlight", store.Filter{FlightID: "X"}, nil},
		{"Limit", store.Filter{Limit: 2}, []uuid.UUID{closed, assignedG}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, err := s.Enquiries(ctx, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []uuid.UUID
			for _, l := range list {
				got = append(got, l.Enquiry.ID)
				if want := l.Enquiry.ID == deliveredF; (l.Delivery != nil) != want {
					t.Errorf("enquiry %s delivery = %+v, want present %v", l.Enquiry.ID, l.Delivery, want)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("enquiries = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFlights(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	for _, f := range []store.Flight{
		{ID: "KL0641-2026-11-24", Number: "KL0641", Date: "2026-11-24"},
		{ID: "KL0641-2026-11-23", Number: "KL0641", Date: "2026-11-23"},
		{ID: "AF0012-2026-11-23", Number: "AF0012", Date: "2026-11-23"},
	} {
		if err := s.CreateFlight(ctx, &f); err != nil {
			t.Fatal(err)
		}
	}
	// Ensure a flight id is created once.
	err := s.CreateFlight(ctx, &store.Flight{ID: "KL0641-2026-11-23"})
	if got, want := syncproto.ErrorCode(err), syncproto.CodeConflict; got != want {
		t.Errorf("code = %s, want %s", got, want)
	}
	list, err := s.Flights(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range list {
		got = append(got, f.ID)
	}
	if want := []string{"AF0012-2026-11-23", "KL0641-2026-11-23", "KL0641-2026-11-24"}; !slices.Equal(got, want) {
		t.Errorf("flights = %v, want %v", got, want)
	}
	f, err := s.Flight(ctx, "KL0641-2026-11-23")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Date, "2026-11-23"; got != want {
		t.Errorf("date = %s, want %s", got, want)
	}
	if _, err := s.Flight(ctx, "XX"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func BenchmarkGroundApplyBatch(b *testing.B) {
	ctx := context.Background()
	s, c := MustOpenStore(b), newHLCs()
	const batch = 500
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ops := make([]syncproto.Op, 0, batch)
		for len(ops) < batch {
			create := createOp(c, fmt.Sprintf("tw-%d-%d", i, len(ops)))
			ops = append(ops, create, assignOp(c, create.Enquiry, "F"))
		}
		rs, err := s.Apply(ctx, ops, strict)
		if err != nil {
			b.Fatal(err)
		}
		if rs[batch-1].Result != syncproto.ResultApplied {
			b.Fatalf("result = %s %s", rs[batch-1].Result, rs[batch-1].Message)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkGroundPushEdits is the shape of the CouchDB comparison's (b): a
// ground holding 10,000 enquiries on 50 flights, and a tablet serving them
// pushing 1,000 outcomes, each on a different enquiry, in one batch.
func BenchmarkGroundPushEdits(b *testing.B) {
	for _, p := range []bool{false, true} {
		b.Run(fmt.Sprintf("projected=%d", map[bool]int{true: 1}[p]), func(b *testing.B) { benchPushEdits(b, p) })
	}
}

func benchPushEdits(b *testing.B, withProjection bool) {
	ctx := context.Background()
	s, c := MustOpenStore(b), newHLCs()
	const enquiries, flights, edits = 10000, 50, 1000
	ids := make([]uuid.UUID, 0, enquiries)
	var scope store.Scope
	for f := range flights {
		scope.Flights = append(scope.Flights, fmt.Sprintf("KL%04d-2026-11-23", f))
	}
	for len(ids) < enquiries {
		ops := make([]syncproto.Op, 0, 2000)
		for range 1000 {
			create := createOp(c, fmt.Sprintf("tw-%d", len(ids)))
			ops = append(ops, create, assignOp(c, create.Enquiry, scope.Flights[len(ids)%flights]))
			ids = append(ids, create.Enquiry)
		}
		if _, err := s.Apply(ctx, ops, strict); err != nil {
			b.Fatal(err)
		}
	}
	scope.Device = "dev-1"
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ops := make([]syncproto.Op, edits)
		for j := range ops {
			ops[j] = newOp(c, ids[(j*enquiries/edits+i)%enquiries], syncproto.KindOutcome, device("dev-1"),
				syncproto.OutcomeData{Outcome: syncproto.StatusResolved, Note: "Spoke to the passenger in person; sorted before landing."})
		}
		rs, err := s.Apply(ctx, ops, scope)
		if err != nil {
			b.Fatal(err)
		}
		if rs[edits-1].Result != syncproto.ResultApplied {
			b.Fatalf("result = %s %s", rs[edits-1].Result, rs[edits-1].Message)
		}
		// The push is acknowledged here; its projection follows off the
		// push's path. projected=1 counts it in, as a busy ground pays it
		// before the next push's commit.
		if !withProjection {
			b.StopTimer()
		}
		if err := s.Project(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
