package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/cabincare/cabincare/device"
	"github.com/cabincare/cabincare/server"
	"github.com/cabincare/cabincare/syncproto"
)

type auditJSON struct {
	Events []struct {
		Kind    string `json:"kind"`
		Actor   string `json:"actor"`
		Subject string `json:"subject"`
		Code    string `json:"code"`
	} `json:"events"`
}

func (g *ground) audit(query string) auditJSON {
	g.t.Helper()
	var a auditJSON
	g.api("GET", "/audit?"+query, nil, 200, &a)
	return a
}

// Ensure a revoked device is disconnected within a second of the revoke
// call, with the revoked code, and refused when it comes back.
func TestRevokedDeviceDisconnectedWithinASecond(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	flight, _ := g.seed("KL0641", "tw-revoke")
	creds := g.newDevice("tablet-revoke")
	r := dialSync(t, g)
	r.hello(creds, map[string]uint64{flight: 0})
	eventually(t, 5*time.Second, "session live", func() bool { _, ok := g.srv.Hub.Live(creds.ID); return ok })

	start := time.Now()
	g.api("POST", "/devices/"+creds.ID+"/revoke", nil, 200, nil)
	code := r.refusal()
	took := time.Since(start)
	if code != syncproto.CodeRevoked {
		t.Errorf("disconnected with %q, want revoked", code)
	}
	if took > time.Second {
		t.Errorf("disconnected %s after the revoke, want under 1 s", took)
	}
	// The session ends with the ERROR frame; the hub forgets it a moment
	// after (the device can read the frame first).
	eventually(t, time.Second, "the revoked device's session gone", func() bool { _, ok := g.srv.Hub.Live(creds.ID); return !ok })
	again := dialSync(t, g)
	again.send(syncproto.FrameHello, &syncproto.Hello{Protocol: syncproto.ProtocolVersion, DeviceID: creds.ID, Token: creds.Token, Flights: map[string]uint64{flight: 0}})
	again.expectRefusal(syncproto.CodeRevoked)
	if a := g.audit("kind=device_refused"); len(a.Events) != 1 || a.Events[0].Code != syncproto.CodeRevoked {
		t.Errorf("audit of the refused handshake = %+v", a.Events)
	}
}

// Ensure flight scoping on the ground: a device bound to an aircraft gets
// only the enquiries of that aircraft's flights even when it asks for
// others, and an op it sends for another flight's enquiry is refused with
// no change; both refusals are audited. An unbound device may open any
// flight.
func TestFlightBindingScopesTheDevice(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	var f1, f2 struct{ ID string }
	g.api("POST", "/flights", map[string]string{"number": "KL0641", "date": "2026-11-23", "origin": "AMS", "destination": "JFK", "aircraft": "PH-BVA"}, 201, &f1)
	g.api("POST", "/flights", map[string]string{"number": "KL0601", "date": "2026-11-23", "origin": "AMS", "destination": "LAX", "aircraft": "PH-BVB"}, 201, &f2)
	mine, other := g.newEnquiry("tw-mine"), g.newEnquiry("tw-other")
	g.assign(mine, f1.ID)
	g.assign(other, f2.ID)

	creds := g.newDevice("tablet-bound")
	g.api("PUT", "/devices/"+creds.ID+"/flights", map[string]any{"aircraft": []string{"ph-bva"}, "flights": []string{}}, 200, nil)
	r := dialSync(t, g)
	w := r.hello(creds, map[string]uint64{f1.ID: 0, f2.ID: 0})
	if _, ok := w.Flights[f2.ID]; ok || len(w.Flights) != 1 {
		t.Errorf("welcome flights = %v, want only %s", w.Flights, f1.ID)
	}
	// Read until ready: every change must be of the allowed flight.
	seen := map[string]bool{}
	for {
		_ = r.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := r.ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		f, err := r.codec.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if f.Type == syncproto.FrameChanges {
			var ch syncproto.Changes
			if err := f.Unmarshal(&ch); err != nil {
				t.Fatal(err)
			}
			for _, op := range ch.Ops {
				seen[op.Enquiry.String()] = true
			}
			r.send(syncproto.FrameChangesAck, &syncproto.ChangesAck{Flight: ch.Flight, Cursor: ch.Cursor})
		}
		if f.Type == syncproto.FrameReady {
			break
		}
	}
	if !seen[mine] || seen[other] {
		t.Errorf("the bound device received %v, want %s and never %s", seen, mine, other)
	}

	before := g.enquiry(other)
	op := syncproto.Op{ID: syncproto.NewOpID(), Enquiry: uuid.MustParse(other), Kind: syncproto.KindNote, HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0),
		Actor: syncproto.Actor{Type: syncproto.ActorDevice, ID: creds.ID}, Data: syncproto.MustData(syncproto.NoteData{Text: "not my flight"})}
	r.send(syncproto.FramePush, &syncproto.Push{Batch: 1, Ops: []syncproto.Op{op}})
	var ack syncproto.PushAck
	r.next(syncproto.FramePushAck, &ack)
	if len(ack.Results) != 1 || ack.Results[0].Code != syncproto.CodeOutOfScope {
		t.Errorf("push for another flight = %+v, want refused out_of_scope", ack.Results)
	}
	if after := g.enquiry(other); len(after.Notes) != len(before.Notes) || len(after.History) != len(before.History) {
		t.Error("the refused op changed the enquiry")
	}
	kinds := map[string]bool{}
	for _, e := range g.audit("actor=device:" + creds.ID).Events {
		kinds[e.Kind] = true
	}
	if !kinds["scope_refused"] || !kinds["op_refused"] {
		t.Errorf("audit for the device = %v, want scope_refused and op_refused", kinds)
	}

	// Unbound: any flight.
	free := g.newDevice("tablet-free")
	r2 := dialSync(t, g)
	if w := r2.hello(free, map[string]uint64{f1.ID: 0, f2.ID: 0}); len(w.Flights) != 2 {
		t.Errorf("unbound device flights = %v, want both", w.Flights)
	}
	// Re-binding closes the session so the new binding applies.
	g.api("PUT", "/devices/"+free.ID+"/flights", map[string]any{"aircraft": []string{}, "flights": []string{f2.ID}}, 200, nil)
	if code := r2.refusal(); code != syncproto.CodeOutOfScope {
		t.Errorf("re-bound session closed with %q, want out_of_scope", code)
	}
}

// Ensure the cabin binary enrols with a one-time code, keeps the
// credential in cabin.db, and starts again with no secret on the command
// line; the code cannot be used twice; and a plain http:// ground is
// refused without --insecure.
func TestCabinEnrolsOnce(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	flight, enq := g.seed("KL0641", "tw-enrol")
	var created struct {
		ID   string `json:"id"`
		Code string `json:"enrolment_code"`
	}
	g.api("POST", "/devices", map[string]string{"name": "tablet-enrol"}, 201, &created)
	dir, addr := t.TempDir(), freeAddr(t)

	out, err := exec.Command(bins.cabin, "--addr", addr, "--data", dir, "--ground", g.url(), "--enrol", created.Code).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not TLS") || !strings.Contains(string(out), "--insecure") {
		t.Fatalf("cabin on a plain ground without --insecure: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "cabin.db")); err == nil {
		t.Error("the refused start created a store")
	}

	p := startProc(t, "cabin", bins.cabin, "--addr", addr, "--data", dir, "--ground", g.url(), "--insecure", "--api-token", cabinToken, "--enrol", created.Code, "--reconnect-max", "200ms")
	c := &cabin{t: t, dir: dir, addr: addr, g: g, p: p}
	waitHealthy(t, "http://"+addr)
	c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	eventually(t, 10*time.Second, "the enrolled cabin receives its enquiry", func() bool { return c.hasEnquiry(enq) })
	p.stop()

	// Again, with no secret at all.
	p = startProc(t, "cabin", bins.cabin, "--addr", addr, "--data", dir, "--ground", g.url(), "--insecure", "--api-token", cabinToken, "--reconnect-max", "200ms")
	c.p = p
	waitHealthy(t, "http://"+addr)
	eventually(t, 10*time.Second, "the restarted cabin syncs", func() bool { _, ok := g.srv.Hub.Live(created.ID); return ok })
	p.stop()

	out, err = exec.Command(bins.cabin, "--addr", freeAddr(t), "--data", t.TempDir(), "--ground", g.url(), "--insecure", "--enrol", created.Code).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unauthorized") {
		t.Errorf("a second enrolment with the same code: %v\n%s", err, out)
	}
	out, err = exec.Command(bins.cabin, "--addr", freeAddr(t), "--data", t.TempDir(), "--ground", g.url(), "--insecure").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not enrolled") {
		t.Errorf("a cabin never enrolled: %v\n%s", err, out)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool that trusts the certificate.
func selfSigned(t testing.TB) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cabincare test ground"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// Ensure TLS end to end: the ground serves HTTPS and wss:// sync with its
// certificate, a cabin that trusts it enrols and syncs with no --insecure,
// the cabin's own API serves HTTPS too, and a client that does not trust
// the certificate gets nowhere.
func TestSyncOverTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t)
	g := &ground{t: t, addr: freeAddr(t), dir: t.TempDir(), tune: func(c *server.Config) { c.TLSCert, c.TLSKey = certFile, keyFile }}
	g.start()
	t.Cleanup(g.shutdown)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	apiCall := func(method, path, body string, out *bytes.Buffer) int {
		req, _ := http.NewRequest(method, "https://"+g.addr+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		if out != nil {
			_, _ = out.ReadFrom(resp.Body)
		}
		return resp.StatusCode
	}
	if s := apiCall("POST", "/flights", `{"number":"KL0641","date":"2026-11-23","origin":"AMS","destination":"JFK"}`, nil); s != 201 {
		t.Fatalf("flight over https = %d", s)
	}
	var buf bytes.Buffer
	apiCall("POST", "/enquiries", `{"channel":"twitter","external_id":"tls-1","handle":"@a","text":"cold meal","language":"en"}`, &buf)
	enq := between(buf.String(), `"id":"`, `"`)
	if s := apiCall("POST", "/enquiries/"+enq+"/assign", `{"flight_id":"KL0641-2026-11-23","passenger_name":"A","seat":"1A"}`, nil); s != 200 {
		t.Fatalf("assign = %d", s)
	}
	buf.Reset()
	apiCall("POST", "/devices", `{"name":"tls tablet"}`, &buf)
	code := between(buf.String(), `"enrolment_code":"`, `"`)

	if resp, err := http.Get("https://" + g.addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a client that does not trust the certificate got an answer")
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+g.addr+"/sync", nil); err == nil {
		t.Error("plain ws:// to the TLS ground connected")
	}

	addr := freeAddr(t)
	svc := device.New(device.Config{
		Addr: addr, DataDir: t.TempDir(), Ground: "https://" + g.addr, EnrolCode: code, GroundCA: pool, APIToken: cabinToken,
		TLSCert: certFile, TLSKey: keyFile, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond, Log: testLog(t),
	})
	if err := svc.Open(); err != nil {
		t.Fatalf("open cabin over TLS: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := svc.Store.OpenFlight("KL0641-2026-11-23"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the enquiry reaches the cabin over wss://", func() bool {
		req, _ := http.NewRequest("GET", svc.URL()+"/api/v1/enquiries", nil)
		req.Header.Set("Authorization", "Bearer "+cabinToken)
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return strings.Contains(b.String(), enq)
	})
	// Over TLS the session cookie is Secure.
	apiCall("POST", "/users", `{"username":"ann","password":"correct horse battery","role":"agent"}`, nil)
	resp, err := hc.Post("https://"+g.addr+"/api/v1/login", "application/json", strings.NewReader(`{"username":"ann","password":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	secure := 0
	for _, ck := range resp.Cookies() {
		if ck.Secure && ck.SameSite == http.SameSiteStrictMode {
			secure++
		}
	}
	if resp.StatusCode != 200 || secure != 2 {
		t.Errorf("login over TLS = %d with %d Secure SameSite=Strict cookies, want 200 and 2", resp.StatusCode, secure)
	}
	if !strings.HasPrefix(svc.URL(), "https://") {
		t.Errorf("cabin URL = %s, want https", svc.URL())
	}
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}

// crewOnTablet puts Carla Crew (20002, PIN 2468) on the roster and a
// tablet on a flight with one enquiry, and waits until the tablet holds
// both the enquiry and the roster.
func crewOnTablet(t *testing.T, g *ground, name string) (*cabin, string) {
	t.Helper()
	flight, enq := g.seed("KL0641", "tw-"+name)
	g.api("POST", "/crew", map[string]string{"staff_number": "20002", "name": "Carla Crew", "pin": "2468"}, 201, nil)
	c := startCabin(t, g, name)
	c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	eventually(t, 10*time.Second, "enquiry and roster on the tablet", func() bool { return c.hasEnquiry(enq) && c.svc.Store.RosterVersion() == 1 })
	return c, enq
}

// Ensure the crew roster reaches a tablet in sync and crew then sign in
// with no ground at all; their ops reach the ground with their staff
// number once it is back.
func TestCrewSignInOffline(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	c, enq := crewOnTablet(t, g, "tablet-crew")

	g.shutdown()
	var s struct{ Token string }
	call(t, "POST", "http://"+c.addr+"/api/v1/session", "", map[string]string{"staff_number": "20002", "pin": "2468"}, 200, &s)
	call(t, "POST", "http://"+c.addr+"/api/v1/enquiries/"+enq+"/notes", s.Token, map[string]string{"text": "Served first."}, 201, nil)
	call(t, "POST", "http://"+c.addr+"/api/v1/session", "", map[string]string{"staff_number": "20002", "pin": "1111"}, 401, nil)

	g.start()
	eventually(t, 10*time.Second, "the note on the ground, by Carla", func() bool {
		var e struct {
			History []struct {
				Kind  string
				Actor struct{ Staff, Name string }
			}
		}
		g.api("GET", "/enquiries/"+enq, nil, 200, &e)
		for _, h := range e.History {
			if h.Kind == "note" && h.Actor.Staff == "20002" && h.Actor.Name == "Carla Crew" {
				return true
			}
		}
		return false
	})
}

// Ensure a flight closes by itself --close-after its scheduled arrival,
// and its tablets purge it as after a supervisor's close.
func TestFlightClosedAfterArrival(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Now().UTC()}
	g := startGroundWith(t, func(c *server.Config) {
		c.Now, c.CloseAfter, c.CloseInterval = clk.Now, 12*time.Hour, 20*time.Millisecond
	})
	arrives := clk.Now().Add(2 * time.Hour).Truncate(time.Second)
	var f struct{ ID string }
	g.api("POST", "/flights", map[string]any{"number": "KL0645", "date": arrives.Format(time.DateOnly), "origin": "AMS", "destination": "BCN",
		"departs_at": arrives.Add(-2 * time.Hour), "arrives_at": arrives}, 201, &f)
	enq := g.newEnquiry("tw-autoclose")
	g.assign(enq, f.ID)
	c := &cabin{t: t, creds: g.newDevice("tablet-autoclose"), dir: t.TempDir(), addr: freeAddr(t), g: g,
		tune: func(cfg *device.Config) { cfg.Retention, cfg.PurgeInterval = 0, 50*time.Millisecond }}
	c.start()
	t.Cleanup(c.shutdown)
	c.api("PUT", "/flight", map[string]string{"flight_id": f.ID}, 200, nil)
	eventually(t, 10*time.Second, "the enquiry on the tablet", func() bool { return c.hasEnquiry(enq) })

	// Landed, but not 12 hours ago: still open.
	clk.Advance(2*time.Hour + 11*time.Hour)
	time.Sleep(100 * time.Millisecond) // several sweeps
	var got struct {
		ClosedAt *time.Time `json:"closed_at"`
	}
	g.api("GET", "/flights/"+f.ID, nil, 200, &got)
	if got.ClosedAt != nil {
		t.Fatalf("closed at %v, 11 hours after arrival", got.ClosedAt)
	}
	clk.Advance(time.Hour)
	eventually(t, 10*time.Second, "the tablet's purge receipt on the ground", func() bool {
		var purges struct{ Purges []struct{ Enquiries int } }
		g.api("GET", "/flights/"+f.ID+"/purges", nil, 200, &purges)
		return len(purges.Purges) == 1 && purges.Purges[0].Enquiries == 1
	})
	call(t, "GET", "http://"+c.addr+"/api/v1/enquiries/"+enq, cabinToken, nil, 404, nil)
	if a := g.audit("kind=flight_closed"); len(a.Events) != 1 || a.Events[0].Actor != "system:autoclose" {
		t.Errorf("close audit = %+v, want one by system:autoclose", a.Events)
	}
}

// Ensure a roster change on the ground reaches a tablet that is online
// at once, in the same session: crew added at the gate can sign in, crew
// removed no longer can.
func TestCrewRosterLive(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	c, _ := crewOnTablet(t, g, "tablet-roster")
	live, ok := g.srv.Hub.Live(c.creds.ID)
	if !ok {
		t.Fatal("the tablet has no session")
	}
	signIn := func(staff, pin string) int {
		return try(t, "POST", "http://"+c.addr+"/api/v1/session", "", map[string]string{"staff_number": staff, "pin": pin})
	}
	if got := signIn("30003", "1357"); got != 401 {
		t.Fatalf("sign-in before the purser is on the roster: %d, want 401", got)
	}
	// Sign-ins are tried once the roster is there: failed PINs are rate
	// limited on the tablet.
	g.api("POST", "/crew", map[string]string{"staff_number": "30003", "name": "Piet Purser", "pin": "1357"}, 201, nil)
	eventually(t, 10*time.Second, "roster 2 on the tablet", func() bool { return c.svc.Store.RosterVersion() == 2 })
	if got := signIn("30003", "1357"); got != 200 {
		t.Errorf("the new purser's sign-in: %d, want 200", got)
	}
	g.api("DELETE", "/crew/20002", nil, 204, nil)
	eventually(t, 10*time.Second, "roster 3 on the tablet", func() bool { return c.svc.Store.RosterVersion() == 3 })
	if got := signIn("20002", "2468"); got != 401 {
		t.Errorf("the removed crew member's sign-in: %d, want 401", got)
	}
	if now, ok := g.srv.Hub.Live(c.creds.ID); !ok || now.SessionID != live.SessionID {
		t.Errorf("session %s became %s (connected %v): the roster came by reconnecting", live.SessionID, now.SessionID, ok)
	}
}

// Ensure the sync WebSocket refuses a browser page from another origin
// (a page could otherwise ride a tablet's network position), while a
// device (no Origin) and the ground's own pages connect.
func TestSyncChecksTheOrigin(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	for origin, ok := range map[string]bool{"": true, "http://" + g.addr: true, "http://evil.example": false, "null": false} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		ws, resp, err := websocket.DefaultDialer.Dial("ws://"+g.addr+"/sync", h)
		if ok && err != nil {
			t.Errorf("origin %q refused: %v", origin, err)
		}
		if !ok && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("origin %q = %v %v, want 403", origin, err, resp)
		}
		if ws != nil {
			ws.Close()
		}
	}
}

// Ensure the purge after the flight end to end: a supervisor closes the
// flight, the tablet learns it at once, purges the flight's passenger data
// after its retention (here none) since every op is acknowledged, and its
// receipt reaches the ground, which shows the flight gone from the tablet.
func TestClosedFlightPurgedFromTablet(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	flight, enq := g.seed("KL0641", "tw-purge")
	c := &cabin{t: t, creds: g.newDevice("tablet-purge"), dir: t.TempDir(), addr: freeAddr(t), g: g,
		tune: func(cfg *device.Config) { cfg.Retention, cfg.PurgeInterval = 0, 50*time.Millisecond }}
	c.start()
	t.Cleanup(c.shutdown)
	c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	eventually(t, 10*time.Second, "the enquiry on the tablet", func() bool { return c.hasEnquiry(enq) })
	c.api("POST", "/enquiries/"+enq+"/notes", map[string]string{"text": "Served first."}, 201, nil)
	eventually(t, 10*time.Second, "the note acknowledged", func() bool { return c.status().Pending == 0 })

	var purges struct {
		Purges []struct {
			Device    string `json:"device_id"`
			Enquiries int
			Ops       int
		}
		Missing []string `json:"devices_missing"`
	}
	g.api("GET", "/flights/"+flight+"/purges", nil, 200, &purges)
	if len(purges.Purges) != 0 || len(purges.Missing) != 1 || purges.Missing[0] != c.creds.ID {
		t.Fatalf("before the close: %+v, want the tablet missing", purges)
	}
	g.api("POST", "/flights/"+flight+"/close", nil, 200, nil)
	eventually(t, 10*time.Second, "the receipt on the ground", func() bool {
		g.api("GET", "/flights/"+flight+"/purges", nil, 200, &purges)
		return len(purges.Purges) == 1
	})
	if p := purges.Purges[0]; p.Device != c.creds.ID || p.Enquiries != 1 || p.Ops < 3 || len(purges.Missing) != 0 {
		t.Errorf("purges = %+v", purges)
	}
	call(t, "GET", "http://"+c.addr+"/api/v1/enquiries/"+enq, cabinToken, nil, 404, nil)
	if es, _ := c.svc.Store.Enquiries(context.Background(), flight); len(es) != 0 {
		t.Errorf("the tablet still holds %d enquiries of the closed flight", len(es))
	}
	// The receipt is acknowledged in the next handshake, and repeating it
	// records nothing twice.
	c.shutdown()
	c.start()
	eventually(t, 10*time.Second, "the receipt acknowledged", func() bool {
		p, _ := c.svc.Store.PendingPurges()
		return len(p) == 0
	})
	if a := g.audit("kind=purge"); len(a.Events) != 1 {
		t.Errorf("purge audit = %+v, want one event", a.Events)
	}
}
