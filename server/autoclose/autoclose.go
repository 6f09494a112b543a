package autoclose

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cabincare/cabincare/server/store"
)

// Store is what the closer needs of the ground store.
type Store interface {
	Flights(ctx context.Context) ([]store.Flight, error)
	CloseFlight(ctx context.Context, id string, at time.Time) (*store.Flight, error)
	AppendAudit(ctx context.Context, e store.AuditEvent) error
}

// Closer closes flights After their arrival.
type Closer struct {
	Store Store
	// Disconnect ends the sessions serving a closed flight
	// (hub.FlightClosed, as the close route does).
	Disconnect func(flight string) int
	// After is how long after a flight's arrival it closes; 0 never.
	After time.Duration
	// Interval is how often flights are checked.
	Interval time.Duration
	Now      func() time.Time
	Log      *slog.Logger
}

// unscheduled is the slack given to a flight without a scheduled arrival:
// its departure (or, without one, the start of its date) plus a day covers
// the longest flights.
const unscheduled = 24 * time.Hour

// Arrival is when a flight arrives by its schedule: its arrival time, or a
// day after its departure or the start of its date (UTC) when it has no
// arrival time. ok is false when the flight says neither.
func Arrival(f *store.Flight) (time.Time, bool) {
	switch {
	case f.ArrivesAt != nil:
		return *f.ArrivesAt, true
	case f.DepartsAt != nil:
		return f.DepartsAt.Add(unscheduled), true
	}
	d, err := time.Parse(time.DateOnly, f.Date)
	if err != nil {
		return time.Time{}, false
	}
	return d.Add(unscheduled), true
}

// Sweep closes every open flight whose arrival was After ago or more, and
// returns their ids.
func (c *Closer) Sweep(ctx context.Context) ([]string, error) {
	if c.After <= 0 {
		return nil, nil
	}
	flights, err := c.Store.Flights(ctx)
	if err != nil {
		return nil, err
	}
	now := c.Now()
	var closed []string
	for i := range flights {
		f := &flights[i]
		at, ok := Arrival(f)
		if f.ClosedAt != nil || !ok || now.Before(at.Add(c.After)) {
			continue
		}
		if _, err := c.Store.CloseFlight(ctx, f.ID, now); err != nil {
			return closed, fmt.Errorf("close flight %s: %w", f.ID, err)
		}
		closed = append(closed, f.ID)
		n := 0
		if c.Disconnect != nil {
			n = c.Disconnect(f.ID)
		}
		detail := fmt.Sprintf("arrived %s; closed %s after arrival", at.UTC().Format(time.RFC3339), c.After)
		if err := c.Store.AppendAudit(ctx, store.AuditEvent{At: now.UTC(), Kind: store.AuditFlightClosed, Actor: "system:autoclose", Subject: "flight:" + f.ID, Detail: detail}); err != nil {
			c.Log.Error("audit automatic close", "flight", f.ID, "err", err)
		}
		c.Log.Info("flight closed after arrival", "flight", f.ID, "arrived", at, "sessions_ended", n)
	}
	return closed, nil
}

// Run sweeps at once and then every Interval until ctx ends.
func (c *Closer) Run(ctx context.Context) {
	if c.After <= 0 {
		return
	}
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	for {
		if _, err := c.Sweep(ctx); err != nil && ctx.Err() == nil {
			c.Log.Error("close flights after arrival", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
