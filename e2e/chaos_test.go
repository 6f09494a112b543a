package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cabincare/cabincare/faultlink"
	"github.com/cabincare/cabincare/server"
)

// Ensure the real hub and sync client keep every invariant under a random
// mix of crew and agent work, link faults (latency, cuts in mid-frame,
// stalls, drops) and restarts of tablets and ground, all at once: after
// healing, nothing confirmed is lost or stored twice, and every tablet
// holds exactly the ground's state for each enquiry of its flights, and
// nothing else. The simulation in syncsim covers thousands of schedules;
// this covers the real goroutines, sockets and timers.
//
// CHAOS_SECONDS (default 6) sets how long the chaos runs, CHAOS_SEED the
// seed (default: the date). Agents also move and recall enquiries;
// CHAOS_MOVES=0 leaves that out.
func TestChaosRealStack(t *testing.T) {
	t.Parallel()
	seconds, seed := 6, uint64(time.Now().YearDay())
	if v, err := strconv.Atoi(os.Getenv("CHAOS_SECONDS")); err == nil {
		seconds = v
	}
	if v, err := strconv.ParseUint(os.Getenv("CHAOS_SEED"), 10, 64); err == nil {
		seed = v
	}
	moves := os.Getenv("CHAOS_MOVES") != "0"
	t.Logf("CHAOS_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	g := startGroundWith(t, func(c *server.Config) { c.Hub.Heartbeat = 300 * time.Millisecond })
	flights := []string{g.newFlight("KL0641"), g.newFlight("KL0642")}
	var enqs []string
	for i := range 6 {
		enqs = append(enqs, g.handOut(flights[i%2], fmt.Sprintf("start-%d", i), 1)...)
	}
	var cabins []*cabin
	var links []*faultlink.Link
	for i := range 3 {
		l := newLink(t, g)
		c := startCabinVia(t, g, fmt.Sprintf("tablet-%d", i), l)
		c.api("PUT", "/flight", map[string]string{"flight_id": flights[i%2]}, 200, nil)
		cabins, links = append(cabins, c), append(links, l)
	}
	// What each tablet was told it recorded, and what the agents were.
	var notes []string
	faults := map[string]int{}
	held := func(c *cabin) []string {
		var list struct {
			Enquiries []enquiryJSON `json:"enquiries"`
		}
		c.api("GET", "/enquiries", nil, 200, &list)
		var ids []string
		for _, e := range list.Enquiries {
			ids = append(ids, e.ID)
		}
		return ids
	}
	end := time.Now().Add(time.Duration(seconds) * time.Second)
	for step := 0; time.Now().Before(end); step++ {
		i := rng.IntN(len(cabins))
		c, l := cabins[i], links[i]
		switch n := rng.IntN(100); {
		case n < 40: // crew work, offline or not
			ids := held(c)
			if len(ids) == 0 {
				break
			}
			id := ids[rng.IntN(len(ids))]
			switch rng.IntN(3) {
			case 0:
				try(t, "POST", "http://"+c.addr+"/api/v1/enquiries/"+id+"/ack", cabinToken, nil)
			case 1:
				text := fmt.Sprintf("crew %d step %d", i, step)
				c.api("POST", "/enquiries/"+id+"/notes", map[string]string{"text": text}, 201, nil)
				notes = append(notes, text)
			case 2:
				out := []string{"resolved", "not_resolved", "escalated", "passenger_not_on_board"}[rng.IntN(4)]
				try(t, "POST", "http://"+c.addr+"/api/v1/enquiries/"+id+"/resolve", cabinToken, map[string]string{"outcome": out})
			}
		case n < 55: // agents
			id := enqs[rng.IntN(len(enqs))]
			switch k := rng.IntN(4); {
			case k == 0:
				enqs = append(enqs, g.handOut(flights[rng.IntN(2)], fmt.Sprintf("step-%d", step), 1)...)
			case k == 1:
				text := fmt.Sprintf("agent step %d", step)
				g.api("POST", "/enquiries/"+id+"/notes", map[string]string{"text": text}, 201, nil)
				notes = append(notes, text)
			case k == 2 && moves:
				try(t, "POST", g.url()+"/api/v1/enquiries/"+id+"/assign", adminToken, map[string]string{"flight_id": flights[rng.IntN(2)]})
			case k == 3 && moves:
				try(t, "POST", g.url()+"/api/v1/enquiries/"+id+"/recall", adminToken, nil)
			default:
				try(t, "POST", g.url()+"/api/v1/enquiries/"+id+"/close", adminToken, map[string]any{"force": true, "reason": "answered"})
			}
		case n < 58:
			c.api("PUT", "/flight", map[string]string{"flight_id": flights[rng.IntN(2)]}, 200, nil)
		case n < 66:
			l.CutAfter(faultlink.Direction(rng.IntN(2)), int64(rng.IntN(4000)))
			faults["cut"]++
		case n < 72:
			l.Stall()
			faults["stall"]++
		case n < 80:
			l.SetDown(!l.Down())
			faults["drop"]++
		case n < 84:
			lat := time.Duration(rng.IntN(4)) * 100 * time.Millisecond
			l.SetLatency(faultlink.Up, lat)
			l.SetLatency(faultlink.Down, lat)
			faults["latency"]++
		case n < 86:
			c.shutdown()
			c.start()
			faults["tablet restart"]++
		case n < 87:
			g.shutdown()
			g.start()
			faults["ground restart"]++
		}
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
	}

	// Heal, then check.
	for _, l := range links {
		l.SetDown(false)
		l.Resume()
		l.SetLatency(faultlink.Up, 0)
		l.SetLatency(faultlink.Down, 0)
	}
	eventually(t, 60*time.Second, "every tablet drained and caught up", func() bool {
		for _, c := range cabins {
			if s := c.status(); !s.Connected || s.Pending != 0 {
				return false
			}
			st, err := c.svc.Store.Status()
			if err != nil {
				return false
			}
			for f, cur := range st.Cursors {
				if h, _ := g.srv.Store.FlightHead(t.Context(), f); h != cur {
					return false
				}
			}
		}
		return true
	})
	for _, c := range cabins {
		st, _ := c.svc.Store.Status()
		if st.DeadLetters != 0 {
			t.Errorf("%s has %d dead letters", c.creds.ID, st.DeadLetters)
		}
		all, err := c.svc.Store.Enquiries(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		mine := map[string]bool{}
		for _, e := range all {
			mine[e.ID.String()] = true
			if _, ok := st.Cursors[e.FlightID]; !ok {
				t.Errorf("%s holds %s of flight %q, which it does not serve", c.creds.ID, e.ID, e.FlightID)
			}
			if !same(g.enquiry(e.ID.String()), c.enquiry(e.ID.String())) {
				t.Errorf("%s and the ground differ on %s", c.creds.ID, e.ID)
			}
		}
		for _, id := range enqs {
			ge := g.enquiry(id)
			if _, ok := st.Cursors[ge.FlightID]; ok && !mine[id] {
				t.Errorf("%s serves %s but does not hold %s", c.creds.ID, ge.FlightID, id)
			}
		}
	}
	count := map[string]int{}
	for _, id := range enqs {
		for _, n := range g.enquiry(id).Notes {
			count[n.Text]++
		}
	}
	for _, n := range notes {
		if count[n] != 1 {
			t.Errorf("note %q is on the ground %d times, want once", n, count[n])
		}
	}
	t.Logf("reliability: chaos seed %d: %d s, %d enquiries, %d notes confirmed, faults %v; lost 0, duplicated 0", seed, seconds, len(enqs), len(notes), faults)
}
