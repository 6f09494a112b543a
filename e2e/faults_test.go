package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cabincare/cabincare/faultlink"
	"github.com/cabincare/cabincare/server"
)

// newFlight creates a flight and returns its id.
func (g *ground) newFlight(number string) string {
	g.t.Helper()
	var f struct{ ID string }
	g.api("POST", "/flights", map[string]string{"number": number, "date": "2026-11-23", "origin": "AMS", "destination": "JFK"}, 201, &f)
	return f.ID
}

// handOut creates n enquiries assigned to flight.
func (g *ground) handOut(flight, prefix string, n int) []string {
	g.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = g.newEnquiry(fmt.Sprintf("%s-%d", prefix, i))
		g.assign(ids[i], flight)
	}
	return ids
}

// crewWork acknowledges, notes and resolves every enquiry on the tablet,
// through its local API (which never waits for the link), and returns the
// note texts it recorded.
func (c *cabin) crewWork(enqs []string, tag string) []string {
	c.t.Helper()
	var notes []string
	for i, id := range enqs {
		c.api("POST", "/enquiries/"+id+"/ack", nil, 200, nil)
		text := fmt.Sprintf("%s note %d", tag, i)
		c.api("POST", "/enquiries/"+id+"/notes", map[string]string{"text": text}, 201, nil)
		notes = append(notes, text)
		c.api("POST", "/enquiries/"+id+"/resolve", map[string]string{"outcome": "resolved", "note": tag}, 200, nil)
	}
	return notes
}

// waitConverged waits until every tablet has sent everything and holds
// each enquiry exactly as the ground does, then checks that each note was
// stored once.
func waitConverged(t testing.TB, g *ground, cabins []*cabin, enqs, notes []string, within time.Duration) {
	t.Helper()
	eventually(t, within, "tablets and ground converge", func() bool {
		for _, c := range cabins {
			if s := c.status(); s.Pending != 0 || s.DeadLetters != 0 {
				return false
			}
		}
		for _, id := range enqs {
			ge := g.enquiry(id)
			for _, c := range cabins {
				if e, ok := c.tryEnquiry(id); !ok || !same(ge, e) {
					return false
				}
			}
		}
		return true
	})
	want := map[string]bool{}
	for _, n := range notes {
		want[n] = true
	}
	got := map[string]int{}
	for _, id := range enqs {
		for _, n := range g.enquiry(id).Notes {
			got[n.Text]++
		}
	}
	for n := range want {
		if got[n] != 1 {
			t.Errorf("note %q is on the ground %d times, want once", n, got[n])
		}
	}
}

// Ensure sync completes, with nothing lost or doubled, through each fault
// of a satellite link: a 600 ms one-way delay, a 64 kbit/s cap, connections
// cut in the middle of frames, a stalled (half-open) connection, and a link
// that keeps dropping.
func TestSyncUnderLinkFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		heartbeat time.Duration
		n         int
		setup     func(l *faultlink.Link)
		// during runs while the crew work, until stop is closed.
		during func(t *testing.T, l *faultlink.Link, rng *rand.Rand, stop <-chan struct{})
		// reconnects is the least number of connections the fault must
		// have forced, so the test proves it happened during the work.
		reconnects int64
	}{
		{name: "Latency600ms", n: 6, setup: func(l *faultlink.Link) {
			l.SetLatency(faultlink.Up, 600*time.Millisecond)
			l.SetLatency(faultlink.Down, 600*time.Millisecond)
		}},
		// A frame must cross the link within three heartbeats (see
		// TestSlowLinkBigFrame), so this one runs with 2 s heartbeats.
		{name: "Bandwidth64k", heartbeat: 2 * time.Second, n: 10, setup: func(l *faultlink.Link) {
			l.SetBandwidth(faultlink.Up, 64_000)
			l.SetBandwidth(faultlink.Down, 64_000)
		}},
		{name: "CutMidFrame", n: 20, reconnects: 3, during: func(t *testing.T, l *faultlink.Link, rng *rand.Rand, stop <-chan struct{}) {
			for {
				seen := l.Accepted()
				l.CutAfter(faultlink.Direction(rng.IntN(2)), int64(50+rng.IntN(3000)))
				for l.Accepted() == seen || l.Cuts() == 0 {
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Millisecond):
					}
				}
			}
		}},
		{name: "StallHalfOpen", n: 6, reconnects: 2, during: func(t *testing.T, l *faultlink.Link, rng *rand.Rand, stop <-chan struct{}) {
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Duration(1000+rng.IntN(1500)) * time.Millisecond):
					l.Stall()
				}
			}
		}},
		{name: "Flapping", n: 10, reconnects: 3, during: func(t *testing.T, l *faultlink.Link, rng *rand.Rand, stop <-chan struct{}) {
			for {
				select {
				case <-stop:
					l.SetDown(false)
					return
				case <-time.After(time.Duration(50+rng.IntN(400)) * time.Millisecond):
					l.SetDown(!l.Down())
				}
			}
		}},
		{name: "Everything", n: 10, reconnects: 2, setup: func(l *faultlink.Link) {
			l.SetLatency(faultlink.Up, 300*time.Millisecond)
			l.SetLatency(faultlink.Down, 300*time.Millisecond)
			l.SetBandwidth(faultlink.Up, 256_000)
			l.SetBandwidth(faultlink.Down, 256_000)
		}, during: func(t *testing.T, l *faultlink.Link, rng *rand.Rand, stop <-chan struct{}) {
			for {
				select {
				case <-stop:
					l.SetDown(false)
					return
				case <-time.After(time.Duration(300+rng.IntN(700)) * time.Millisecond):
				}
				switch rng.IntN(3) {
				case 0:
					l.CutAfter(faultlink.Direction(rng.IntN(2)), int64(rng.IntN(2000)))
				case 1:
					l.Stall()
				case 2:
					l.SetDown(true)
					time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
					l.SetDown(false)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hb := tc.heartbeat
			if hb == 0 {
				hb = 500 * time.Millisecond
			}
			g := startGroundWith(t, func(c *server.Config) { c.Hub.Heartbeat = hb })
			link := newLink(t, g)
			if tc.setup != nil {
				tc.setup(link)
			}
			c := startCabinVia(t, g, "tablet-1", link)
			flight := g.newFlight("KL0641")
			enqs := g.handOut(flight, "tw", tc.n)

			rng := rand.New(rand.NewPCG(uint64(len(tc.name)), 41))
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				if tc.during != nil {
					tc.during(t, link, rand.New(rand.NewPCG(uint64(len(tc.name)), 42)), stop)
				}
			}()
			// The faults run from before the first pull until the crew
			// and the agents have worked for a while through them.
			start := time.Now()
			c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
			eventually(t, 60*time.Second, "every enquiry on the tablet", func() bool {
				for _, id := range enqs {
					if !c.hasEnquiry(id) {
						return false
					}
				}
				return true
			})
			var notes []string
			for _, id := range enqs {
				c.api("POST", "/enquiries/"+id+"/ack", nil, 200, nil)
			}
			for round := 0; time.Since(start) < 4*time.Second || link.Accepted() < tc.reconnects; round++ {
				if time.Since(start) > 30*time.Second {
					t.Fatalf("the fault forced %d connections in 30 s, want %d", link.Accepted(), tc.reconnects)
				}
				id := enqs[round%len(enqs)]
				text := fmt.Sprintf("%s crew note %d", tc.name, round)
				c.api("POST", "/enquiries/"+id+"/notes", map[string]string{"text": text}, 201, nil)
				notes = append(notes, text)
				if round%4 == 0 {
					text := fmt.Sprintf("%s ground note %d", tc.name, round)
					g.api("POST", "/enquiries/"+id+"/notes", map[string]string{"text": text}, 201, nil)
					notes = append(notes, text)
				}
				time.Sleep(time.Duration(30+rng.IntN(120)) * time.Millisecond)
			}
			for _, id := range enqs {
				c.api("POST", "/enquiries/"+id+"/resolve", map[string]string{"outcome": "resolved", "note": tc.name}, 200, nil)
			}
			close(stop)
			<-done
			link.Resume()
			waitConverged(t, g, []*cabin{c}, enqs, notes, 60*time.Second)
			t.Logf("reliability: link fault %s: %d enquiries, %d notes, converged %s after the start; %d connections, %d cuts, %d bytes up, %d bytes down",
				tc.name, len(enqs), len(notes), time.Since(start).Round(time.Millisecond), link.Accepted(), link.Cuts(), link.Bytes(faultlink.Up), link.Bytes(faultlink.Down))
			if strings.HasPrefix(tc.name, "Cut") && link.Cuts() == 0 {
				t.Fatal("no connection was cut: the test proved nothing")
			}
		})
	}
}

// Ensure a half-open link (nothing gets through, neither end is told) is
// detected by the heartbeats and the session replaced within three
// heartbeats plus the reconnect backoff, on the tablet's side; and that
// the ground drops its side within three heartbeats when no new
// connection comes.
func TestHalfOpenDetected(t *testing.T) {
	t.Parallel()
	const hb = 500 * time.Millisecond
	g := startGroundWith(t, func(c *server.Config) { c.Hub.Heartbeat = hb })
	link := newLink(t, g)
	c := startCabinVia(t, g, "tablet-1", link)
	flight, enq := g.seed("KL0641", "tw-1")
	c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	eventually(t, 10*time.Second, "enquiry on the tablet", func() bool { return c.hasEnquiry(enq) })
	live, ok := g.srv.Hub.Live(c.creds.ID)
	if !ok {
		t.Fatal("no live session")
	}

	// The tablet side: the old session is replaced by a new connection.
	// Bound: 3 heartbeats of silence, then at most 1.5 x the 200 ms
	// reconnect cap, a dial and a handshake.
	bound := 3*hb + 300*time.Millisecond + time.Second
	if n := link.Stall(); n != 1 {
		t.Fatalf("stalled %d connections, want 1", n)
	}
	stalled := time.Now()
	c.api("POST", "/enquiries/"+enq+"/notes", map[string]string{"text": "written on a dead link"}, 201, nil)
	eventually(t, 10*time.Second, "a new session", func() bool {
		l, ok := g.srv.Hub.Live(c.creds.ID)
		return ok && l.SessionID != live.SessionID
	})
	replaced := time.Since(stalled)
	if replaced > bound {
		t.Errorf("half-open session replaced after %s, want within %s", replaced, bound)
	}
	if replaced < 3*hb-100*time.Millisecond {
		t.Errorf("session replaced after %s, before 3 heartbeats of silence: was the link really stalled?", replaced)
	}
	eventually(t, 10*time.Second, "note on the ground", func() bool { return len(g.enquiry(enq).Notes) == 1 })
	if n := g.srv.Hub.Connected(); n != 1 {
		t.Errorf("ground has %d sessions, want 1 (the old one replaced)", n)
	}

	// The ground side: stall again and refuse new connections; the ground
	// drops the silent session by itself.
	link.Refuse(true)
	link.Stall()
	stalled = time.Now()
	eventually(t, 10*time.Second, "ground drops the silent session", func() bool { return g.srv.Hub.Connected() == 0 })
	if d := time.Since(stalled); d > 3*hb+time.Second {
		t.Errorf("ground dropped the half-open session after %s, want within %s", d, 3*hb+time.Second)
	}
	eventually(t, 10*time.Second, "tablet knows it is offline", func() bool { return !c.status().Connected })
	t.Logf("reliability: half-open replaced in %s (bound %s)", replaced.Round(time.Millisecond), bound)
}

// randomText is n letters that zstd cannot shrink much, like text in
// several alphabets.
func randomText(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

// Ensure a frame that takes longer than three heartbeats to cross a slow
// link still gets through. Liveness is judged per frame today: each side
// sets a read deadline of three heartbeats before reading a frame, so a
// frame that needs longer (a catch-up page or a push of long texts at
// 64 kbit/s) times out half-way, the session is dropped, and the same
// frame is sent again on the next connection, for ever: the tablet never
// catches up and its outbox never drains. With the defaults (10 s
// heartbeat, 500-op frames of up to 4 MiB) this is any frame over 240 KB
// at 64 kbit/s. Here the heartbeat is 1 s, so 24 KB.
func TestSlowLinkBigFrame(t *testing.T) {
	t.Parallel()
	for _, dir := range []faultlink.Direction{faultlink.Down, faultlink.Up} {
		t.Run(map[faultlink.Direction]string{faultlink.Down: "CatchUpPage", faultlink.Up: "Push"}[dir], func(t *testing.T) {
			t.Parallel()
			g := startGroundWith(t, func(c *server.Config) { c.Hub.Heartbeat = time.Second })
			link := newLink(t, g)
			c := startCabinVia(t, g, "tablet-1", link)
			flight := g.newFlight("KL0641")
			rng := rand.New(rand.NewPCG(7, uint64(dir)))
			const n = 40
			var enqs []string
			for i := range n {
				text := "My meal was cold. "
				if dir == faultlink.Down {
					text += randomText(rng, 1500)
				}
				var e enquiryJSON
				g.api("POST", "/enquiries", map[string]string{"channel": "twitter", "external_id": fmt.Sprintf("tw-%d", i), "handle": "@pax", "text": text, "language": "en"}, 201, &e)
				g.assign(e.ID, flight)
				enqs = append(enqs, e.ID)
			}
			var notes []string
			if dir == faultlink.Up {
				// The tablet gets the enquiries at full speed, then writes
				// long notes offline.
				c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
				eventually(t, 20*time.Second, "enquiries on the tablet", func() bool { return c.hasEnquiry(enqs[n-1]) })
				link.SetDown(true)
				for i, id := range enqs {
					text := fmt.Sprintf("%d %s", i, randomText(rng, 1500))
					c.api("POST", "/enquiries/"+id+"/notes", map[string]string{"text": text}, 201, nil)
					notes = append(notes, text)
				}
				link.SetDown(false)
			}
			link.SetBandwidth(dir, 64_000)
			if dir == faultlink.Down {
				c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
			}
			start := time.Now()
			// Each frame here is about 60 KB, 8 s at 64 kbit/s; give it
			// three times that.
			deadline := time.Now().Add(25 * time.Second)
			for time.Now().Before(deadline) {
				s := c.status()
				if dir == faultlink.Down && c.hasEnquiry(enqs[n-1]) || dir == faultlink.Up && s.Pending == 0 {
					t.Logf("reliability: slow link %s: synced in %s over %d connections", dir, time.Since(start).Round(time.Millisecond), link.Accepted())
					if dir == faultlink.Up {
						waitConverged(t, g, []*cabin{c}, enqs, notes, 30*time.Second)
					}
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Fatalf("BUG: not synced after 25 s at 64 kbit/s: the link carried %d bytes %s over %d connections, "+
				"restarting the same frame each time (server/hub/session.go reader and device/syncclient/client.go reader set a read deadline of 3 heartbeats per frame, not per byte of progress)",
				link.Bytes(dir), dir, link.Accepted())
		})
	}
}
