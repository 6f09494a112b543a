package store

import (
	"context"
	"testing"
	"time"

	"github.com/cabincare/cabincare/syncproto"
)

// Ensure a closed flight's data leaves the tablet only once its retention
// has passed and every op of it is acknowledged; the purge removes the
// enquiries, their ops, their dead letters and the flight, keeps another
// flight's data, and leaves a receipt until the ground acknowledges it.
func TestPurgeClosedFlight(t *testing.T) {
	t.Parallel()
	s := MustOpenStore(t)
	c := newHLCs()
	a := deliver(t, s, c, "F", 2)
	b := deliver(t, s, c, "F", 4)
	if err := s.OpenFlight("G"); err != nil {
		t.Fatal(err)
	}
	other := deliver(t, s, c, "G", 2)
	note := crewNote(s, a, "Served first.")
	MustRecord(t, s, note)
	refused := crewNote(s, b, "Not allowed")
	MustRecord(t, s, refused)
	if err := s.CompletePush([]syncproto.OpResult{{ID: refused.ID, Result: syncproto.ResultRefused, Code: "out_of_scope", Message: "no"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	if err := s.MarkClosed([]string{"F"}, now); err != nil {
		t.Fatal(err)
	}
	if rs, err := s.PurgeDue(now.Add(59*time.Minute), time.Hour); err != nil || len(rs) != 0 {
		t.Fatalf("before the retention: %v, %v", rs, err)
	}
	if rs, err := s.PurgeDue(now.Add(time.Hour), time.Hour); err != nil || len(rs) != 0 {
		t.Fatalf("with an op in the outbox: %v, %v", rs, err)
	}
	if e := MustEnquiry(t, s, a); e == nil || len(e.Notes) != 1 {
		t.Fatal("the enquiry with unsent work was touched")
	}
	if err := s.CompletePush([]syncproto.OpResult{{ID: note.ID, Result: syncproto.ResultApplied}}); err != nil {
		t.Fatal(err)
	}
	rs, err := s.PurgeDue(now.Add(time.Hour), time.Hour)
	// Six ops were written, but the refused one lives only in the dead
	// letters (which the purge empties too).
	if err != nil || len(rs) != 1 || rs[0].Flight != "F" || rs[0].Enquiries != 2 || rs[0].Ops != 5 {
		t.Fatalf("purge = %+v, %v; want F with 2 enquiries and 5 ops", rs, err)
	}
	if es, _ := s.Enquiries(context.Background(), "F"); len(es) != 0 {
		t.Errorf("F still has %d enquiries", len(es))
	}
	for _, id := range []syncproto.Op{note, refused} {
		if hasOp(t, s, id.ID) {
			t.Errorf("op %s survived the purge", id.ID)
		}
	}
	if dl, _ := s.DeadLetters(); len(dl) != 0 {
		t.Errorf("dead letters of F survived: %+v", dl)
	}
	if cur, _ := s.Cursors(); len(cur) != 1 || cur["G"] == 0 {
		t.Errorf("cursors = %v, want only G", cur)
	}
	if e := MustEnquiry(t, s, other); e == nil {
		t.Error("G's enquiry was purged")
	}
	if p, _ := s.PendingPurges(); len(p) != 1 || p[0].Flight != "F" {
		t.Errorf("pending receipts = %+v", p)
	}
	if rs, _ := s.PurgeDue(now.Add(2*time.Hour), time.Hour); len(rs) != 0 {
		t.Errorf("a second purge = %+v", rs)
	}
	if err := s.ForgetPurges([]string{"F"}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.PendingPurges(); len(p) != 0 {
		t.Errorf("receipts after the ack = %+v", p)
	}
}

// Ensure the ops a tablet kept, hidden, for an enquiry that moved off its
// flights (and its own note on it) leave with the flight's purge.
func TestPurgeDropsStrays(t *testing.T) {
	t.Parallel()
	s, c := MustOpenStore(t), newHLCs()
	create := createOp(c)
	enq := create.Enquiry
	assign, move := assignOp(c, enq, "F"), assignOp(c, enq, "X")
	MustApplyChanges(t, s, "F", 2, create, assign)
	note := crewNote(s, enq, "asked for a blanket")
	MustRecord(t, s, note)
	if err := s.CompletePush([]syncproto.OpResult{{ID: note.ID, Result: syncproto.ResultApplied}}); err != nil {
		t.Fatal(err)
	}
	MustApplyChanges(t, s, "F", 3, move)
	for _, op := range []syncproto.Op{create, assign, move, note} {
		if !hasOp(t, s, op.ID) {
			t.Fatalf("%s op of the stray dropped before the purge", op.Kind)
		}
	}
	now := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	if err := s.MarkClosed([]string{"F"}, now); err != nil {
		t.Fatal(err)
	}
	if rs, err := s.PurgeDue(now.Add(time.Hour), time.Hour); err != nil || len(rs) != 1 {
		t.Fatalf("purge = %+v, %v", rs, err)
	}
	for _, op := range []syncproto.Op{create, assign, move, note} {
		if hasOp(t, s, op.ID) {
			t.Errorf("%s op of the stray survived the flight's purge", op.Kind)
		}
	}
}
