package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cabincare/cabincare/device"
	"github.com/cabincare/cabincare/faultlink"
	"github.com/cabincare/cabincare/secrethash"
	"github.com/cabincare/cabincare/server"
	"github.com/cabincare/cabincare/server/hub"
)

const (
	adminToken = "e2e-admin-token"
	// cabinToken is the cabins' automation token: tests drive the local
	// API as a script would, without a crew sign-in.
	cabinToken = "e2e-cabin-token"
)

func testLog(t testing.TB) *slog.Logger {
	if os.Getenv("E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// freeAddr returns a loopback address that was free a moment ago, so a
// server can be restarted on the same address.
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
	srv  *server.Server
	stop context.CancelFunc
	done chan error
	tune func(*server.Config)
}

func startGround(t testing.TB) *ground { return startGroundWith(t, nil) }

// startGroundWith starts a ground server whose config tune may change.
func startGroundWith(t testing.TB, tune func(*server.Config)) *ground {
	g := &ground{t: t, addr: freeAddr(t), dir: t.TempDir(), tune: tune}
	g.start()
	t.Cleanup(g.shutdown)
	return g
}

func (g *ground) start() {
	g.t.Helper()
	// Keep-alive connections to a stopped server on this address would
	// answer the next POST with EOF.
	http.DefaultClient.CloseIdleConnections()
	cfg := server.Config{
		Addr: g.addr, DataDir: g.dir, AdminToken: adminToken, Log: testLog(g.t),
		Hub: hub.Config{Heartbeat: 500 * time.Millisecond, Compress: true},
		// Cheap PIN hashes: same format and check, fast under -race.
		PINParams: secrethash.Params{Memory: 64, Time: 1, Threads: 1},
	}
	if g.tune != nil {
		g.tune(&cfg)
	}
	g.srv = server.New(cfg)
	var err error
	for range 50 { // the old listener may linger for a moment
		if err = g.srv.Open(); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		g.t.Fatalf("open ground: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.stop, g.done = cancel, make(chan error, 1)
	go func() { g.done <- g.srv.Run(ctx) }()
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

// send makes a JSON request and returns the status and the body; only a
// request that cannot be made fails the test.
func send(t testing.TB, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// call makes a JSON request to the ground API and decodes the answer into
// out (if not nil). It fails the test on a status other than want.
func call(t testing.TB, method, url, token string, body any, want int, out any) {
	t.Helper()
	status, raw := send(t, method, url, token, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, url, raw, err)
		}
	}
}

// try makes a JSON request whose answer may be any status (a 409 for an
// illegal move is fine); only a failed call fails the test.
func try(t testing.TB, method, url, token string, body any) int {
	t.Helper()
	status, _ := send(t, method, url, token, body)
	if status >= 500 {
		t.Fatalf("%s %s: status %d", method, url, status)
	}
	return status
}

func (g *ground) api(method, path string, body any, want int, out any) {
	g.t.Helper()
	call(g.t, method, g.url()+"/api/v1"+path, adminToken, body, want, out)
}

type enquiryJSON struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	FlightID string `json:"flight_id"`
	Seat     string `json:"seat"`
	Notes    []struct {
		ID   string `json:"id"`
		Text string `json:"text"`
		By   string `json:"by"`
	} `json:"notes"`
	Resolution *struct {
		Outcome string `json:"outcome"`
		Note    string `json:"note"`
		By      string `json:"by"`
	} `json:"resolution"`
	History []struct {
		OpID   string `json:"op_id"`
		Kind   string `json:"kind"`
		Effect string `json:"effect"`
	} `json:"history"`
}

func (g *ground) enquiry(id string) enquiryJSON {
	var e enquiryJSON
	g.api("GET", "/enquiries/"+id, nil, 200, &e)
	return e
}

// seed creates a flight and an enquiry assigned to it, and returns the
// flight id and the enquiry id.
func (g *ground) seed(number, externalID string) (flight, enquiry string) {
	g.t.Helper()
	var f struct{ ID string }
	g.api("POST", "/flights", map[string]string{"number": number, "date": "2026-11-23", "origin": "AMS", "destination": "JFK"}, 201, &f)
	enquiry = g.newEnquiry(externalID)
	g.assign(enquiry, f.ID)
	return f.ID, enquiry
}

func (g *ground) newEnquiry(externalID string) string {
	g.t.Helper()
	var e enquiryJSON
	g.api("POST", "/enquiries", map[string]string{"channel": "twitter", "external_id": externalID, "handle": "@anna", "text": "My meal on the outbound flight was cold.", "language": "en"}, 201, &e)
	return e.ID
}

func (g *ground) assign(enquiry, flight string) {
	g.t.Helper()
	g.api("POST", "/enquiries/"+enquiry+"/assign", map[string]string{"flight_id": flight, "passenger_name": "Anna de Vries", "seat": "12A", "instructions": "Serve her first and apologise."}, 200, nil)
}

type deviceCreds struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

// newDevice registers a device and exchanges its enrolment code, as
// `cabin --enrol` does.
func (g *ground) newDevice(name string) deviceCreds {
	var created struct {
		Code string `json:"enrolment_code"`
	}
	g.api("POST", "/devices", map[string]string{"name": name}, 201, &created)
	var d struct {
		ID    string `json:"device_id"`
		Token string `json:"token"`
	}
	call(g.t, "POST", g.url()+"/api/v1/enrol", "", map[string]string{"code": created.Code}, 200, &d)
	return deviceCreds{ID: d.ID, Token: d.Token}
}

// cabin is an in-process cabin service.
type cabin struct {
	t     testing.TB
	creds deviceCreds
	dir   string
	addr  string
	svc   *device.Service
	stop  context.CancelFunc
	done  chan error
	g     *ground
	p     *proc // set when the cabin runs as a subprocess
	// link, when set, stands between the cabin and the ground.
	link *faultlink.Link
	// now, when set, is the cabin's wall clock (a shifted one for skew).
	now func() time.Time
	// tune, when set, changes the cabin's config before it opens.
	tune func(*device.Config)
}

// newLink starts a fault-injecting link to the ground, closed when the test
// ends.
func newLink(t testing.TB, g *ground) *faultlink.Link {
	t.Helper()
	l, err := faultlink.Listen("127.0.0.1:0", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// startCabinVia starts a cabin that reaches the ground through link.
func startCabinVia(t testing.TB, g *ground, name string, link *faultlink.Link) *cabin {
	c := &cabin{t: t, creds: g.newDevice(name), dir: t.TempDir(), addr: freeAddr(t), g: g, link: link}
	c.start()
	t.Cleanup(c.shutdown)
	return c
}

// groundURL is where the cabin reaches the ground: through its link, if it
// has one.
func (c *cabin) groundURL() string {
	if c.link != nil {
		return "http://" + c.link.Addr()
	}
	return c.g.url()
}

func startCabin(t testing.TB, g *ground, name string) *cabin {
	c := &cabin{t: t, creds: g.newDevice(name), dir: t.TempDir(), addr: freeAddr(t), g: g}
	c.start()
	t.Cleanup(c.shutdown)
	return c
}

func (c *cabin) start() {
	c.t.Helper()
	cfg := device.Config{
		Addr: c.addr, DataDir: c.dir, Ground: c.groundURL(), DeviceID: c.creds.ID, DeviceToken: c.creds.Token, Insecure: true, APIToken: cabinToken,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond, Compress: true, Log: testLog(c.t),
		Now: c.now,
	}
	if c.tune != nil {
		c.tune(&cfg)
	}
	c.svc = device.New(cfg)
	var err error
	for range 50 {
		if err = c.svc.Open(); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatalf("open cabin: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stop, c.done = cancel, make(chan error, 1)
	go func() { c.done <- c.svc.Run(ctx) }()
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

func (c *cabin) api(method, path string, body any, want int, out any) {
	c.t.Helper()
	call(c.t, method, "http://"+c.addr+"/api/v1"+path, cabinToken, body, want, out)
}

type statusJSON struct {
	Connected   bool       `json:"connected"`
	Pending     int        `json:"pending"`
	DeadLetters int        `json:"dead_letters"`
	LastSync    *time.Time `json:"last_sync"`
	Cursor      uint64     `json:"cursor"`
}

func (c *cabin) status() statusJSON {
	var s statusJSON
	c.api("GET", "/status", nil, 200, &s)
	return s
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *cabin) hasEnquiry(id string) bool {
	var list struct {
		Enquiries []enquiryJSON `json:"enquiries"`
	}
	c.api("GET", "/enquiries", nil, 200, &list)
	for _, e := range list.Enquiries {
		if e.ID == id {
			return true
		}
	}
	return false
}

// tryEnquiry reads an enquiry the tablet may not hold (yet, or any more:
// a resync drops and re-pulls): false on a 404, where enquiry fails.
func (c *cabin) tryEnquiry(id string) (enquiryJSON, bool) {
	c.t.Helper()
	url := "http://" + c.addr + "/api/v1/enquiries/" + id
	status, raw := send(c.t, http.MethodGet, url, cabinToken, nil)
	var e enquiryJSON
	if status == http.StatusNotFound {
		return e, false
	}
	if status != http.StatusOK {
		c.t.Fatalf("GET %s: status %d: %s", url, status, raw)
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		c.t.Fatal(err)
	}
	return e, true
}

func (c *cabin) enquiry(id string) enquiryJSON {
	var e enquiryJSON
	c.api("GET", "/enquiries/"+id, nil, 200, &e)
	return e
}
