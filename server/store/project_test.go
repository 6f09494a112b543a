package store_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// openManual opens a store whose deferred projection runs only when the
// test calls Project, with the same integrity check at cleanup as
// MustOpenStoreAt.
func openManual(tb testing.TB, path string, o store.Options) *store.Store {
	tb.Helper()
	o.ManualProjection = true
	s, err := store.OpenWith(path, o)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if s.Ping() != nil {
			return // the test closed it
		}
		if err := s.Check(); err != nil {
			tb.Errorf("integrity check: %v", err)
		}
		s.Close()
	})
	return s
}

// feedOps returns the ids of the ops in a flight's feed, in order.
func feedOps(tb testing.TB, s *store.Store, flight string) []uuid.UUID {
	tb.Helper()
	p, err := s.Changes(context.Background(), flight, 0, 1000, "")
	if err != nil {
		tb.Fatal(err)
	}
	var ids []uuid.UUID
	for _, op := range p.Ops {
		ids = append(ids, op.ID)
	}
	return ids
}

func TestDeferredProjection(t *testing.T) {
	ctx := context.Background()
	crew := store.Scope{Device: "d1", Flights: []string{"F"}}
	setup := func(t *testing.T, o store.Options) (*store.Store, *hlcs, uuid.UUID, string) {
		path := filepath.Join(t.TempDir(), "ground.db")
		s, c := openManual(t, path, o), newHLCs()
		create := createOp(c, "tw-1")
		MustApplyOK(t, s, strict, create, assignOp(c, create.Enquiry, "F"))
		return s, c, create.Enquiry, path
	}

	// Ensure a device's push is acknowledged once logged, and everything
	// that follows from it appears when it is projected, not before.
	t.Run("AckBeforeProjection", func(t *testing.T) {
		s, c, enq, _ := setup(t, store.Options{})
		var heard []store.Result
		s.SetProjected(func(rs []store.Result) { heard = append(heard, rs...) })
		head := s.Head()
		ack, out := ackOp(c, enq, "d1"), outcomeOp(c, enq, "d1", syncproto.StatusResolved)
		rs, err := s.Apply(ctx, []syncproto.Op{ack, out}, crew)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			if r.Result != syncproto.ResultApplied || r.Seq != head+uint64(i)+1 {
				t.Fatalf("result %d = %s at %d, want applied at %d", i, r.Result, r.Seq, head+uint64(i)+1)
			}
		}
		if got := s.Pending(); got != 2 {
			t.Errorf("pending = %d, want 2", got)
		}
		if e, _ := MustEnquiry(t, s, enq); e.Status != syncproto.StatusAssigned {
			t.Errorf("status before projection = %s, want assigned", e.Status)
		}
		if got := feedOps(t, s, "F"); len(got) != 2 {
			t.Errorf("feed before projection holds %d ops, want the 2 ground ops", len(got))
		}
		// A repeat of the logged push is a duplicate already.
		if rs := MustApply(t, s, store.Scope{Device: "d1", Flights: []string{"F"}}, ack); rs[0].Result != syncproto.ResultDuplicate {
			t.Errorf("repeat = %s, want duplicate", rs[0].Result)
		}
		heard = heard[:0] // MustApply projected; look at a fresh push
		note := noteOp(c, enq, device("d1"), "sorted")
		if _, err := s.Apply(ctx, []syncproto.Op{note}, crew); err != nil {
			t.Fatal(err)
		}
		if err := s.Project(ctx); err != nil {
			t.Fatal(err)
		}
		if got := s.Pending(); got != 0 {
			t.Errorf("pending after Project = %d", got)
		}
		e, _ := MustEnquiry(t, s, enq)
		if e.Status != syncproto.StatusResolved || len(e.Notes) != 1 {
			t.Errorf("after projection: %s with %d notes, want resolved with 1", e.Status, len(e.Notes))
		}
		if got, want := feedOps(t, s, "F"), []uuid.UUID{ack.ID, out.ID, note.ID}; !slices.Equal(got[2:], want) {
			t.Errorf("feed = %v, want the ground's two then %v", got, want)
		}
		if len(heard) != 1 || heard[0].ID != note.ID || !slices.Equal(heard[0].Flights, []string{"F"}) || heard[0].Enquiry == nil || heard[0].Enquiry.Status != syncproto.StatusResolved {
			t.Errorf("SetProjected heard %+v", heard)
		}
	})

	// Ensure a ground write projects what is pending first: its checks see
	// the crew's work, and the feed keeps the log's order.
	t.Run("GroundWriteProjectsFirst", func(t *testing.T) {
		s, c, enq, _ := setup(t, store.Options{})
		var heard []store.Result
		s.SetProjected(func(rs []store.Result) { heard = append(heard, rs...) })
		ack := ackOp(c, enq, "d1")
		if _, err := s.Apply(ctx, []syncproto.Op{ack}, crew); err != nil {
			t.Fatal(err)
		}
		recall := newOp(c, enq, syncproto.KindRecall, agent, syncproto.RecallData{Reason: "wrong flight"})
		note := noteOp(c, enq, agent, "we are on it")
		rs := MustApply(t, s, strict, recall, note)
		if rs[0].Result != syncproto.ResultRefused || rs[0].Code != syncproto.CodeIllegalTransition {
			t.Errorf("recall after the crew's ack = %s %s, want refused %s", rs[0].Result, rs[0].Code, syncproto.CodeIllegalTransition)
		}
		if rs[1].Result != syncproto.ResultApplied || s.Pending() != 0 {
			t.Errorf("note = %s, pending %d", rs[1].Result, s.Pending())
		}
		if got := feedOps(t, s, "F"); len(got) != 4 || got[2] != ack.ID || got[3] != note.ID {
			t.Errorf("feed = %v, want ..., %s, %s", got, ack.ID, note.ID)
		}
		if len(heard) != 1 || heard[0].ID != ack.ID {
			t.Errorf("SetProjected heard %+v, want the ack the ground write projected", heard)
		}
	})

	// Ensure a crash between the log's commit and the projection loses
	// nothing: the next Open projects what was pending before anything
	// reads. (A store closed with ops pending is, on disk, exactly a
	// process killed after the push's commit.)
	t.Run("CrashBeforeProjection", func(t *testing.T) {
		s, c, enq, path := setup(t, store.Options{})
		out := outcomeOp(c, enq, "d1", syncproto.StatusResolved)
		if _, err := s.Apply(ctx, []syncproto.Op{out}, crew); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s2 := MustOpenStoreAt(t, path)
		if got := s2.Pending(); got != 0 {
			t.Errorf("pending after reopen = %d", got)
		}
		if e, _ := MustEnquiry(t, s2, enq); e.Status != syncproto.StatusResolved {
			t.Errorf("status after reopen = %s, want resolved", e.Status)
		}
		if got := feedOps(t, s2, "F"); len(got) != 3 || got[2] != out.ID {
			t.Errorf("feed after reopen = %v", got)
		}
	})

	// Ensure a push waits while the projection lags by MaxPending ops,
	// and goes on once it catches up.
	t.Run("Backpressure", func(t *testing.T) {
		s, c, enq, _ := setup(t, store.Options{MaxPending: 2})
		if _, err := s.Apply(ctx, []syncproto.Op{ackOp(c, enq, "d1"), noteOp(c, enq, device("d1"), "1")}, crew); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.Apply(ctx, []syncproto.Op{noteOp(c, enq, device("d1"), "2")}, crew)
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("push with 2 pending returned (%v), want it to wait", err)
		case <-time.After(100 * time.Millisecond):
		}
		if err := s.Project(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// A waiting push gives up with its context and logs nothing.
		if _, err := s.Apply(ctx, []syncproto.Op{noteOp(c, enq, device("d1"), "3")}, crew); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		go func() {
			_, err := s.Apply(cctx, []syncproto.Op{noteOp(c, enq, device("d1"), "4")}, crew)
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled push: err = %v, want context.Canceled", err)
		}
		if got := s.Pending(); got != 2 {
			t.Errorf("pending = %d, want 2", got)
		}
	})
}

// Ensure the background projector projects a push without being asked.
func TestDeferredProjection_Background(t *testing.T) {
	ctx := context.Background()
	s, c := MustOpenStore(t), newHLCs()
	create := createOp(c, "tw-1")
	MustApplyOK(t, s, strict, create, assignOp(c, create.Enquiry, "F"))
	heard := make(chan []store.Result, 1)
	s.SetProjected(func(rs []store.Result) { heard <- rs })
	out := outcomeOp(c, create.Enquiry, "d1", syncproto.StatusResolved)
	if _, err := s.Apply(ctx, []syncproto.Op{out}, store.Scope{Device: "d1", Flights: []string{"F"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case rs := <-heard:
		if len(rs) != 1 || rs[0].ID != out.ID || rs[0].Enquiry.Status != syncproto.StatusResolved {
			t.Errorf("projected %+v", rs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the push was never projected")
	}
	if e, _ := MustEnquiry(t, s, create.Enquiry); e.Status != syncproto.StatusResolved {
		t.Errorf("status = %s, want resolved", e.Status)
	}
}

// Ensure the agents' reads never show less than the tablets were told is
// stored: a read right after a push's ack waits for its projection.
func TestDeferredProjection_ReadBarrier(t *testing.T) {
	ctx := context.Background()
	s, c := MustOpenStore(t), newHLCs()
	crew := store.Scope{Device: "d1", Flights: []string{"F"}}
	var ids []uuid.UUID
	var ops []syncproto.Op
	for i := range 200 {
		create := createOp(c, fmt.Sprintf("tw-%d", i))
		ops = append(ops, create, assignOp(c, create.Enquiry, "F"))
		ids = append(ids, create.Enquiry)
	}
	MustApplyOK(t, s, strict, ops...)
	for round := range 5 {
		var push []syncproto.Op
		for _, id := range ids {
			push = append(push, noteOp(c, id, device("d1"), fmt.Sprintf("round %d", round)))
		}
		if _, err := s.Apply(ctx, push, crew); err != nil {
			t.Fatal(err)
		}
		e, _, err := s.Enquiry(ctx, ids[len(ids)-1])
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(e.Notes), round+1; got != want {
			t.Fatalf("round %d: the enquiry read after the ack has %d notes, want %d", round, got, want)
		}
		list, err := s.Enquiries(ctx, store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(ids) {
			t.Fatalf("listed %d enquiries, want %d", len(list), len(ids))
		}
	}
}

// Ensure a pending op the projection cannot read (a corrupt log entry)
// is a clear error at Open, not a store that serves stale views.
func TestDeferredProjection_CorruptPendingOp(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ground.db")
	s, c := openManual(t, path, store.Options{}), newHLCs()
	create := createOp(c, "tw-1")
	MustApplyOK(t, s, strict, create, assignOp(c, create.Enquiry, "F"))
	if _, err := s.Apply(ctx, []syncproto.Op{ackOp(c, create.Enquiry, "d1")}, store.Scope{Device: "d1", Flights: []string{"F"}}); err != nil {
		t.Fatal(err)
	}
	head := s.Head()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("log")).Put(binary.BigEndian.AppendUint64(nil, head), []byte{0xff, 0x00, 0x13})
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s2, err := store.Open(path); err == nil {
		s2.Close()
		t.Fatal("opened a store whose pending op cannot be read")
	} else if !strings.Contains(err.Error(), "decode op at") {
		t.Errorf("err = %v, want it to name the op it cannot decode", err)
	}
}
