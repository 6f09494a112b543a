package fleetsim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Ground is the ground server under test: a child process this program
// started (so its memory is measured alone), or one reached by URL.
type Ground struct {
	URL   string
	Token string
	cmd   *exec.Cmd
	http  *http.Client
}

// ChildArgs are the arguments that make this program's own binary run a
// ground server (cmd/fleetsim serves them with "serve-ground").
type ChildArgs struct {
	Exe       string // the binary to run, normally os.Executable()
	DataDir   string
	Compress  bool
	Heartbeat time.Duration
	Pprof     string // if set, the child serves net/http/pprof here
}

// StartChild starts a ground server as a child process on a free loopback
// port and waits until it answers.
func StartChild(ctx context.Context, a ChildArgs) (*Ground, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	token := "fleetsim-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	cmd := exec.Command(a.Exe, "serve-ground", "--addr", addr, "--data", a.DataDir, "--admin-token", token,
		"--compress="+strconv.FormatBool(a.Compress), "--heartbeat", a.Heartbeat.String(), "--log-level", "error")
	if a.Pprof != "" {
		cmd.Args = append(cmd.Args, "--pprof", a.Pprof)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &Ground{URL: "http://" + addr, Token: token, cmd: cmd, http: newHTTPClient()}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := g.http.Get(g.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			return g, nil
		}
		if time.Now().After(deadline) {
			g.Stop()
			return nil, fmt.Errorf("ground child did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Remote targets a running ground server.
func Remote(url, token string) *Ground {
	return &Ground{URL: strings.TrimSuffix(url, "/"), Token: token, http: newHTTPClient()}
}

func newHTTPClient() *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

// Stop ends a child ground server.
func (g *Ground) Stop() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	_ = g.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = g.cmd.Process.Kill()
		<-done
	}
}

// SyncURL is the WebSocket endpoint.
func (g *Ground) SyncURL() string { return "ws" + strings.TrimPrefix(g.URL, "http") + "/sync" }

// Memory returns the child's resident set size and its peak, in bytes
// (zero for a remote ground).
func (g *Ground) Memory() (rss, peak int64) {
	if g.cmd == nil || g.cmd.Process == nil {
		return 0, 0
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kb * 1024
		case "VmHWM":
			peak = kb * 1024
		}
	}
	return rss, peak
}

// CPU is the child's user + system CPU time so far (zero for a remote
// ground): steadier than wall time on a shared machine.
func (g *Ground) CPU() time.Duration {
	if g.cmd == nil || g.cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", g.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start after ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks (USER_HZ = 100 on Linux)
}

// Goroutines is the server's goroutine count, from its readiness probe.
func (g *Ground) Goroutines(ctx context.Context) int {
	var r struct {
		Goroutines int `json:"goroutines"`
	}
	if err := g.do(ctx, "GET", "/readyz", nil, &r); err != nil {
		return 0
	}
	return r.Goroutines
}

// WaitProjected waits until the ground has projected every push it
// acknowledged (its readiness probe's projection_pending is zero): what
// the devices pushed is then in the agents' views and other tablets'
// feeds.
func (g *Ground) WaitProjected(ctx context.Context) error {
	for {
		var r struct {
			Pending *uint64 `json:"projection_pending"`
		}
		if err := g.do(ctx, "GET", "/readyz", nil, &r); err != nil {
			return err
		}
		if r.Pending == nil || *r.Pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// Call makes an API call (path under /api/v1) and decodes the answer.
func (g *Ground) Call(ctx context.Context, method, path string, body, out any) error {
	return g.do(ctx, method, "/api/v1"+path, body, out)
}

func (g *Ground) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+g.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// Creds are a device's credentials.
type Creds struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// NewDevices registers n devices, with up to par requests at once.
func (g *Ground) NewDevices(ctx context.Context, prefix string, n, par int) ([]Creds, error) {
	out := make([]Creds, n)
	err := parallel(ctx, n, par, func(i int) error {
		var d struct {
			Code string `json:"enrolment_code"`
		}
		if err := g.Call(ctx, "POST", "/devices", map[string]string{"name": fmt.Sprintf("%s-%05d", prefix, i)}, &d); err != nil {
			return err
		}
		var c struct {
			ID    string `json:"device_id"`
			Token string `json:"token"`
		}
		err := g.Call(ctx, "POST", "/enrol", map[string]string{"code": d.Code}, &c)
		out[i] = Creds{ID: c.ID, Token: c.Token}
		return err
	})
	return out, err
}

// NewFlights creates n flights KL<base+i> on date and returns their ids.
func (g *Ground) NewFlights(ctx context.Context, base, n int, date string) ([]string, error) {
	ids := make([]string, n)
	err := parallel(ctx, n, 8, func(i int) error {
		var f struct{ ID string }
		if err := g.Call(ctx, "POST", "/flights", map[string]string{"number": fmt.Sprintf("KL%04d", base+i), "date": date, "origin": "AMS", "destination": "JFK"}, &f); err != nil {
			return err
		}
		ids[i] = f.ID
		return nil
	})
	return ids, err
}

// Enquiry is what the simulator posts for one enquiry.
type Enquiry struct {
	Channel, ExternalID, Handle, Text, Language string
	Flight, Seat, Passenger                     string
}

// NewEnquiries creates and assigns enquiries, with up to par at once, and
// returns their ids.
func (g *Ground) NewEnquiries(ctx context.Context, es []Enquiry, par int) ([]string, error) {
	ids := make([]string, len(es))
	err := parallel(ctx, len(es), par, func(i int) error {
		e := es[i]
		var out struct{ ID string }
		if err := g.Call(ctx, "POST", "/enquiries", map[string]string{"channel": e.Channel, "external_id": e.ExternalID, "handle": e.Handle, "text": e.Text, "language": e.Language}, &out); err != nil {
			return err
		}
		ids[i] = out.ID
		if e.Flight == "" {
			return nil
		}
		return g.Call(ctx, "POST", "/enquiries/"+out.ID+"/assign", map[string]string{"flight_id": e.Flight, "seat": e.Seat, "passenger_name": e.Passenger}, nil)
	})
	return ids, err
}

// parallel runs fn(0..n-1) with at most par at once and returns the first
// error.
func parallel(ctx context.Context, n, par int, fn func(int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, par)
	errc := make(chan error, 1)
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break
		}
		if ctx.Err() != nil {
			break
		}
		go func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				select {
				case errc <- err:
				default:
				}
				cancel()
			}
		}()
	}
	for range par {
		sem <- struct{}{}
	}
	select {
	case err := <-errc:
		return err
	default:
		return ctx.Err()
	}
}
