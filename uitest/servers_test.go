package uitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cabincare/cabincare/device"
	"github.com/cabincare/cabincare/faultlink"
	"github.com/cabincare/cabincare/secrethash"
	"github.com/cabincare/cabincare/server"
	"github.com/cabincare/cabincare/server/hub"
)

const adminToken = "ui-admin-token"

func testLog() *slog.Logger {
	if os.Getenv("UITEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// freeAddr returns a loopback address that was free a moment ago, so a
// server can be restarted on the same address (the pages keep their URL).
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// ground is an in-process ground server that can be stopped and started
// again on the same address and data.
type ground struct {
	t    testing.TB
	addr string
	dir  string
	stop context.CancelFunc
	done chan error
}

func startGround(t testing.TB) *ground {
	g := &ground{t: t, addr: freeAddr(t), dir: t.TempDir()}
	g.start()
	t.Cleanup(g.shutdown)
	return g
}

func (g *ground) start() {
	g.t.Helper()
	srv := server.New(server.Config{
		Addr: g.addr, DataDir: g.dir, AdminToken: adminToken, Log: testLog(),
		Hub: hub.Config{Heartbeat: 300 * time.Millisecond, Compress: true}, SLA: time.Hour,
		ShutdownTimeout: 5 * time.Second,
		// Cheap crew PIN hashes: the tablet checks them with these costs.
		PINParams: secrethash.Params{Memory: 64, Time: 1, Threads: 1},
	})
	var err error
	for range 100 { // the old listener may linger for a moment
		if err = srv.Open(); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		g.t.Fatalf("open ground: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.stop, g.done = cancel, make(chan error, 1)
	go func() { g.done <- srv.Run(ctx) }()
}

func (g *ground) shutdown() {
	if g.stop == nil {
		return
	}
	g.stop()
	if err := <-g.done; err != nil {
		g.t.Errorf("ground run: %v", err)
	}
	g.stop = nil
}

func (g *ground) url() string { return "http://" + g.addr }

// api calls the ground API with the admin token and decodes the answer into
// out (if not nil); any status but want fails the test.
func (g *ground) api(method, path string, body any, want int, out any) {
	g.t.Helper()
	call(g.t, method, g.url()+"/api/v1"+path, adminToken, body, want, out)
}

func call(t testing.TB, method, url, token string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Close = true // servers restart under the tests: no stale keep-alive
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, url, err)
		}
	}
}

// scene is the sample a test starts from: a flight with a manifest and an
// enquiry from a passenger on it, not yet assigned.
type scene struct {
	Flight  string
	Enquiry string
}

func seed(g *ground) scene {
	g.t.Helper()
	date := time.Now().UTC().Format("2006-01-02")
	var f struct {
		ID string `json:"id"`
	}
	g.api("POST", "/flights", map[string]any{
		"number": "KL0641", "date": date, "origin": "AMS", "destination": "JFK", "aircraft": "B772",
		"departs_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339),
		"arrives_at": time.Now().UTC().Add(7 * time.Hour).Format(time.RFC3339),
	}, 201, &f)
	g.api("POST", "/flights/"+f.ID+"/passengers", map[string]any{"passengers": []map[string]any{
		{"name": "Anna de Vries", "pnr": "ABC123", "seat": "12A", "cabin": "economy", "handles": map[string]string{"twitter": "@anna_dv"}},
		{"name": "Pieter Jansen", "pnr": "DEF456", "seat": "3C", "cabin": "business"},
		{"name": "Marie Dubois", "pnr": "GHI789", "seat": "27K", "cabin": "economy"},
	}}, 201, nil)
	var e struct {
		ID string `json:"id"`
	}
	g.api("POST", "/enquiries", map[string]any{
		"channel": "twitter", "external_id": "tw-1", "handle": "@anna_dv", "customer": "Anna de Vries", "language": "en",
		"text": "My meal on the way out was cold and nobody cared. Flying back on KL0641 today, hope it's better.",
	}, 201, &e)
	return scene{Flight: f.ID, Enquiry: e.ID}
}

// assign hands the scene's enquiry to its flight through the API.
func (g *ground) assign(s scene) {
	g.t.Helper()
	g.api("POST", "/enquiries/"+s.Enquiry+"/assign", map[string]any{
		"flight_id": s.Flight, "seat": "12A", "instructions": "Serve her meal first and apologise for the cold one.",
	}, 200, nil)
}

type deviceCreds struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// cabin is an in-process cabin service that reaches the ground through a
// cuttable link.
type cabin struct {
	t     testing.TB
	creds deviceCreds
	dir   string
	addr  string
	link  *faultlink.Link
	stop  context.CancelFunc
	done  chan error
}

func startCabin(t testing.TB, g *ground, name string) *cabin {
	t.Helper()
	var created struct {
		Code string `json:"enrolment_code"`
	}
	g.api("POST", "/devices", map[string]string{"name": name}, 201, &created)
	var enrolled struct {
		ID    string `json:"device_id"`
		Token string `json:"token"`
	}
	call(g.t, "POST", g.url()+"/api/v1/enrol", "", map[string]string{"code": created.Code}, 200, &enrolled)
	creds := deviceCreds{ID: enrolled.ID, Token: enrolled.Token}
	link, err := faultlink.Listen("127.0.0.1:0", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { link.Close() })
	c := &cabin{t: t, creds: creds, dir: t.TempDir(), addr: freeAddr(t), link: link}
	c.start()
	t.Cleanup(c.shutdown)
	return c
}

func (c *cabin) start() {
	c.t.Helper()
	svc := device.New(device.Config{
		Addr: c.addr, DataDir: c.dir, Ground: "http://" + c.link.Addr(), DeviceID: c.creds.ID, DeviceToken: c.creds.Token,
		Insecure: true, APIToken: cabinToken,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond, Compress: true, Log: testLog(),
	})
	var err error
	for range 100 {
		if err = svc.Open(); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatalf("open cabin: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stop, c.done = cancel, make(chan error, 1)
	go func() { c.done <- svc.Run(ctx) }()
}

func (c *cabin) shutdown() {
	if c.stop == nil {
		return
	}
	c.stop()
	if err := <-c.done; err != nil {
		c.t.Errorf("cabin run: %v", err)
	}
	c.stop = nil
}

func (c *cabin) url() string { return "http://" + c.addr }

// cabinToken is the cabin's automation token (--api-token): the tests'
// calls use it, and openCrew signs the app in with it, as a crew session
// would (TestCrewSignIn drives the real sign-in and never uses it in the
// browser).
const cabinToken = "uitest-cabin-token"

func (c *cabin) api(method, path string, body any, want int, out any) {
	c.t.Helper()
	call(c.t, method, c.url()+"/api/v1"+path, cabinToken, body, want, out)
}

// eventually polls cond until it holds or the time is up.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// assignedOnTablet starts a ground with the sample scene assigned and a
// tablet that has opened the flight and received the enquiry.
// Each of before runs on the ground before the tablet starts (crew on the
// roster reach it in the sync handshake).
func assignedOnTablet(t *testing.T, tablet string, before ...func(*ground)) (*ground, scene, *cabin) {
	t.Helper()
	g := startGround(t)
	s := seed(g)
	g.assign(s)
	for _, f := range before {
		f(g)
	}
	c := startCabin(t, g, tablet)
	c.api("PUT", "/flight", map[string]string{"flight_id": s.Flight}, 200, nil)
	eventually(t, 10*time.Second, "the tablet has the enquiry", func() bool {
		var l struct {
			Enquiries []struct{ ID string } `json:"enquiries"`
		}
		c.api("GET", "/enquiries", nil, 200, &l)
		return len(l.Enquiries) == 1
	})
	return g, s, c
}

// status is the HTTP status of a call with token (if any) and a JSON body
// (if any), for the answers the tests only need the status of.
func status(t testing.TB, method, url, token, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Close = true
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
