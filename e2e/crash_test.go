package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cabincare/cabincare/server/store"
)

// bins holds the binaries built once for the crash tests.
var bins struct {
	dir    string
	ground string
	cabin  string
	err    error
}

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "cabincare-e2e-bin-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		bins.dir = dir
		bins.ground, bins.cabin = filepath.Join(dir, "ground"), filepath.Join(dir, "cabin")
		for bin, pkg := range map[string]string{bins.ground: "../cmd/ground", bins.cabin: "../cmd/cabin"} {
			if os.Getenv(childEnv) != "" {
				break // a test re-running itself in a child process needs no binaries
			}
			if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
				bins.err = fmt.Errorf("build %s: %v\n%s", pkg, err, out)
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// proc is a binary running as a subprocess, killed with SIGKILL to crash it.
type proc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	log  string
}

func startProc(t testing.TB, name, bin string, args ...string) *proc {
	t.Helper()
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	logf, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, cmd: cmd, log: logf.Name()}
	t.Cleanup(func() {
		p.kill()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("%s log (last 3000 bytes):\n%s", name, tail(b, 3000))
		}
	})
	return p
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (p *proc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// stop ends the process gracefully (SIGTERM) and checks that it exits 0.
func (p *proc) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			p.t.Fatalf("%s exited with %v after SIGTERM", p.name, err)
		}
	case <-time.After(15 * time.Second):
		p.kill()
		p.t.Fatalf("%s did not stop within 15s of SIGTERM", p.name)
	}
}

func waitHealthy(t testing.TB, url string) {
	t.Helper()
	eventually(t, 15*time.Second, url+" healthy", func() bool {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// groundProc runs cmd/ground on a fixed address and data folder, so it can
// be killed and started again.
type groundProc struct {
	ground // the API helpers; srv is unused
	p      *proc
}

// head is the ground's sequence head, from the open readiness probe.
func (g *groundProc) head() uint64 {
	var r struct{ Head uint64 }
	call(g.t, "GET", g.url()+"/readyz", "", nil, 200, &r)
	return r.Head
}

func startGroundProc(t testing.TB, addr, dir string) *groundProc {
	g := &groundProc{ground: ground{t: t, addr: addr, dir: dir}}
	g.p = startProc(t, "ground", bins.ground, "--addr", addr, "--data", dir, "--admin-token", adminToken, "--heartbeat", "500ms", "--log-level", "debug")
	waitHealthy(t, g.url())
	return g
}

func startCabinProc(t testing.TB, g *ground, addr, dir string, creds deviceCreds) *cabin {
	c := &cabin{t: t, creds: creds, dir: dir, addr: addr, g: g}
	c.p = startProc(t, "cabin", bins.cabin, "--addr", addr, "--data", dir, "--ground", g.url(), "--insecure", "--api-token", cabinToken, "--device-id", creds.ID, "--device-token", creds.Token, "--reconnect-min", "20ms", "--reconnect-max", "200ms", "--log-level", "debug")
	waitHealthy(t, "http://"+addr)
	return c
}

// Ensure a resolve that returned to the crew survives kill -9 of the cabin
// service at once after, and reaches the ground after restarts: first with
// the ground down (so only the local store can have it), then several
// times with the ground up and the kill racing the push.
func TestCrashCabinAfterResolve(t *testing.T) {
	t.Parallel()
	gaddr, gdir := freeAddr(t), t.TempDir()
	g := startGroundProc(t, gaddr, gdir)
	var f struct{ ID string }
	g.api("POST", "/flights", map[string]string{"number": "KL0641", "date": "2026-11-23", "origin": "AMS", "destination": "JFK"}, 201, &f)
	creds := g.newDevice("tablet-1")
	caddr, cdir := freeAddr(t), t.TempDir()
	cab := startCabinProc(t, &g.ground, caddr, cdir, creds)
	cab.api("PUT", "/flight", map[string]string{"flight_id": f.ID}, 200, nil)

	const cycles = 6
	var enqs []string
	for i := range cycles {
		enq := g.newEnquiry(fmt.Sprintf("crash-%d", i))
		g.assign(enq, f.ID)
		enqs = append(enqs, enq)
		eventually(t, 10*time.Second, "enquiry on the tablet", func() bool { return cab.hasEnquiry(enq) })
		if i == 0 {
			g.p.kill() // the resolve can only live in the tablet's store
			eventually(t, 5*time.Second, "tablet offline", func() bool { return !cab.status().Connected })
		}
		cab.api("POST", "/enquiries/"+enq+"/resolve", map[string]string{"outcome": "resolved", "note": fmt.Sprintf("done %d", i)}, 200, nil)
		cab.p.kill() // right after the resolve returned
		if i == 0 {
			g = startGroundProc(t, gaddr, gdir)
			cab.g = &g.ground
		}
		cab = startCabinProc(t, &g.ground, caddr, cdir, creds)
	}
	for i, enq := range enqs {
		eventually(t, 15*time.Second, "resolution on the ground", func() bool { return g.enquiry(enq).Status == "resolved" })
		if e := g.enquiry(enq); e.Resolution == nil || e.Resolution.Note != fmt.Sprintf("done %d", i) {
			t.Fatalf("enquiry %d resolution = %+v", i, e.Resolution)
		}
	}
	eventually(t, 10*time.Second, "outbox drained", func() bool { return cab.status().Pending == 0 })
}

// Ensure kill -9 of the ground server in the middle of a large push loses
// nothing and doubles nothing: the tablet pushes again what was not
// acknowledged, and the ground answers duplicates for what it had stored.
func TestCrashGroundMidPush(t *testing.T) {
	t.Parallel()
	gaddr, gdir := freeAddr(t), t.TempDir()
	g := startGroundProc(t, gaddr, gdir)
	var f struct{ ID string }
	g.api("POST", "/flights", map[string]string{"number": "KL0641", "date": "2026-11-23", "origin": "AMS", "destination": "JFK"}, 201, &f)
	var enqs []string
	for i := range 30 {
		id := g.newEnquiry(fmt.Sprintf("push-%d", i))
		g.assign(id, f.ID)
		enqs = append(enqs, id)
	}
	creds := g.newDevice("tablet-1")
	caddr, cdir := freeAddr(t), t.TempDir()
	cab := startCabinProc(t, &g.ground, caddr, cdir, creds)
	cab.api("PUT", "/flight", map[string]string{"flight_id": f.ID}, 200, nil)
	eventually(t, 10*time.Second, "enquiries on the tablet", func() bool { return cab.hasEnquiry(enqs[len(enqs)-1]) })

	g.p.kill()
	eventually(t, 5*time.Second, "tablet offline", func() bool { return !cab.status().Connected })
	const perEnquiry = 50 // 1,500 ops, three push batches
	for i := range perEnquiry {
		for _, id := range enqs {
			cab.api("POST", "/enquiries/"+id+"/notes", map[string]string{"text": fmt.Sprintf("n%d", i)}, 201, nil)
		}
	}
	total := perEnquiry * len(enqs)
	rng := rand.New(rand.NewPCG(1, 2))
	midPush := 0
	for cycle := range 5 {
		g = startGroundProc(t, gaddr, gdir)
		before := g.head()
		// Wait until the push is landing, then crash the ground inside it.
		// The head is polled without pause: a batch lands in milliseconds.
		deadline := time.Now().Add(10 * time.Second)
		landed := false
		for !landed && cab.status().Pending > 0 && time.Now().Before(deadline) {
			landed = g.head() > before
		}
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
		g.p.kill()
		// Mid-push: the ground had stored part of the backlog (perhaps
		// without its ack reaching the tablet) and the tablet still had ops
		// to send.
		pending := cab.status().Pending
		if landed && pending > 0 {
			midPush++
		}
		t.Logf("cycle %d: tablet still has %d of %d ops to send", cycle, pending, total)
	}
	if midPush == 0 {
		t.Fatal("no kill landed in the middle of the push; the test proved nothing")
	}
	g = startGroundProc(t, gaddr, gdir)
	eventually(t, 30*time.Second, "outbox drained", func() bool { return cab.status().Pending == 0 })
	for _, id := range enqs {
		e := g.enquiry(id)
		seen := map[string]bool{}
		for _, n := range e.Notes {
			if seen[n.ID] {
				t.Fatalf("note %s stored twice", n.ID)
			}
			seen[n.ID] = true
		}
		if len(e.Notes) != perEnquiry {
			t.Fatalf("enquiry %s has %d notes on the ground, want %d", id, len(e.Notes), perEnquiry)
		}
	}
	if s := cab.status(); s.DeadLetters != 0 {
		t.Fatalf("dead letters = %d, want 0", s.DeadLetters)
	}
	g.p.stop() // a graceful stop still exits 0 after all that
	checkGroundFile(t, gdir)
}

// checkGroundFile verifies every page of a ground database file after the
// crashes.
func checkGroundFile(t testing.TB, dir string) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "ground.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatalf("ground.db integrity after crashes: %v", err)
	}
}
