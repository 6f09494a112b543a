package autoclose_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cabincare/cabincare/server/autoclose"
	"github.com/cabincare/cabincare/server/store"
)

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// Ensure a sweep closes exactly the open flights whose arrival (or, for
// a flight without one, its departure or date plus a day) is After ago,
// ends their sessions and audits each close.
func TestSweep(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "ground.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	flights := []store.Flight{
		{ID: "KL0641-2026-11-22", Number: "KL0641", Date: "2026-11-22", ArrivesAt: at("2026-11-22T18:00:00Z")}, // arrived 26 h ago
		{ID: "KL0643-2026-11-23", Number: "KL0643", Date: "2026-11-23", ArrivesAt: at("2026-11-23T10:00:00Z")}, // arrived 10 h ago
		{ID: "KL0645-2026-11-22", Number: "KL0645", Date: "2026-11-22", DepartsAt: at("2026-11-21T12:00:00Z")}, // departed 2 days ago
		{ID: "KL0647-2026-11-21", Number: "KL0647", Date: "2026-11-21"},                                        // date only, 2 days ago
		{ID: "KL0649-2026-11-23", Number: "KL0649", Date: "2026-11-23"},                                        // date only, today
		{ID: "KL0651-2026-11-20", Number: "KL0651", Date: "2026-11-20", ArrivesAt: at("2026-11-20T09:00:00Z")}, // closed by hand already
	}
	for i := range flights {
		if err := st.CreateFlight(ctx, &flights[i]); err != nil {
			t.Fatal(err)
		}
	}
	closedByHand := *at("2026-11-20T10:00:00Z")
	if _, err := st.CloseFlight(ctx, "KL0651-2026-11-20", closedByHand); err != nil {
		t.Fatal(err)
	}
	now := *at("2026-11-23T20:00:00Z")
	var ended []string
	c := &autoclose.Closer{
		Store: st, After: 24 * time.Hour, Interval: time.Minute, Now: func() time.Time { return now },
		Disconnect: func(flight string) int { ended = append(ended, flight); return 1 },
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	got, err := c.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"KL0641-2026-11-22", "KL0645-2026-11-22", "KL0647-2026-11-21"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("closed %v, want %v", got, want)
	}
	slices.Sort(ended)
	if !slices.Equal(ended, want) {
		t.Errorf("sessions ended on %v, want %v", ended, want)
	}
	for _, id := range want {
		f, err := st.Flight(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if f.ClosedAt == nil || !f.ClosedAt.Equal(now) {
			t.Errorf("%s closed at %v, want %v", id, f.ClosedAt, now)
		}
	}
	if f, _ := st.Flight(ctx, "KL0651-2026-11-20"); !f.ClosedAt.Equal(closedByHand) {
		t.Errorf("a flight closed by hand was closed again at %v", f.ClosedAt)
	}
	audit, err := st.Audit(ctx, store.AuditFilter{Kind: store.AuditFlightClosed})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != len(want) || audit[0].Actor != "system:autoclose" {
		t.Errorf("audit = %+v, want %d closes by system:autoclose", audit, len(want))
	}
	// A second sweep finds nothing left to close.
	if again, err := c.Sweep(ctx); err != nil || len(again) != 0 {
		t.Errorf("second sweep closed %v (%v)", again, err)
	}
	// Off: nothing is closed, whatever the schedule says.
	now = now.Add(30 * 24 * time.Hour)
	off := *c
	off.After = 0
	if got, err := off.Sweep(ctx); err != nil || len(got) != 0 {
		t.Errorf("sweep with After 0 closed %v (%v)", got, err)
	}
}
