package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// Ensure a device's history keeps one sample per minute, drops samples
// older than the 24-hour window as new ones arrive, and goes with the
// device when it is forgotten.
func TestDeviceHistory(t *testing.T) {
	s, ctx := MustOpenStore(t), context.Background()
	for _, id := range []string{"a", "ab"} { // "ab" shares a prefix with "a"
		if err := s.CreateDevice(ctx, &store.Device{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	record := func(id string, at time.Time, outbox int) {
		t.Helper()
		if err := s.RecordSample(ctx, id, store.Sample{At: at, Outbox: outbox}); err != nil {
			t.Fatal(err)
		}
	}
	record("a", t0, 1)
	record("a", t0.Add(30*time.Second), 2) // same minute: replaces
	record("a", t0.Add(time.Minute), 3)
	record("ab", t0, 9)
	got, err := s.History(ctx, "a", t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Outbox != 2 || got[1].Outbox != 3 {
		t.Fatalf("history = %+v, want outbox 2 then 3", got)
	}
	// A day later, the samples of the first day's first minute are gone.
	record("a", t0.Add(24*time.Hour+30*time.Second), 4)
	if got, _ = s.History(ctx, "a", t0.Add(-time.Hour)); len(got) != 2 || got[0].Outbox != 3 || got[1].Outbox != 4 {
		t.Fatalf("history after a day = %+v, want outbox 3 then 4", got)
	}
	if got, _ = s.History(ctx, "ab", t0.Add(-time.Hour)); len(got) != 1 {
		t.Fatalf("other device's history = %+v", got)
	}
	if err := s.RecordSample(ctx, "nope", store.Sample{At: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("sample of an unknown device: %v", err)
	}
	if err := s.ForgetDevice(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Device(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("forgotten device: %v", err)
	}
	if got, _ = s.History(ctx, "a", t0.Add(-time.Hour)); len(got) != 0 {
		t.Fatalf("forgotten device's history = %+v", got)
	}
	if got, _ = s.History(ctx, "ab", t0.Add(-time.Hour)); len(got) != 1 {
		t.Fatal("forgetting a dropped the history of ab")
	}
	if err := s.ForgetDevice(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("forget twice: %v", err)
	}
}

// Ensure a flight's stock is the open enquiries handed to it now, each
// with the sequence of its current hand-off: not one that moved away, not
// a closed one, and a re-assign moves the sequence.
func TestFlightStock(t *testing.T) {
	s, c, ctx := MustOpenStore(t), newHLCs(), context.Background()
	stay, moved, closed := createOp(c, "stay"), createOp(c, "moved"), createOp(c, "closed")
	MustApplyOK(t, s, strict, stay, moved, closed)
	rs := MustApplyOK(t, s, strict, assignOp(c, stay.Enquiry, "F"), assignOp(c, moved.Enquiry, "F"), assignOp(c, closed.Enquiry, "F"))
	MustApplyOK(t, s, strict, assignOp(c, moved.Enquiry, "G"), closeOp(c, closed.Enquiry, true))
	got, err := s.FlightStock(ctx, "F")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Enquiry.ID != stay.Enquiry || got[0].Seq != rs[0].Seq || got[0].Status != syncproto.StatusAssigned {
		t.Fatalf("stock of F = %+v, want only %s at %d", got, stay.Enquiry, rs[0].Seq)
	}
	again := MustApplyOK(t, s, strict, assignOp(c, stay.Enquiry, "F"))
	if got, _ = s.FlightStock(ctx, "F"); len(got) != 1 || got[0].Seq != again[0].Seq {
		t.Fatalf("after a re-assign: %+v, want seq %d", got, again[0].Seq)
	}
	if got, _ = s.FlightStock(ctx, "G"); len(got) != 1 || got[0].Enquiry.ID != moved.Enquiry {
		t.Fatalf("stock of G = %+v", got)
	}
}
