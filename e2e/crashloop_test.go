package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dstore "github.com/cabincare/cabincare/device/store"
)

// httpClient makes the load generator's calls: no keep-alive, so a
// connection to a killed process is never reused.
var httpClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func newRequest(method, url, body string) (*http.Request, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// ledger records what the load generator was told.
type ledger struct {
	mu        sync.Mutex
	confirmed map[string]bool // a 201 came back: the note must exist exactly once
	maybe     map[string]bool // the call failed (the service was killed): at most once
}

func (l *ledger) note(text string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.confirmed[text] = true
	} else {
		l.maybe[text] = true
	}
}

// post makes a JSON POST and reports an error for a failed call or a
// status other than want, without failing the test: the service may be
// dead.
// post sends a crew action to a cabin's local API with the automation
// token.
func post(url string, body string, want int) error {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cabinToken)
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// load runs crew and agent work until stop is closed: each cabin notes on
// its flight's enquiries as fast as its API answers; agents note too.
func load(stop <-chan struct{}, g *groundProc, cabins []*cabin, enqs []string, led *ledger, seq *int64, mu *sync.Mutex) *sync.WaitGroup {
	var wg sync.WaitGroup
	mu.Lock()
	base := uint64(*seq)
	mu.Unlock()
	next := func(prefix string) string {
		mu.Lock()
		defer mu.Unlock()
		*seq++
		return fmt.Sprintf("%s-%d", prefix, *seq)
	}
	for i, c := range cabins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), base))
			for {
				select {
				case <-stop:
					return
				default:
				}
				text := next(fmt.Sprintf("crew%d", i))
				id := enqs[rng.IntN(len(enqs))]
				err := post("http://"+c.addr+"/api/v1/enquiries/"+id+"/notes", fmt.Sprintf(`{"text":%q}`, text), 201)
				led.note(text, err)
				if err != nil {
					time.Sleep(20 * time.Millisecond) // the cabin is restarting
				}
				time.Sleep(time.Duration(rng.IntN(6)) * time.Millisecond)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(99, base))
		for {
			select {
			case <-stop:
				return
			default:
			}
			text := next("agent")
			id := enqs[rng.IntN(len(enqs))]
			req := fmt.Sprintf(`{"text":%q}`, text)
			err := postAuth(g.url()+"/api/v1/enquiries/"+id+"/notes", req, 201)
			led.note(text, err)
			if err != nil {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond)
		}
	}()
	return &wg
}

func postAuth(url, body string, want int) error {
	req, err := newRequest("POST", url, body)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// Ensure that killing the cabin services and the ground server with
// SIGKILL at random moments during heavy sync, dozens of times, loses
// nothing anyone was told is stored, stores nothing twice, and leaves
// every replica converged after each restart. CRASH_CYCLES sets the cycles
// (default 24) for a long soak.
func TestCrashLoop(t *testing.T) {
	t.Parallel()
	cycles := 24
	if v := os.Getenv("CRASH_CYCLES"); v != "" {
		fmt.Sscan(v, &cycles)
	}
	gaddr, gdir := freeAddr(t), t.TempDir()
	g := startGroundProc(t, gaddr, gdir)
	flight := g.newFlight("KL0641")
	enqs := g.handOut(flight, "crash", 8)
	var cabins []*cabin
	type cabinSlot struct {
		addr, dir string
		creds     deviceCreds
	}
	var slots []cabinSlot
	for i := range 2 {
		s := cabinSlot{addr: freeAddr(t), dir: t.TempDir(), creds: g.newDevice(fmt.Sprintf("tablet-%d", i))}
		slots = append(slots, s)
		c := startCabinProc(t, &g.ground, s.addr, s.dir, s.creds)
		c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
		cabins = append(cabins, c)
	}
	led := &ledger{confirmed: map[string]bool{}, maybe: map[string]bool{}}
	var seq int64
	var seqMu sync.Mutex
	rng := rand.New(rand.NewPCG(2026, 11))
	kills := map[string]int{}
	midSync := 0 // kills that fell while a tablet still had ops to send
	start := time.Now()
	for cycle := range cycles {
		stop := make(chan struct{})
		wg := load(stop, g, cabins, enqs, led, &seq, &seqMu)
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		// Kill at a random moment of the heavy sync, then restart.
		victims := [][]int{{0}, {1}, {-1}, {0, -1}, {0, 1, -1}}[rng.IntN(5)]
		for _, c := range cabins {
			var s statusJSON
			if resp, err := httpClient.Get("http://" + c.addr + "/api/v1/status"); err == nil {
				_ = json.NewDecoder(resp.Body).Decode(&s)
				resp.Body.Close()
				if s.Pending > 0 {
					midSync++
					break
				}
			}
		}
		for _, v := range victims {
			if v < 0 {
				g.p.kill()
				kills["ground"]++
			} else {
				cabins[v].p.kill()
				kills["cabin"]++
			}
			time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
		}
		for _, v := range victims {
			if v < 0 {
				g = startGroundProc(t, gaddr, gdir)
			}
		}
		for _, v := range victims {
			if v >= 0 {
				cabins[v] = startCabinProc(t, &g.ground, slots[v].addr, slots[v].dir, slots[v].creds)
			}
		}
		for _, c := range cabins {
			c.g = &g.ground
		}
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond) // work goes on after the restart
		close(stop)
		wg.Wait()
		checkCrashInvariants(t, cycle, g, cabins, enqs, led)
	}
	led.mu.Lock()
	confirmed, maybe := len(led.confirmed), len(led.maybe)
	led.mu.Unlock()
	t.Logf("reliability: crash loop: %d cycles survived in %s; kill -9: %d ground, %d cabin; %d kills with ops still to send; %d notes confirmed, %d calls cut by a kill; lost 0, duplicated 0",
		cycles, time.Since(start).Round(time.Millisecond), kills["ground"], kills["cabin"], midSync, confirmed, maybe)
	if midSync == 0 {
		t.Fatal("no kill fell while a tablet had ops to send: the loop proved nothing")
	}
	for _, c := range cabins {
		c.p.stop()
	}
	g.p.stop()
	checkGroundFile(t, gdir)
	for _, s := range slots {
		st, err := dstore.Open(filepath.Join(s.dir, "cabin.db"))
		if err != nil {
			t.Fatalf("cabin.db after the crash loop: %v", err)
		}
		st.Close()
	}
}

// checkCrashInvariants waits for the system to settle, then checks that
// every confirmed note is on the ground once, no note is there twice, and
// both tablets hold exactly the ground's state.
func checkCrashInvariants(t *testing.T, cycle int, g *groundProc, cabins []*cabin, enqs []string, led *ledger) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("cycle %d: tablets drained and converged", cycle), func() bool {
		for _, c := range cabins {
			if s := c.status(); !s.Connected || s.Pending != 0 {
				return false
			}
		}
		for _, id := range enqs {
			ge := g.enquiry(id)
			for _, c := range cabins {
				if !same(ge, c.enquiry(id)) {
					return false
				}
			}
		}
		return true
	})
	count := map[string]int{}
	for _, id := range enqs {
		for _, n := range g.enquiry(id).Notes {
			count[n.Text]++
		}
	}
	led.mu.Lock()
	defer led.mu.Unlock()
	for text := range led.confirmed {
		if count[text] != 1 {
			t.Fatalf("cycle %d: note %q was confirmed and is on the ground %d times, want once", cycle, text, count[text])
		}
	}
	for text, n := range count {
		if n != 1 {
			t.Fatalf("cycle %d: note %q is on the ground %d times", cycle, text, n)
		}
		if !led.confirmed[text] && !led.maybe[text] {
			t.Fatalf("cycle %d: note %q on the ground was never written", cycle, text)
		}
	}
	for _, c := range cabins {
		if s := c.status(); s.DeadLetters != 0 {
			t.Fatalf("cycle %d: %d dead letters", cycle, s.DeadLetters)
		}
	}
}

// storeWithWork makes a cabin store with a flight, an enquiry and an
// unsent crew note, as a tablet's would be, and returns its path.
func storeWithWork(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "cabin.db")
	st, err := dstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetDeviceID("tablet-1"); err != nil {
		t.Fatal(err)
	}
	if err := st.OpenFlight("KL0641-2026-11-23"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// Ensure the cabin service refuses to start on a store file that is
// corrupt or unreadable: it exits non-zero at once with a message naming
// the file, without panicking, without starting empty, and without
// touching the file.
func TestCorruptStoreRefusesToStart(t *testing.T) {
	t.Parallel()
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	for _, tc := range []struct {
		name    string
		corrupt func(t *testing.T, path string)
		want    string
	}{
		{"RandomBytes", func(t *testing.T, path string) {
			junk := make([]byte, 64<<10)
			_, _ = rand.NewChaCha8([32]byte{1}).Read(junk)
			if err := os.WriteFile(path, junk, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "corrupt"},
		{"Truncated", func(t *testing.T, path string) {
			if err := os.Truncate(path, 5000); err != nil {
				t.Fatal(err)
			}
		}, "corrupt"},
		{"GarbagePages", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := f.Stat()
			junk := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 1024)
			for off := int64(2 * 4096); off < fi.Size(); off += 4096 {
				if _, err := f.WriteAt(junk, off); err != nil {
					t.Fatal(err)
				}
			}
			f.Close()
		}, "corrupt"},
		{"Unreadable", func(t *testing.T, path string) {
			// A folder where the file should be: unreadable even for root.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "cabin.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := storeWithWork(t)
			tc.corrupt(t, path)
			before, _ := os.ReadFile(path)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bins.cabin, "--addr", freeAddr(t), "--data", filepath.Dir(path), "--ground", "http://127.0.0.1:1", "--insecure",
				"--device-id", "tablet-1", "--device-token", "x", "--log-format", "text")
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			start := time.Now()
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("cabin on a %s store: %v, want a non-zero exit; output:\n%s", tc.name, err, stderr.String())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("cabin took %s to refuse the store", d)
			}
			out := stderr.String()
			if !strings.Contains(out, path) || !strings.Contains(out, tc.want) {
				t.Errorf("stderr does not name the file %s and say %q:\n%s", path, tc.want, out)
			}
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Errorf("cabin panicked:\n%s", out)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("the cabin changed the store file it refused")
			}
			t.Logf("reliability: corrupt store %s refused in %s: %s", tc.name, time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
		})
	}
}
