package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"
)

// Ensure an enquiry handed to a flight reaches the tablet that serves it,
// and the ground sees it delivered, then acknowledged.
func TestAssignmentReachesDevice(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	c := startCabin(t, g, "tablet-1")
	flight, enq := g.seed("KL0641", "tw-1")
	other := g.newEnquiry("tw-2") // not assigned: must never reach the tablet
	c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)

	eventually(t, 5*time.Second, "enquiry on the tablet", func() bool { return c.hasEnquiry(enq) })
	got := c.enquiry(enq)
	if got.Status != "delivered" || got.Seat != "12A" || got.FlightID != flight {
		t.Fatalf("tablet enquiry = %+v, want delivered on %s seat 12A", got, flight)
	}
	eventually(t, 5*time.Second, "ground status delivered", func() bool { return g.enquiry(enq).Status == "delivered" })
	if c.hasEnquiry(other) {
		t.Fatal("an unassigned enquiry reached the tablet")
	}

	c.api("POST", "/enquiries/"+enq+"/ack", nil, 200, nil)
	eventually(t, 5*time.Second, "ground status acknowledged", func() bool { return g.enquiry(enq).Status == "acknowledged" })

	// A live change after the catch-up: a ground note reaches the tablet.
	g.api("POST", "/enquiries/"+enq+"/notes", map[string]string{"text": "She is celebrating her birthday too."}, 201, nil)
	eventually(t, 5*time.Second, "ground note on the tablet", func() bool { return len(c.enquiry(enq).Notes) == 1 })
	eventually(t, 5*time.Second, "tablet synced", func() bool { s := c.status(); return s.Pending == 0 && s.LastSync != nil })
}

// Ensure a resolution recorded while the ground server is down is answered
// locally at once, waits in the outbox, and reaches the ground after it
// restarts.
func TestResolveWhileGroundDown(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	c := startCabin(t, g, "tablet-1")
	flight, enq := g.seed("KL0641", "tw-1")
	c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	eventually(t, 5*time.Second, "enquiry on the tablet", func() bool { return c.hasEnquiry(enq) })

	g.shutdown()
	eventually(t, 5*time.Second, "tablet offline", func() bool { return !c.status().Connected })
	start := time.Now()
	c.api("POST", "/enquiries/"+enq+"/resolve", map[string]string{"outcome": "resolved", "note": "Served first, she was delighted."}, 200, nil)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("resolve took %s offline: it must not wait for the network", d)
	}
	if s := c.status(); s.Pending != 1 || s.Connected {
		t.Fatalf("offline status = %+v, want 1 pending, not connected", s)
	}

	g.start()
	eventually(t, 10*time.Second, "resolution on the ground", func() bool { return g.enquiry(enq).Status == "resolved" })
	e := g.enquiry(enq)
	if e.Resolution == nil || e.Resolution.Note != "Served first, she was delighted." {
		t.Fatalf("ground resolution = %+v", e.Resolution)
	}
	eventually(t, 5*time.Second, "outbox drained", func() bool { return c.status().Pending == 0 })
}

// Ensure two tablets on one flight converge with the ground when both act
// on the same enquiry at the same time, and that the superseded outcome
// stays in the history.
func TestTwoTabletsConverge(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	a := startCabin(t, g, "purser")
	b := startCabin(t, g, "crew-2")
	flight, enq := g.seed("KL0641", "tw-1")
	for _, c := range []*cabin{a, b} {
		c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	}
	eventually(t, 5*time.Second, "enquiry on both tablets", func() bool { return a.hasEnquiry(enq) && b.hasEnquiry(enq) })

	// Both act with no link in between: a ground outage.
	g.shutdown()
	eventually(t, 5*time.Second, "tablets offline", func() bool { return !a.status().Connected && !b.status().Connected })
	a.api("POST", "/enquiries/"+enq+"/ack", nil, 200, nil)
	a.api("POST", "/enquiries/"+enq+"/resolve", map[string]string{"outcome": "not_resolved", "note": "Could not find her."}, 200, nil)
	b.api("POST", "/enquiries/"+enq+"/notes", map[string]string{"text": "She moved to 14C."}, 201, nil)
	b.api("POST", "/enquiries/"+enq+"/resolve", map[string]string{"outcome": "resolved", "note": "Found her in 14C, served first."}, 200, nil)
	g.start()

	eventually(t, 10*time.Second, "all three agree", func() bool {
		ge := g.enquiry(enq)
		return len(ge.History) == 6 && same(ge, a.enquiry(enq)) && same(ge, b.enquiry(enq))
	})
	ge := g.enquiry(enq)
	if ge.Resolution == nil || ge.Resolution.Outcome != "resolved" {
		t.Fatalf("resolution = %+v, want the later outcome (resolved)", ge.Resolution)
	}
	superseded := 0
	for _, h := range ge.History {
		if h.Effect == "superseded" {
			superseded++
		}
	}
	if superseded != 1 {
		t.Fatalf("history has %d superseded entries, want 1: %+v", superseded, ge.History)
	}
}

// same compares the replicated state of two views of an enquiry. The status
// differs only by the "delivered" overlay, which is not replicated state.
func same(x, y enquiryJSON) bool {
	norm := func(e enquiryJSON) string {
		if e.Status == "delivered" {
			e.Status = "assigned"
		}
		sort.Slice(e.Notes, func(i, j int) bool { return e.Notes[i].ID < e.Notes[j].ID })
		b, _ := json.Marshal(e)
		return string(b)
	}
	return norm(x) == norm(y)
}

// Ensure a large backlog recorded offline, over many enquiries, arrives
// exactly once each, in several push batches.
func TestOfflineBacklogArrivesOnce(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	c := startCabin(t, g, "tablet-1")
	flight, first := g.seed("KL0641", "tw-0")
	enqs := []string{first}
	for i := 1; i < 20; i++ {
		id := g.newEnquiry(fmt.Sprintf("tw-%d", i))
		g.assign(id, flight)
		enqs = append(enqs, id)
	}
	c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	eventually(t, 5*time.Second, "enquiries on the tablet", func() bool { return c.hasEnquiry(enqs[len(enqs)-1]) })
	g.shutdown()
	const perEnquiry = 60 // 1,200 ops: more than two push batches
	for i := range perEnquiry {
		for _, id := range enqs {
			c.api("POST", "/enquiries/"+id+"/notes", map[string]string{"text": fmt.Sprintf("note %d", i)}, 201, nil)
		}
	}
	if p := c.status().Pending; p != perEnquiry*len(enqs) {
		t.Fatalf("pending = %d, want %d", p, perEnquiry*len(enqs))
	}
	g.start()
	eventually(t, 30*time.Second, "outbox drained", func() bool { return c.status().Pending == 0 })
	for _, id := range enqs {
		e := g.enquiry(id)
		seen := map[string]bool{}
		for _, nt := range e.Notes {
			if seen[nt.ID] {
				t.Fatalf("note %s stored twice", nt.ID)
			}
			seen[nt.ID] = true
		}
		if len(e.Notes) != perEnquiry {
			t.Fatalf("ground has %d notes on %s, want %d", len(e.Notes), id, perEnquiry)
		}
		if !same(e, c.enquiry(id)) {
			t.Fatalf("tablet and ground differ on %s", id)
		}
	}
}
