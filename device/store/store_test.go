package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

const thisDevice = "d1"

// MustOpenStore opens a device store for thisDevice, serving flight "F",
// in a temporary directory. Cleanup checks the file's integrity, then
// closes it.
func MustOpenStore(tb testing.TB) *Store {
	tb.Helper()
	s := MustOpenStoreAt(tb, filepath.Join(tb.TempDir(), "device.db"))
	if err := s.SetDeviceID(thisDevice); err != nil {
		tb.Fatal(err)
	}
	if err := s.OpenFlight("F"); err != nil {
		tb.Fatal(err)
	}
	return s
}

// MustOpenStoreAt opens the store at path, with the same cleanup as
// MustOpenStore.
func MustOpenStoreAt(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { MustClose(tb, s) })
	return s
}

// MustClose checks the store's integrity and closes it; closing twice is
// harmless, so a test may close early to reopen the file.
func MustClose(tb testing.TB, s *Store) {
	tb.Helper()
	if err := s.db.View(func(*bolt.Tx) error { return nil }); errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return // closed already
	}
	if err := s.check(); err != nil {
		tb.Errorf("integrity check: %v", err)
	}
	if err := s.Close(); err != nil {
		tb.Errorf("close: %v", err)
	}
}

// reopen closes s and opens its file again.
func reopen(tb testing.TB, s *Store) *Store {
	tb.Helper()
	path := s.db.Path()
	MustClose(tb, s)
	return MustOpenStoreAt(tb, path)
}

var agent = syncproto.Actor{Type: syncproto.ActorAgent, ID: "agent-1", Name: "Ana"}

func deviceActor(id string) syncproto.Actor {
	return syncproto.Actor{Type: syncproto.ActorDevice, ID: id, Name: "Purser " + id}
}

// hlcs issues strictly increasing ground timestamps near now.
type hlcs struct{ h syncproto.HLC }

func newHLCs() *hlcs { return &hlcs{h: syncproto.MakeHLC(time.Now().UnixMilli(), 0)} }

func (c *hlcs) next() syncproto.HLC { c.h++; return c.h }

func newOp(h syncproto.HLC, enq uuid.UUID, kind syncproto.Kind, actor syncproto.Actor, data any) syncproto.Op {
	op := syncproto.Op{ID: syncproto.NewOpID(), Enquiry: enq, Kind: kind, HLC: h, Actor: actor}
	if data != nil {
		op.Data = syncproto.MustData(data)
	}
	return op
}

func createOp(c *hlcs) syncproto.Op {
	return newOp(c.next(), syncproto.NewOpID(), syncproto.KindCreate, agent, syncproto.CreateData{
		Channel: "instagram", ExternalID: uuid.NewString(), Handle: "@pax", Text: "no vegetarian meal on board",
		Language: "en", ReceivedAt: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
	})
}

func assignOp(c *hlcs, enq uuid.UUID, flight string) syncproto.Op {
	return newOp(c.next(), enq, syncproto.KindAssign, agent, syncproto.AssignData{FlightID: flight, PassengerName: "A. Passenger", Seat: "3A"})
}

func agentNote(c *hlcs, enq uuid.UUID, text string) syncproto.Op {
	return newOp(c.next(), enq, syncproto.KindNote, agent, syncproto.NoteData{Text: text})
}

// crew ops are stamped by the store's own clock, like the device API does.
func ackOp(s *Store, enq uuid.UUID) syncproto.Op {
	return newOp(s.Clock.Tick(), enq, syncproto.KindAck, deviceActor(thisDevice), nil)
}

func outcomeOp(s *Store, enq uuid.UUID, outcome syncproto.Status) syncproto.Op {
	return newOp(s.Clock.Tick(), enq, syncproto.KindOutcome, deviceActor(thisDevice), syncproto.OutcomeData{Outcome: outcome})
}

func crewNote(s *Store, enq uuid.UUID, text string) syncproto.Op {
	return newOp(s.Clock.Tick(), enq, syncproto.KindNote, deviceActor(thisDevice), syncproto.NoteData{Text: text})
}

// deliver sends a new enquiry to flight through ApplyChanges, as the
// ground's feed would (create and assign in one join), and returns its id.
func deliver(tb testing.TB, s *Store, c *hlcs, flight string, cursor uint64) uuid.UUID {
	tb.Helper()
	create := createOp(c)
	MustApplyChanges(tb, s, flight, cursor, create, assignOp(c, create.Enquiry, flight))
	return create.Enquiry
}

func MustApplyChanges(tb testing.TB, s *Store, flight string, cursor uint64, ops ...syncproto.Op) []uuid.UUID {
	tb.Helper()
	changed, err := s.ApplyChanges(context.Background(), flight, ops, cursor)
	if err != nil {
		tb.Fatalf("apply changes: %v", err)
	}
	return changed
}

func MustRecord(tb testing.TB, s *Store, op syncproto.Op) *syncproto.Enquiry {
	tb.Helper()
	e, err := s.Record(context.Background(), op)
	if err != nil {
		tb.Fatalf("record %s: %v", op.Kind, err)
	}
	return e
}

func MustEnquiry(tb testing.TB, s *Store, id uuid.UUID) *syncproto.Enquiry {
	tb.Helper()
	e, err := s.Enquiry(context.Background(), id)
	if err != nil {
		tb.Fatalf("enquiry %s: %v", id, err)
	}
	return e
}

func MustStatus(tb testing.TB, s *Store) Status {
	tb.Helper()
	st, err := s.Status()
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func outboxIDs(tb testing.TB, s *Store) []uuid.UUID {
	tb.Helper()
	ops, err := s.Outbox(1000, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return opIDs(ops)
}

func opIDs(ops []syncproto.Op) []uuid.UUID {
	ids := make([]uuid.UUID, len(ops))
	for i := range ops {
		ids[i] = ops[i].ID
	}
	return ids
}

// hasOp reports whether the op is stored, whatever enquiry state says.
func hasOp(tb testing.TB, s *Store, id uuid.UUID) bool {
	tb.Helper()
	var ok bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bktOps).Get(id[:]) != nil
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return ok
}

func jsonOf(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestRecord(t *testing.T) {
	ctx := context.Background()

	// Ensure crew actions update the state and queue in the outbox in order.
	t.Run("OK", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		enq := deliver(t, s, c, "F", 2)
		ack := ackOp(s, enq)
		if got, want := MustRecord(t, s, ack).Status, syncproto.StatusAcknowledged; got != want {
			t.Errorf("status after ack = %s, want %s", got, want)
		}
		outcome := outcomeOp(s, enq, syncproto.StatusResolved)
		MustRecord(t, s, outcome)

		e := MustEnquiry(t, s, enq)
		if got, want := e.Status, syncproto.StatusResolved; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
		if e.Acknowledged == nil || e.Resolution == nil || e.Resolution.OpID != outcome.ID {
			t.Errorf("ack = %+v, resolution = %+v", e.Acknowledged, e.Resolution)
		}
		if got, want := outboxIDs(t, s), []uuid.UUID{ack.ID, outcome.ID}; !slices.Equal(got, want) {
			t.Errorf("outbox = %v, want %v", got, want)
		}
		st := MustStatus(t, s)
		if got, want := st.Pending, 2; got != want {
			t.Errorf("pending = %d, want %d", got, want)
		}
		if got, want := st.HLC, outcome.HLC; got != want {
			t.Errorf("persisted HLC = %s, want %s", got, want)
		}
	})

	// Ensure an illegal status change is refused and writes nothing.
	t.Run("ErrIllegalTransition", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		enq := deliver(t, s, c, "F", 2)
		MustRecord(t, s, ackOp(s, enq))
		MustRecord(t, s, outcomeOp(s, enq, syncproto.StatusPassengerNotOnBoard))
		before, outbox, status := MustEnquiry(t, s, enq), outboxIDs(t, s), MustStatus(t, s)

		late := ackOp(s, enq)
		_, err := s.Record(ctx, late)
		if got, want := syncproto.ErrorCode(err), syncproto.CodeIllegalTransition; got != want {
			t.Fatalf("code = %s (%v), want %s", got, err, want)
		}
		if got, want := outboxIDs(t, s), outbox; !slices.Equal(got, want) {
			t.Errorf("outbox = %v, want %v", got, want)
		}
		if got, want := jsonOf(t, MustEnquiry(t, s, enq)), jsonOf(t, before); got != want {
			t.Errorf("enquiry changed:\n got %s\nwant %s", got, want)
		}
		if hasOp(t, s, late.ID) {
			t.Error("refused op was stored")
		}
		if got, want := MustStatus(t, s), status; !reflect.DeepEqual(got, want) {
			t.Errorf("status = %+v, want %+v", got, want)
		}
	})

	// Ensure an action on an enquiry the tablet does not hold is refused.
	t.Run("ErrNotFound", func(t *testing.T) {
		s := MustOpenStore(t)
		op := crewNote(s, syncproto.NewOpID(), "who?")
		_, err := s.Record(ctx, op)
		if got, want := syncproto.ErrorCode(err), syncproto.CodeNotFound; got != want {
			t.Errorf("code = %s (%v), want %s", got, err, want)
		}
		if got, want := len(outboxIDs(t, s)), 0; got != want {
			t.Errorf("outbox = %d, want %d", got, want)
		}
		if hasOp(t, s, op.ID) {
			t.Error("refused op was stored")
		}
	})

	// Ensure a malformed op, or a kind a device may not write, is refused.
	t.Run("ErrInvalid", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		enq := deliver(t, s, c, "F", 2)
		assign := newOp(s.Clock.Tick(), enq, syncproto.KindAssign, deviceActor(thisDevice), syncproto.AssignData{FlightID: "F"})
		if _, err := s.Record(ctx, assign); syncproto.ErrorCode(err) != syncproto.CodeForbidden {
			t.Errorf("assign by a device: err = %v, want forbidden", err)
		}
		empty := newOp(s.Clock.Tick(), enq, syncproto.KindNote, deviceActor(thisDevice), syncproto.NoteData{Text: " "})
		if _, err := s.Record(ctx, empty); syncproto.ErrorCode(err) != syncproto.CodeInvalid {
			t.Errorf("empty note: err = %v, want invalid", err)
		}
		if got, want := len(outboxIDs(t, s)), 0; got != want {
			t.Errorf("outbox = %d, want %d", got, want)
		}
	})
}

func TestRecord_Reopen(t *testing.T) {
	// Ensure the op, its outbox entry and the state survive a restart.
	s, c := MustOpenStore(t), newHLCs()
	enq := deliver(t, s, c, "F", 2)
	ack := ackOp(s, enq)
	MustRecord(t, s, ack)

	s = reopen(t, s)
	if !hasOp(t, s, ack.ID) {
		t.Error("op lost")
	}
	if got, want := outboxIDs(t, s), []uuid.UUID{ack.ID}; !slices.Equal(got, want) {
		t.Errorf("outbox = %v, want %v", got, want)
	}
	e := MustEnquiry(t, s, enq)
	if got, want := e.Status, syncproto.StatusAcknowledged; got != want {
		t.Errorf("status = %s, want %s", got, want)
	}
	// The clock never goes back behind what was written.
	if got, want := s.Clock.Tick(), ack.HLC; got <= want {
		t.Errorf("clock after restart = %s, want after %s", got, want)
	}
	if got, want := MustStatus(t, s).Cursors["F"], uint64(2); got != want {
		t.Errorf("cursor = %d, want %d", got, want)
	}
}

func TestCompletePush(t *testing.T) {
	// Ensure applied and duplicate ops leave the outbox, and a refused op
	// moves to the dead letters without blocking the ops behind it.
	s, c := MustOpenStore(t), newHLCs()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	enq := deliver(t, s, c, "F", 2)
	ops := []syncproto.Op{ackOp(s, enq), crewNote(s, enq, "one"), crewNote(s, enq, "two"), crewNote(s, enq, "three")}
	for _, op := range ops {
		MustRecord(t, s, op)
	}
	results := []syncproto.OpResult{
		{ID: ops[0].ID, Result: syncproto.ResultApplied},
		{ID: ops[1].ID, Result: syncproto.ResultDuplicate},
		{ID: ops[2].ID, Result: syncproto.ResultRefused, Code: syncproto.CodeOutOfScope, Message: "not your flight"},
	}
	if err := s.CompletePush(results); err != nil {
		t.Fatal(err)
	}
	if got, want := outboxIDs(t, s), []uuid.UUID{ops[3].ID}; !slices.Equal(got, want) {
		t.Errorf("outbox = %v, want %v", got, want)
	}
	// The next batch is the op after the refused one.
	next, err := s.Outbox(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := opIDs(next), []uuid.UUID{ops[3].ID}; !slices.Equal(got, want) {
		t.Errorf("next batch = %v, want %v", got, want)
	}
	dead, err := s.DeadLetters()
	if err != nil {
		t.Fatal(err)
	}
	want := []DeadLetter{{Op: ops[2], Code: syncproto.CodeOutOfScope, Message: "not your flight", At: now}}
	if got := dead; jsonOf(t, got) != jsonOf(t, want) {
		t.Errorf("dead letters = %s, want %s", jsonOf(t, got), jsonOf(t, want))
	}
	st := MustStatus(t, s)
	if got, want := st.Pending, 1; got != want {
		t.Errorf("pending = %d, want %d", got, want)
	}
	if got, want := st.DeadLetters, 1; got != want {
		t.Errorf("dead letters = %d, want %d", got, want)
	}
	if st.LastPush == nil || !st.LastPush.Equal(now) {
		t.Errorf("last push = %v, want %v", st.LastPush, now)
	}
	// The refused op leaves the enquiry's state, which must converge with
	// the ground's: crew and admins see it, with the reason, in the dead
	// letters instead.
	if got, want := len(MustEnquiry(t, s, enq).Notes), 2; got != want {
		t.Errorf("notes = %d, want %d", got, want)
	}
	if hasOp(t, s, ops[2].ID) {
		t.Errorf("refused op still folded into the enquiry")
	}

	// Ensure a replayed ack is harmless.
	now = now.Add(time.Minute)
	results[2] = syncproto.OpResult{ID: ops[2].ID, Result: syncproto.ResultApplied}
	if err := s.CompletePush(append(results, syncproto.OpResult{ID: syncproto.NewOpID(), Result: syncproto.ResultApplied})); err != nil {
		t.Fatal(err)
	}
	if got, want := outboxIDs(t, s), []uuid.UUID{ops[3].ID}; !slices.Equal(got, want) {
		t.Errorf("outbox after replay = %v, want %v", got, want)
	}
	if dead2, err := s.DeadLetters(); err != nil || jsonOf(t, dead2) != jsonOf(t, dead) {
		t.Errorf("dead letters after replay = %s, %v; want %s", jsonOf(t, dead2), err, jsonOf(t, dead))
	}

	if err := s.CompletePush([]syncproto.OpResult{{ID: ops[3].ID, Result: syncproto.ResultApplied}}); err != nil {
		t.Fatal(err)
	}
	if got, want := MustStatus(t, s).Pending, 0; got != want {
		t.Errorf("pending = %d, want %d", got, want)
	}

	// Should the ground hold the refused op after all (stored before a
	// restore), it comes back in a page and is no longer dead.
	MustApplyChanges(t, s, "F", 3, ops[2])
	if got, want := len(MustEnquiry(t, s, enq).Notes), 3; got != want {
		t.Errorf("notes after the ground sent the op = %d, want %d", got, want)
	}
	if got, want := MustStatus(t, s).DeadLetters, 0; got != want {
		t.Errorf("dead letters after the ground sent the op = %d, want %d", got, want)
	}
}

func TestApplyChanges(t *testing.T) {
	ctx := context.Background()

	// Ensure pulled ops and the cursor are stored together and survive a
	// restart.
	t.Run("OK", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c)
		assign := assignOp(c, create.Enquiry, "F")
		changed := MustApplyChanges(t, s, "F", 7, create, assign)
		if got, want := changed, []uuid.UUID{create.Enquiry}; !slices.Equal(got, want) {
			t.Errorf("changed = %v, want %v", got, want)
		}
		s = reopen(t, s)
		if got, want := MustStatus(t, s).Cursors, map[string]uint64{"F": 7}; !reflect.DeepEqual(got, want) {
			t.Errorf("cursors = %v, want %v", got, want)
		}
		e := MustEnquiry(t, s, create.Enquiry)
		if got, want := e.Status, syncproto.StatusAssigned; got != want {
			t.Errorf("status = %s, want %s", got, want)
		}
		if !hasOp(t, s, create.ID) || !hasOp(t, s, assign.ID) {
			t.Error("ops not stored")
		}
		list, err := s.Enquiries(ctx, "F")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(list), 1; got != want {
			t.Errorf("enquiries = %d, want %d", got, want)
		}
		// Pulled ops are not the device's to push.
		if got, want := MustStatus(t, s).Pending, 0; got != want {
			t.Errorf("pending = %d, want %d", got, want)
		}
		// The clock has observed the ground's timestamps.
		if got := s.Clock.Tick(); got <= assign.HLC {
			t.Errorf("clock = %s, want after %s", got, assign.HLC)
		}
	})

	// Ensure a page that fails stores neither its ops nor its cursor.
	t.Run("Atomic", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c)
		// An op that cannot be encoded fails the write after the first
		// ops were put.
		bad := agentNote(c, create.Enquiry, "x")
		bad.Data = json.RawMessage(`{"text":`)
		if _, err := s.ApplyChanges(ctx, "F", []syncproto.Op{create, assignOp(c, create.Enquiry, "F"), bad}, 9); err == nil {
			t.Fatal("apply changes with an unstorable op: no error")
		}
		if hasOp(t, s, create.ID) {
			t.Error("op of a failed page was stored")
		}
		if got, want := MustStatus(t, s).Cursors["F"], uint64(0); got != want {
			t.Errorf("cursor = %d, want %d", got, want)
		}
	})

	// Ensure ops received twice change nothing the second time.
	t.Run("Duplicates", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c)
		page := []syncproto.Op{create, assignOp(c, create.Enquiry, "F"), agentNote(c, create.Enquiry, "n")}
		MustApplyChanges(t, s, "F", 3, page...)
		before := MustEnquiry(t, s, create.Enquiry)
		for _, cursor := range []uint64{3, 2, 0} {
			if changed := MustApplyChanges(t, s, "F", cursor, append(page, page...)...); len(changed) != 0 {
				t.Errorf("changed = %v, want none", changed)
			}
		}
		if got, want := jsonOf(t, MustEnquiry(t, s, create.Enquiry)), jsonOf(t, before); got != want {
			t.Errorf("enquiry changed:\n got %s\nwant %s", got, want)
		}
		if got, want := len(MustEnquiry(t, s, create.Enquiry).Notes), 1; got != want {
			t.Errorf("notes = %d, want %d", got, want)
		}
		// A cursor never goes back.
		if got, want := MustStatus(t, s).Cursors["F"], uint64(3); got != want {
			t.Errorf("cursor = %d, want %d", got, want)
		}
		// An empty page still moves the cursor on (the device's own ops
		// are skipped by the ground).
		MustApplyChanges(t, s, "F", 5)
		if got, want := MustStatus(t, s).Cursors["F"], uint64(5); got != want {
			t.Errorf("cursor after empty page = %d, want %d", got, want)
		}
	})

	// Ensure ops arriving in any order, in pages of any size, fold to the
	// same state.
	t.Run("OutOfOrder", func(t *testing.T) {
		c := newHLCs()
		create := createOp(c)
		enq := create.Enquiry
		join := []syncproto.Op{create, assignOp(c, enq, "F")}
		rest := []syncproto.Op{
			agentNote(c, enq, "one"),
			newOp(c.next(), enq, syncproto.KindAck, deviceActor("d2"), nil),
			newOp(c.next(), enq, syncproto.KindNote, deviceActor("d2"), syncproto.NoteData{Text: "two"}),
			newOp(c.next(), enq, syncproto.KindOutcome, deviceActor("d2"), syncproto.OutcomeData{Outcome: syncproto.StatusEscalated}),
			newOp(c.next(), enq, syncproto.KindOutcome, deviceActor("d3"), syncproto.OutcomeData{Outcome: syncproto.StatusResolved}),
			agentNote(c, enq, "three"),
			newOp(c.next(), enq, syncproto.KindClose, agent, syncproto.CloseData{}),
		}
		inOrder := MustOpenStore(t)
		MustApplyChanges(t, inOrder, "F", 1, slices.Concat(join, rest)...)
		want := MustEnquiry(t, inOrder, enq)
		if got, want := want.Status, syncproto.StatusClosed; got != want {
			t.Fatalf("in-order status = %s, want %s", got, want)
		}
		if got, want := syncproto.Fold(slices.Concat(join, rest)), *want; !reflect.DeepEqual(got, want) {
			t.Errorf("stored state differs from the fold:\n got %s\nwant %s", jsonOf(t, got), jsonOf(t, want))
		}

		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 10 {
			s := MustOpenStore(t)
			// The join comes first, as the ground sends it; the rest
			// comes shuffled, in pages, some twice.
			shuffled := slices.Clone(join)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			MustApplyChanges(t, s, "F", 1, shuffled...)
			ops := slices.Clone(rest)
			ops = append(ops, rest[rng.IntN(len(rest))])
			rng.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
			for len(ops) > 0 {
				n := min(len(ops), 1+rng.IntN(3))
				MustApplyChanges(t, s, "F", 2, ops[:n]...)
				ops = ops[n:]
			}
			if got := MustEnquiry(t, s, enq); !reflect.DeepEqual(got, want) {
				t.Errorf("permutation %d:\n got %s\nwant %s", i, jsonOf(t, got), jsonOf(t, want))
			}
		}
	})

	// Ensure an enquiry moved to a flight the tablet does not serve leaves
	// the crew's view at once and its ops go once the tablet is caught
	// up, while the crew's own ops on it stay (in the outbox until sent).
	t.Run("Purge", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c)
		enq := create.Enquiry
		assign := assignOp(c, enq, "F")
		MustApplyChanges(t, s, "F", 2, create, assign)
		other := deliver(t, s, c, "F", 3)
		note := crewNote(s, enq, "passenger asked for a call back")
		MustRecord(t, s, note)

		move := assignOp(c, enq, "G")
		MustApplyChanges(t, s, "F", 4, move)
		_, err := s.Enquiry(ctx, enq)
		if got, want := syncproto.ErrorCode(err), syncproto.CodeNotFound; got != want {
			t.Errorf("purged enquiry: code = %s (%v), want %s", got, err, want)
		}
		// Until the tablet is caught up, a lagging feed may still bring
		// older ops of it: they must fold with the move.
		for _, op := range []syncproto.Op{create, assign, move} {
			if !hasOp(t, s, op.ID) {
				t.Errorf("%s op of a stray enquiry dropped before the tablet caught up", op.Kind)
			}
		}
		MustApplyChanges(t, s, "F", 4, create, assign)
		if _, err := s.Enquiry(ctx, enq); syncproto.ErrorCode(err) != syncproto.CodeNotFound {
			t.Errorf("older ops brought a moved enquiry back: %v", err)
		}
		if marked, err := s.MarkSynced(time.Now()); err != nil || marked {
			t.Fatalf("MarkSynced with an op in the outbox = %v, %v", marked, err)
		}
		if !hasOp(t, s, create.ID) {
			t.Errorf("stray ops dropped while the outbox is not empty")
		}
		if got, want := outboxIDs(t, s), []uuid.UUID{note.ID}; !slices.Equal(got, want) {
			t.Errorf("outbox = %v, want %v", got, want)
		}
		list, err := s.Enquiries(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(list), 1; got != want || list[0].ID != other {
			t.Errorf("enquiries = %d, want only %s", got, other)
		}
		if got, want := MustStatus(t, s).Cursors["F"], uint64(4); got != want {
			t.Errorf("cursor = %d, want %d", got, want)
		}

		// Once pushed and caught up, the ops stay hidden (a flight opened
		// later may still bring older ones); a flight's purge removes
		// them (TestPurgeClosedFlight); a later join brings it back.
		if err := s.CompletePush([]syncproto.OpResult{{ID: note.ID, Result: syncproto.ResultApplied}}); err != nil {
			t.Fatal(err)
		}
		if marked, err := s.MarkSynced(time.Now()); err != nil || !marked {
			t.Fatalf("MarkSynced = %v, %v", marked, err)
		}
		for _, op := range []syncproto.Op{create, assign, move} {
			if !hasOp(t, s, op.ID) {
				t.Errorf("%s op of a stray enquiry dropped before the flight's purge", op.Kind)
			}
		}
		if _, err := s.Enquiry(ctx, enq); syncproto.ErrorCode(err) != syncproto.CodeNotFound {
			t.Errorf("stray enquiry shown after MarkSynced: %v", err)
		}
		if !hasOp(t, s, note.ID) {
			t.Errorf("the crew's own note was purged")
		}
		back := assignOp(c, enq, "F")
		MustApplyChanges(t, s, "F", 6, create, assign, move, back)
		e := MustEnquiry(t, s, enq)
		if got, want := e.FlightID, "F"; got != want {
			t.Errorf("flight after moving back = %s, want %s", got, want)
		}
		if got, want := len(e.Notes), 1; got != want {
			t.Errorf("notes = %d, want %d", got, want)
		}
		if got, want := MustStatus(t, s).Pending, 0; got != want {
			t.Errorf("pending = %d, want %d", got, want)
		}
	})

	// Ensure an enquiry that moved off the tablet's flight to another
	// flight the crew then open comes back from that flight's join, though
	// its ops are all known already.
	t.Run("StrayJoinsAnotherFlight", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c)
		enq := create.Enquiry
		assign, move := assignOp(c, enq, "F"), assignOp(c, enq, "G")
		MustApplyChanges(t, s, "F", 2, create, assign)
		MustApplyChanges(t, s, "F", 3, move)
		if _, err := s.Enquiry(ctx, enq); syncproto.ErrorCode(err) != syncproto.CodeNotFound {
			t.Fatalf("moved enquiry still shown: %v", err)
		}
		if err := s.OpenFlight("G"); err != nil {
			t.Fatal(err)
		}
		MustApplyChanges(t, s, "G", 3, create, assign, move)
		if got := MustEnquiry(t, s, enq).FlightID; got != "G" {
			t.Errorf("flight = %q, want G", got)
		}
	})

	// Ensure a page for a flight the tablet does not serve is dropped.
	t.Run("UnservedFlight", func(t *testing.T) {
		s, c := MustOpenStore(t), newHLCs()
		create := createOp(c)
		changed, err := s.ApplyChanges(ctx, "X", []syncproto.Op{create, assignOp(c, create.Enquiry, "X")}, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(changed) != 0 {
			t.Errorf("changed = %v, want none", changed)
		}
		if _, err := s.Enquiry(ctx, create.Enquiry); syncproto.ErrorCode(err) != syncproto.CodeNotFound {
			t.Errorf("enquiry: err = %v, want not_found", err)
		}
		if hasOp(t, s, create.ID) {
			t.Error("op of a dropped page stored")
		}
		if got, want := MustStatus(t, s).Cursors, map[string]uint64{"F": 0}; !reflect.DeepEqual(got, want) {
			t.Errorf("cursors = %v, want %v", got, want)
		}
	})
}

func TestResync(t *testing.T) {
	// Ensure a resync resets every cursor and queues again every op this
	// device wrote, and nobody else's.
	s, c := MustOpenStore(t), newHLCs()
	if err := s.SetEpoch("epoch-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.OpenFlight("G"); err != nil {
		t.Fatal(err)
	}
	enq := deliver(t, s, c, "F", 2)
	ack := ackOp(s, enq)
	note := crewNote(s, enq, "mine")
	MustRecord(t, s, ack)
	MustRecord(t, s, note)
	if err := s.CompletePush([]syncproto.OpResult{{ID: ack.ID, Result: syncproto.ResultApplied}, {ID: note.ID, Result: syncproto.ResultApplied}}); err != nil {
		t.Fatal(err)
	}
	theirs := newOp(c.next(), enq, syncproto.KindNote, deviceActor("d2"), syncproto.NoteData{Text: "theirs"})
	MustApplyChanges(t, s, "F", 9, theirs, agentNote(c, enq, "agent"))
	deliver(t, s, c, "G", 4)
	if got, want := MustStatus(t, s).Pending, 0; got != want {
		t.Fatalf("pending before resync = %d, want %d", got, want)
	}
	// One op still unsent: it is queued once, not twice.
	pending := crewNote(s, enq, "unsent")
	MustRecord(t, s, pending)

	n, err := s.Resync("epoch-2", thisDevice)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 2; got != want {
		t.Errorf("requeued = %d, want %d", got, want)
	}
	st := MustStatus(t, s)
	if got, want := st.Cursors, map[string]uint64{"F": 0, "G": 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("cursors = %v, want %v", got, want)
	}
	if got, want := st.Epoch, "epoch-2"; got != want {
		t.Errorf("epoch = %s, want %s", got, want)
	}
	got := outboxIDs(t, s)
	slices.SortFunc(got, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	want := []uuid.UUID{ack.ID, note.ID, pending.ID}
	if !slices.Equal(got, want) {
		t.Errorf("outbox = %v, want %v", got, want)
	}
	// What the old database taught the tablet is dropped, to be pulled
	// again; its own ops stay, every one of them in the outbox.
	if _, err := s.Enquiry(context.Background(), enq); syncproto.ErrorCode(err) != syncproto.CodeNotFound {
		t.Errorf("enquiry after resync: %v, want not_found until it is pulled again", err)
	}
	for _, id := range want {
		if !opStored(t, s, id) {
			t.Errorf("own op %s was dropped by the resync", id)
		}
	}
	// A second resync queues nothing more.
	if n, err := s.Resync("epoch-2", thisDevice); err != nil || n != 0 {
		t.Errorf("second resync = %d, %v; want 0", n, err)
	}
}

// opStored reports whether an op is in the ops bucket.
func opStored(t *testing.T, s *Store, id uuid.UUID) bool {
	t.Helper()
	found := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		found = tx.Bucket(bktOps).Get(id[:]) != nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

func TestMarkSynced(t *testing.T) {
	// Ensure "synced" is recorded only with an empty outbox, and Status
	// reports the durable facts.
	s, c := MustOpenStore(t), newHLCs()
	if st := MustStatus(t, s); st.LastSync != nil || st.OldestPending != nil || st.Pending != 0 {
		t.Errorf("fresh status = %+v", st)
	}
	enq := deliver(t, s, c, "F", 12)
	ack := ackOp(s, enq)
	MustRecord(t, s, ack)
	MustRecord(t, s, crewNote(s, enq, "later"))

	t1 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if ok, err := s.MarkSynced(t1); err != nil || ok {
		t.Errorf("mark synced with a pending outbox = %v, %v; want false", ok, err)
	}
	st := MustStatus(t, s)
	if st.LastSync != nil {
		t.Errorf("last sync = %v, want none", st.LastSync)
	}
	if got, want := st.Pending, 2; got != want {
		t.Errorf("pending = %d, want %d", got, want)
	}
	if st.OldestPending == nil || !st.OldestPending.Equal(ack.HLC.Time()) {
		t.Errorf("oldest pending = %v, want %v", st.OldestPending, ack.HLC.Time())
	}
	if got, want := st.Cursors, map[string]uint64{"F": 12}; !reflect.DeepEqual(got, want) {
		t.Errorf("cursors = %v, want %v", got, want)
	}
	if got, want := st.DeviceID, thisDevice; got != want {
		t.Errorf("device = %s, want %s", got, want)
	}
	if got, want := st.CurrentFlight, "F"; got != want {
		t.Errorf("current flight = %s, want %s", got, want)
	}
	if got, want := st.Enquiries, 1; got != want {
		t.Errorf("enquiries = %d, want %d", got, want)
	}

	ops, err := s.Outbox(10, nil)
	if err != nil {
		t.Fatal(err)
	}
	results := []syncproto.OpResult{
		{ID: ops[0].ID, Result: syncproto.ResultApplied},
		{ID: ops[1].ID, Result: syncproto.ResultRefused, Code: syncproto.CodeInvalid, Message: "no"},
	}
	if err := s.CompletePush(results); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.MarkSynced(t1); err != nil || !ok {
		t.Errorf("mark synced with an empty outbox = %v, %v; want true", ok, err)
	}
	st = MustStatus(t, s)
	if st.LastSync == nil || !st.LastSync.Equal(t1) {
		t.Errorf("last sync = %v, want %v", st.LastSync, t1)
	}
	if st.Pending != 0 || st.OldestPending != nil || st.DeadLetters != 1 {
		t.Errorf("pending = %d, oldest = %v, dead = %d; want 0, none, 1", st.Pending, st.OldestPending, st.DeadLetters)
	}
	// A new crew action: no longer synced, and the old mark stays as it was.
	MustRecord(t, s, crewNote(s, enq, "again"))
	if ok, err := s.MarkSynced(t1.Add(time.Hour)); err != nil || ok {
		t.Errorf("mark synced = %v, %v; want false", ok, err)
	}
	if st := MustStatus(t, s); st.LastSync == nil || !st.LastSync.Equal(t1) {
		t.Errorf("last sync = %v, want %v", st.LastSync, t1)
	}
}

// storeWithData writes a store with enough data to span many pages, closes
// it and returns its path, its page size and the ids of the pages in use
// (not free) after the two meta pages.
func storeWithData(t *testing.T) (path string, pageSize int, inUse []int) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "device.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.OpenFlight("F"); err != nil {
		t.Fatal(err)
	}
	c := newHLCs()
	for i := range 40 {
		enq := deliver(t, s, c, "F", uint64(i+1))
		MustRecord(t, s, crewNote(s, enq, string(bytes.Repeat([]byte("n"), 500))))
	}
	pageSize = s.db.Info().PageSize
	if err := s.db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil {
				return err
			}
			if p == nil {
				return nil
			}
			if p.Type != "free" {
				inUse = append(inUse, id)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, pageSize, inUse
}

// mustOpenCorrupt asserts that Open refuses the file at path as corrupt,
// without panicking and without changing a byte of it.
func mustOpenCorrupt(t *testing.T, path string) {
	t.Helper()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("open of a corrupt file succeeded")
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("err = %v, want ErrCorrupt", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, before) {
		t.Error("open changed the corrupt file")
	}
}

func TestOpen_Corrupt(t *testing.T) {
	// Ensure a file that is not a store at all is refused.
	t.Run("RandomBytes", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "device.db")
		junk := make([]byte, 64<<10)
		if _, err := rand.NewChaCha8([32]byte{3, 4}).Read(junk); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, junk, 0o600); err != nil {
			t.Fatal(err)
		}
		mustOpenCorrupt(t, path)
	})

	// Ensure a store whose pages were overwritten is refused. Garbage on
	// a free page harms nothing, so each case hits the first page in use
	// at or after the one named (in the usual layout, the one named).
	for _, pages := range [][]int{{2, 4}, {2}, {4}, {3}} {
		t.Run(fmt.Sprintf("GarbagePages%v", pages), func(t *testing.T) {
			path, pageSize, inUse := storeWithData(t)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			junk := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, 0x17}, pageSize/5)
			for _, want := range pages {
				i, _ := slices.BinarySearch(inUse, want)
				if i == len(inUse) {
					t.Fatalf("no page in use at or after %d: %v", want, inUse)
				}
				p := inUse[i]
				if _, err := f.WriteAt(junk, int64(p*pageSize)); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			mustOpenCorrupt(t, path)
		})
	}

	// Ensure a truncated store is refused, however short.
	for _, size := range []int{5 * 4096, 4096 + 100, 4096, 3000, 1} {
		t.Run(fmt.Sprintf("Truncated%d", size), func(t *testing.T) {
			path, pageSize, _ := storeWithData(t)
			if err := os.Truncate(path, int64(size/4096*pageSize+size%4096)); err != nil {
				t.Fatal(err)
			}
			mustOpenCorrupt(t, path)
		})
	}

	// Ensure a file that cannot be opened for another reason is not
	// reported as corrupt.
	t.Run("ErrNotCorrupt", func(t *testing.T) {
		_, err := Open(filepath.Join(t.TempDir(), "missing", "device.db"))
		if err == nil {
			t.Fatal("open in a missing folder succeeded")
		}
		if errors.Is(err, ErrCorrupt) {
			t.Errorf("err = %v, wrongly reported as corrupt", err)
		}
	})

	// Ensure a healthy store still opens, with its data.
	t.Run("OK", func(t *testing.T) {
		path, _, _ := storeWithData(t)
		s := MustOpenStoreAt(t, path)
		if got, want := MustStatus(t, s).Enquiries, 40; got != want {
			t.Errorf("enquiries = %d, want %d", got, want)
		}
	})
}

func TestOpen_Locked(t *testing.T) {
	// Ensure a second open of a file in use fails after the lock timeout
	// instead of hanging, and is not mistaken for corruption.
	s := MustOpenStore(t)
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		s2, err := Open(s.db.Path())
		if err == nil {
			s2.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("second open succeeded")
		}
		if !errors.Is(err, bolt.ErrTimeout) {
			t.Errorf("err = %v, want a lock timeout", err)
		}
		if errors.Is(err, ErrCorrupt) {
			t.Errorf("err = %v, wrongly reported as corrupt", err)
		}
		if elapsed := time.Since(start); elapsed < time.Second {
			t.Errorf("gave up after %s, want about the 2 s timeout", elapsed)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("second open hangs")
	}
	// The first handle still works.
	if _, err := s.Status(); err != nil {
		t.Error(err)
	}
}

func TestSetDeviceID(t *testing.T) {
	s := MustOpenStore(t)
	// Ensure the same device may bind again.
	if err := s.SetDeviceID(thisDevice); err != nil {
		t.Errorf("same device: %v", err)
	}
	// Ensure another device is refused, and the binding kept.
	if err := s.SetDeviceID("d2"); err == nil {
		t.Error("another device was accepted")
	}
	id, _, err := s.Identity()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := id, thisDevice; got != want {
		t.Errorf("device = %s, want %s", got, want)
	}
	s = reopen(t, s)
	if err := s.SetDeviceID("d2"); err == nil {
		t.Error("another device was accepted after a restart")
	}
}

func BenchmarkDeviceRecord(b *testing.B) {
	s, c := MustOpenStore(b), newHLCs()
	enq := deliver(b, s, c, "F", 2)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Record(ctx, crewNote(s, enq, "note")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeviceApplyChanges(b *testing.B) {
	const page = 500
	s, c := MustOpenStore(b), newHLCs()
	ctx := context.Background()
	var cursor uint64
	b.ReportAllocs()
	for b.Loop() {
		ops := make([]syncproto.Op, 0, page)
		for len(ops) < page {
			create := createOp(c)
			ops = append(ops, create, assignOp(c, create.Enquiry, "F"), agentNote(c, create.Enquiry, "n"), agentNote(c, create.Enquiry, "m"))
		}
		cursor += page
		if _, err := s.ApplyChanges(ctx, "F", ops, cursor); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*page)/b.Elapsed().Seconds(), "ops/s")
}

func TestRepull(t *testing.T) {
	// Ensure an admin's forced resync zeroes every cursor and drops what
	// was pulled, but keeps the outbox exactly as it was (nothing is
	// queued again: the ground has every acknowledged op) and the epoch.
	s, c := MustOpenStore(t), newHLCs()
	if err := s.SetEpoch("epoch-1"); err != nil {
		t.Fatal(err)
	}
	enq := deliver(t, s, c, "F", 2)
	sent := crewNote(s, enq, "sent")
	MustRecord(t, s, sent)
	if err := s.CompletePush([]syncproto.OpResult{{ID: sent.ID, Result: syncproto.ResultApplied}}); err != nil {
		t.Fatal(err)
	}
	theirs := newOp(c.next(), enq, syncproto.KindNote, deviceActor("d2"), syncproto.NoteData{Text: "theirs"})
	MustApplyChanges(t, s, "F", 9, theirs)
	unsent := crewNote(s, enq, "unsent")
	MustRecord(t, s, unsent)

	if err := s.Repull(thisDevice); err != nil {
		t.Fatal(err)
	}
	st := MustStatus(t, s)
	if got, want := st.Cursors, map[string]uint64{"F": 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("cursors = %v, want %v", got, want)
	}
	if st.Epoch != "epoch-1" {
		t.Errorf("epoch = %s, want epoch-1", st.Epoch)
	}
	if got, want := outboxIDs(t, s), []uuid.UUID{unsent.ID}; !slices.Equal(got, want) {
		t.Errorf("outbox = %v, want %v", got, want)
	}
	if opStored(t, s, theirs.ID) || !opStored(t, s, sent.ID) || !opStored(t, s, unsent.ID) {
		t.Errorf("after repull: theirs %v (want false), sent %v, unsent %v (want true)", opStored(t, s, theirs.ID), opStored(t, s, sent.ID), opStored(t, s, unsent.ID))
	}
	if _, err := s.Enquiry(context.Background(), enq); syncproto.ErrorCode(err) != syncproto.CodeNotFound {
		t.Errorf("enquiry after repull: %v, want not_found until it is pulled again", err)
	}
}
