package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/secrethash"
	"github.com/cabincare/cabincare/server"
	"github.com/cabincare/cabincare/server/api"
)

const adminToken = "test-token"

// testPINParams keep crew PIN hashing cheap under -race; the hash format
// and the check are the same as with the real costs.
var testPINParams = secrethash.Params{Memory: 64, Time: 1, Threads: 1}

// Ground is a real ground server on a loopback port, for API tests.
type Ground struct {
	t   testing.TB
	Srv *server.Server
	URL string
}

// MustOpenGround starts a ground server in t.TempDir() and stops it (and
// waits for Run to return) when the test ends.
func MustOpenGround(tb testing.TB) *Ground {
	tb.Helper()
	srv := server.New(server.Config{Addr: "127.0.0.1:0", DataDir: tb.TempDir(), AdminToken: adminToken, PINParams: testPINParams})
	if err := srv.Open(); err != nil {
		tb.Fatalf("open ground: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("ground Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			tb.Errorf("ground Run did not return after cancel")
		}
	})
	return &Ground{t: tb, Srv: srv, URL: srv.URL()}
}

var client = &http.Client{Timeout: 10 * time.Second}

// Do sends a request with the given Authorization header value ("" for
// none) and returns the status, the content type and the body.
func (g *Ground) Do(method, path, authz string, body io.Reader) (int, string, []byte) {
	g.t.Helper()
	req, err := http.NewRequest(method, g.URL+path, body)
	if err != nil {
		g.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := client.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

// Call sends an admin request with a string body ("" for none).
func (g *Ground) Call(method, path, body string) (int, []byte) {
	g.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	status, _, raw := g.Do(method, path, "Bearer "+adminToken, r)
	return status, raw
}

// MustCall sends an admin request, checks the status and decodes the
// answer into out (if not nil).
func (g *Ground) MustCall(method, path, body string, want int, out any) []byte {
	g.t.Helper()
	status, raw := g.Call(method, path, body)
	if status != want {
		g.t.Fatalf("%s %s = %d, want %d: %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			g.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return raw
}

// Enrol exchanges an enrolment code for a device credential.
func (g *Ground) Enrol(code string) api.EnrolResponse {
	g.t.Helper()
	status, _, raw := g.Do("POST", "/api/v1/enrol", "", strings.NewReader(`{"code":"`+code+`"}`))
	var out api.EnrolResponse
	if status != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.Token == "" {
		g.t.Fatalf("enrol %s = %d %s", code, status, raw)
	}
	return out
}

// MustDevice registers a device and enrols it.
func (g *Ground) MustDevice(name string) api.EnrolResponse {
	g.t.Helper()
	var d struct {
		Code string `json:"enrolment_code"`
	}
	g.MustCall("POST", "/api/v1/devices", `{"name":"`+name+`"}`, http.StatusCreated, &d)
	return g.Enrol(d.Code)
}

// Snapshot is everything an admin can read that a refused request must
// leave alone: flights, every enquiry in full (with its history), devices,
// and the store's head sequence.
func (g *Ground) Snapshot() string {
	g.t.Helper()
	var b strings.Builder
	for _, p := range []string{"/api/v1/flights", "/api/v1/enquiries", "/api/v1/devices"} {
		b.Write(g.MustCall("GET", p, "", http.StatusOK, nil))
		b.WriteByte('\n')
	}
	var ready struct {
		Head uint64 `json:"head"`
	}
	status, _, raw := g.Do("GET", "/readyz", "", nil)
	if status != http.StatusOK {
		g.t.Fatalf("readyz = %d: %s", status, raw)
	}
	if err := json.Unmarshal(raw, &ready); err != nil {
		g.t.Fatal(err)
	}
	fmt.Fprintf(&b, "head=%d", ready.Head)
	return b.String()
}

// AssertError checks that an answer is exactly the JSON error envelope
// {"error":{"code","message"}} with the given status and code and a
// non-empty message, and returns the message.
func AssertError(tb testing.TB, status int, ctype string, raw []byte, wantStatus int, wantCode string) string {
	tb.Helper()
	if status != wantStatus {
		tb.Errorf("status = %d, want %d (body %s)", status, wantStatus, raw)
	}
	if !strings.HasPrefix(ctype, "application/json") {
		tb.Errorf("content type = %q, want application/json (body %s)", ctype, raw)
	}
	var env map[string]map[string]any
	if err := json.Unmarshal(raw, &env); err != nil {
		tb.Fatalf("body %q is not a JSON error envelope: %v", raw, err)
	}
	e, ok := env["error"]
	if !ok || len(env) != 1 || len(e) != 2 {
		tb.Fatalf("body %s is not {\"error\":{\"code\",\"message\"}}", raw)
	}
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	if code != wantCode {
		tb.Errorf("code = %q, want %q (message %q)", code, wantCode, msg)
	}
	if strings.TrimSpace(msg) == "" {
		tb.Errorf("message is empty (body %s)", raw)
	}
	return msg
}

const (
	flightID   = "KL0641-2026-11-23"
	flightBody = `{"number":"KL0641","date":"2026-11-23","origin":"AMS","destination":"JFK","aircraft":"B772"}`
	unknownID  = "0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b" // a UUIDv7 no enquiry has
)

func intake(ext string) string {
	return fmt.Sprintf(`{"channel":"twitter","external_id":%q,"handle":"@jdevries","customer":"Jan de Vries","text":"My mother flies tonight and it is her 80th birthday.","language":"nl"}`, ext)
}

const assignBody = `{"flight_id":"` + flightID + `","passenger_name":"Maria de Vries","seat":"12A","instructions":"Bring a card from the crew."}`

func (g *Ground) NewFlight() {
	g.t.Helper()
	g.MustCall("POST", "/api/v1/flights", flightBody, http.StatusCreated, nil)
}

func (g *Ground) NewEnquiry(ext string) string {
	g.t.Helper()
	var e api.EnquiryView
	g.MustCall("POST", "/api/v1/enquiries", intake(ext), http.StatusCreated, &e)
	return e.ID.String()
}

func (g *Ground) Enquiry(id string) api.EnquiryView {
	g.t.Helper()
	var e api.EnquiryView
	g.MustCall("GET", "/api/v1/enquiries/"+id, "", http.StatusOK, &e)
	return e
}

// Ensure the probes answer without a token, with the store's state.
func TestHealth(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)

	t.Run("Healthz", func(t *testing.T) {
		status, ctype, raw := g.Do("GET", "/healthz", "", nil)
		if status != http.StatusOK || !strings.HasPrefix(ctype, "application/json") {
			t.Fatalf("healthz = %d %q: %s", status, ctype, raw)
		}
		var got map[string]string
		if err := json.Unmarshal(raw, &got); err != nil || got["status"] != "ok" {
			t.Fatalf("healthz body = %s (%v), want status ok", raw, err)
		}
	})
	t.Run("Readyz", func(t *testing.T) {
		g.NewEnquiry("tw-ready")
		status, _, raw := g.Do("GET", "/readyz", "", nil)
		if status != http.StatusOK {
			t.Fatalf("readyz = %d: %s", status, raw)
		}
		var got struct {
			Status           string `json:"status"`
			Epoch            string `json:"epoch"`
			Head             uint64 `json:"head"`
			DevicesConnected *int   `json:"devices_connected"`
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if got.Status != "ready" || got.Epoch != g.Srv.Store.Epoch() || got.Head != 1 || got.DevicesConnected == nil || *got.DevicesConnected != 0 {
			t.Fatalf("readyz = %s, want ready, epoch %s, head 1, 0 devices", raw, g.Srv.Store.Epoch())
		}
	})
}

// Ensure flights can be created, listed and read.
func TestFlights(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)

	var list struct {
		Flights []map[string]any `json:"flights"`
	}
	g.MustCall("GET", "/api/v1/flights", "", http.StatusOK, &list)
	if list.Flights == nil || len(list.Flights) != 0 {
		t.Fatalf("empty flights = %#v, want []", list.Flights)
	}

	var f map[string]any
	// Lower case and spaces are normalised.
	g.MustCall("POST", "/api/v1/flights", `{"number":" kl0641 ","date":"2026-11-23","origin":"ams","destination":"jfk","departs_at":"2026-11-23T09:40:00Z","arrives_at":"2026-11-23T17:55:00Z","aircraft":"B772"}`, http.StatusCreated, &f)
	if f["id"] != flightID || f["number"] != "KL0641" || f["origin"] != "AMS" || f["destination"] != "JFK" || f["aircraft"] != "B772" {
		t.Fatalf("created flight = %v, want id %s, KL0641 AMS-JFK", f, flightID)
	}
	g.MustCall("POST", "/api/v1/flights", `{"number":"KL0642","date":"2026-11-22","origin":"JFK","destination":"AMS"}`, http.StatusCreated, nil)

	g.MustCall("GET", "/api/v1/flights", "", http.StatusOK, &list)
	if got, want := len(list.Flights), 2; got != want {
		t.Fatalf("flights = %d, want %d", got, want)
	}
	if list.Flights[0]["id"] != "KL0642-2026-11-22" || list.Flights[1]["id"] != flightID {
		t.Fatalf("flight order = %v, %v; want by date", list.Flights[0]["id"], list.Flights[1]["id"])
	}

	var one map[string]any
	g.MustCall("GET", "/api/v1/flights/"+flightID, "", http.StatusOK, &one)
	if one["id"] != flightID || one["departs_at"] != "2026-11-23T09:40:00Z" {
		t.Fatalf("flight = %v", one)
	}
}

// Ensure the whole agent workflow on one enquiry answers with the new state
// at each step.
func TestEnquiries(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	g.NewFlight()

	var first map[string]any
	t.Run("CreateIdempotent", func(t *testing.T) {
		var again map[string]any
		g.MustCall("POST", "/api/v1/enquiries", intake("tw-1"), http.StatusCreated, &first)
		if first["status"] != "new" || first["id"] == "" || first["channel"] != "twitter" || first["external_id"] != "tw-1" {
			t.Fatalf("created = %v, want status new", first)
		}
		head := g.Snapshot()
		// The same message delivered again (channel in another case): same
		// enquiry, 200, nothing stored.
		g.MustCall("POST", "/api/v1/enquiries", strings.Replace(intake("tw-1"), `"twitter"`, `"Twitter"`, 1), http.StatusOK, &again)
		if again["id"] != first["id"] || again["status"] != "new" {
			t.Fatalf("again = %v, want id %v", again, first["id"])
		}
		if got := g.Snapshot(); got != head {
			t.Fatalf("a repeated intake changed the store:\n%s\nwant\n%s", got, head)
		}
	})

	id := g.NewEnquiry("tw-2")

	t.Run("Get", func(t *testing.T) {
		var raw map[string]any
		g.MustCall("GET", "/api/v1/enquiries/"+id, "", http.StatusOK, &raw)
		if raw["status"] != "new" || raw["flight_id"] != "" || raw["id"] != id {
			t.Fatalf("enquiry = %v, want new, no flight", raw)
		}
		if notes, ok := raw["notes"].([]any); !ok || len(notes) != 0 {
			t.Fatalf("notes = %#v, want []", raw["notes"])
		}
		for _, k := range []string{"resolution", "closed", "acknowledged", "delivery"} {
			if _, ok := raw[k]; ok {
				t.Errorf("%s = %v, want absent", k, raw[k])
			}
		}
		h, _ := raw["history"].([]any)
		if len(h) != 1 || h[0].(map[string]any)["kind"] != "create" || h[0].(map[string]any)["effect"] != "applied" {
			t.Fatalf("history = %v, want the create", raw["history"])
		}
	})

	t.Run("Assign", func(t *testing.T) {
		var e api.EnquiryView
		g.MustCall("POST", "/api/v1/enquiries/"+id+"/assign", assignBody, http.StatusOK, &e)
		if e.Status != "assigned" || e.FlightID != flightID || e.PassengerName != "Maria de Vries" || e.Seat != "12A" || e.Instructions != "Bring a card from the crew." {
			t.Fatalf("assigned = %+v", e)
		}
		if got := g.Enquiry(id); got.Status != "assigned" || got.Seat != "12A" {
			t.Fatalf("read back = %+v", got)
		}
	})

	t.Run("Notes", func(t *testing.T) {
		var e api.EnquiryView
		g.MustCall("POST", "/api/v1/enquiries/"+id+"/notes", `{"text":"Her daughter called again."}`, http.StatusCreated, &e)
		g.MustCall("POST", "/api/v1/enquiries/"+id+"/notes", `{"text":"Cake is on board."}`, http.StatusCreated, &e)
		if got, want := len(e.Notes), 2; got != want {
			t.Fatalf("notes = %d, want %d", got, want)
		}
		if e.Notes[0].Text != "Her daughter called again." || e.Notes[1].Text != "Cake is on board." || e.Notes[1].By != "agent:admin" {
			t.Fatalf("notes = %+v", e.Notes)
		}
		if e.Status != "assigned" {
			t.Fatalf("status = %s, want assigned (a note does not move it)", e.Status)
		}
	})

	t.Run("List", func(t *testing.T) {
		other := g.NewEnquiry("tw-3") // new, no flight
		tw1, _ := first["id"].(string)
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", []string{other, id, tw1}}, // newest first
			{"?status=new", []string{other, tw1}},
			{"?status=assigned", []string{id}},
			{"?flight_id=" + flightID, []string{id}},
			{"?flight_id=" + flightID + "&status=new", nil},
			{"?flight_id=KL9999-2026-11-23", nil},
			{"?limit=1", []string{other}},
		} {
			var list struct {
				Enquiries []api.EnquiryView `json:"enquiries"`
				Count     int               `json:"count"`
			}
			g.MustCall("GET", "/api/v1/enquiries"+tc.query, "", http.StatusOK, &list)
			if list.Count != len(tc.want) || len(list.Enquiries) != len(tc.want) {
				t.Errorf("%q: %d enquiries (count %d), want %d", tc.query, len(list.Enquiries), list.Count, len(tc.want))
				continue
			}
			for i, w := range tc.want {
				if list.Enquiries[i].ID.String() != w {
					t.Errorf("%q: [%d] = %s, want %s", tc.query, i, list.Enquiries[i].ID, w)
				}
			}
		}
	})

	t.Run("Recall", func(t *testing.T) {
		var e api.EnquiryView
		g.MustCall("POST", "/api/v1/enquiries/"+id+"/recall", `{"reason":"Passenger rebooked"}`, http.StatusOK, &e)
		if e.Status != "new" || e.FlightID != "" {
			t.Fatalf("recalled = %s on %q, want new on no flight", e.Status, e.FlightID)
		}
		if got := len(e.Notes); got != 2 {
			t.Fatalf("notes after recall = %d, want 2", got)
		}
	})

	t.Run("CloseNew", func(t *testing.T) {
		var e map[string]any
		// An empty body is allowed: close has only optional fields.
		g.MustCall("POST", "/api/v1/enquiries/"+id+"/close", "", http.StatusOK, &e)
		if e["status"] != "closed" || e["closed"] == nil {
			t.Fatalf("closed = %v", e)
		}
	})

	t.Run("CloseAssigned", func(t *testing.T) {
		id := g.NewEnquiry("tw-4")
		g.MustCall("POST", "/api/v1/enquiries/"+id+"/assign", assignBody, http.StatusOK, nil)
		before := g.Snapshot()
		status, ctype, raw := g.Do("POST", "/api/v1/enquiries/"+id+"/close", "Bearer "+adminToken, strings.NewReader(`{}`))
		AssertError(t, status, ctype, raw, http.StatusConflict, "illegal_transition")
		if got := g.Snapshot(); got != before {
			t.Fatalf("a refused close changed the store")
		}
		var e api.EnquiryView
		g.MustCall("POST", "/api/v1/enquiries/"+id+"/close", `{"force":true,"reason":"Customer withdrew the request"}`, http.StatusOK, &e)
		if e.Status != "closed" {
			t.Fatalf("forced close = %s, want closed", e.Status)
		}
		last := e.History[len(e.History)-1]
		if last.Kind != "close" || !strings.Contains(string(last.Data), "Customer withdrew") {
			t.Fatalf("last history entry = %+v, want the forced close with its reason", last)
		}
	})
}

// Ensure devices can be registered, listed, read and revoked, and that the
// token is shown only once.
func TestDevices(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)

	var created struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Code  string `json:"enrolment_code"`
		Token string `json:"token"`
	}
	g.MustCall("POST", "/api/v1/devices", `{"name":"  Tablet 12  "}`, http.StatusCreated, &created)
	if created.ID == "" || created.Name != "Tablet 12" || len(created.Code) != 11 || created.Token != "" {
		t.Fatalf("created = %+v, want an id, trimmed name, an enrolment code and no token", created)
	}
	created.Token = g.Enrol(created.Code).Token
	second := g.MustDevice("Tablet 13")
	if second.Token == created.Token || len(created.Token) < 40 {
		t.Fatal("two devices got the same token, or a short one")
	}

	raw := g.MustCall("GET", "/api/v1/devices", "", http.StatusOK, nil)
	if bytes.Contains(raw, []byte(created.Token)) || bytes.Contains(raw, []byte("token")) {
		t.Fatalf("device list shows a token: %s", raw)
	}
	var list struct {
		Devices []map[string]any `json:"devices"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Devices) != 2 || list.Devices[0]["id"] != created.ID {
		t.Fatalf("devices = %v, want 2, Tablet 12 first", list.Devices)
	}
	d := list.Devices[0]
	for _, k := range []string{"online", "last_seen", "last_sync", "flights", "pending", "cursor_lag", "revoked", "state"} {
		if _, ok := d[k]; !ok {
			t.Errorf("device has no %q: %v", k, d)
		}
	}
	if d["online"] != false || d["last_seen"] != nil || d["last_sync"] != nil || d["pending"] != 0.0 || d["cursor_lag"] != 0.0 || d["revoked"] != false {
		t.Errorf("fresh device = %v, want offline, never seen, nothing pending", d)
	}
	if fl, ok := d["flights"].([]any); !ok || len(fl) != 0 {
		t.Errorf("flights = %#v, want []", d["flights"])
	}

	raw = g.MustCall("GET", "/api/v1/devices/"+created.ID, "", http.StatusOK, &d)
	if d["id"] != created.ID || d["name"] != "Tablet 12" || bytes.Contains(raw, []byte(created.Token)) || bytes.Contains(raw, []byte("token")) {
		t.Fatalf("device = %s", raw)
	}

	g.MustCall("POST", "/api/v1/devices/"+created.ID+"/revoke", "", http.StatusOK, &d)
	if d["revoked"] != true {
		t.Fatalf("revoked device = %v", d)
	}
	if _, err := g.Srv.Store.Authenticate(context.Background(), created.ID, created.Token); err == nil {
		t.Fatal("a revoked device still authenticates")
	}
	// Revoking again is harmless.
	g.MustCall("POST", "/api/v1/devices/"+created.ID+"/revoke", "", http.StatusOK, &d)
	if d["revoked"] != true {
		t.Fatalf("revoked twice = %v", d)
	}
}

// routes lists every /api/v1 route with a body that would succeed.
func routes(enq, dev string) []struct{ method, path, body string } {
	return []struct{ method, path, body string }{
		{"POST", "/api/v1/flights", `{"number":"KL0643","date":"2026-11-24","origin":"AMS","destination":"JFK"}`},
		{"GET", "/api/v1/flights", ""},
		{"GET", "/api/v1/flights/" + flightID, ""},
		{"POST", "/api/v1/enquiries", intake("tw-auth")},
		{"GET", "/api/v1/enquiries", ""},
		{"GET", "/api/v1/enquiries/" + enq, ""},
		{"POST", "/api/v1/enquiries/" + enq + "/assign", assignBody},
		{"POST", "/api/v1/enquiries/" + enq + "/notes", `{"text":"x"}`},
		{"POST", "/api/v1/enquiries/" + enq + "/recall", ""},
		{"POST", "/api/v1/enquiries/" + enq + "/close", ""},
		{"POST", "/api/v1/devices", `{"name":"Tablet"}`},
		{"GET", "/api/v1/devices", ""},
		{"GET", "/api/v1/devices/" + dev, ""},
		{"POST", "/api/v1/devices/" + dev + "/revoke", ""},
		{"GET", "/api/v1/nope", ""},
	}
}

// Ensure every /api/v1 route refuses a missing or bad credential with 401
// and changes nothing, while the probes stay open.
func TestAuth(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	g.NewFlight()
	enq := g.NewEnquiry("tw-1")
	var dev struct{ ID string }
	g.MustCall("POST", "/api/v1/devices", `{"name":"Tablet"}`, http.StatusCreated, &dev)
	before := g.Snapshot()

	for _, authz := range []string{
		"",
		"Bearer wrong-token",
		"Bearer " + adminToken + "x",
		"Bearer ",
		"Bearer" + adminToken,
		"Basic " + adminToken,
		"Basic YWRtaW46dGVzdC10b2tlbg==", // admin:test-token
		adminToken,
	} {
		for _, r := range routes(enq, dev.ID) {
			t.Run(fmt.Sprintf("%s %s %q", r.method, r.path, authz), func(t *testing.T) {
				var body io.Reader
				if r.body != "" {
					body = strings.NewReader(r.body)
				}
				status, ctype, raw := g.Do(r.method, r.path, authz, body)
				AssertError(t, status, ctype, raw, http.StatusUnauthorized, "unauthorized")
			})
		}
	}
	if got := g.Snapshot(); got != before {
		t.Fatalf("unauthorised requests changed the store:\n%s\nwant\n%s", got, before)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if status, _, raw := g.Do("GET", p, "", nil); status != http.StatusOK {
			t.Errorf("%s without a token = %d: %s", p, status, raw)
		}
	}
	// The right token passes on every route (the positive control).
	for _, r := range routes(enq, dev.ID) {
		status, _ := g.Call(r.method, r.path, r.body)
		if status == http.StatusUnauthorized {
			t.Errorf("%s %s with the admin token = 401", r.method, r.path)
		}
	}
}

// oversize is a well-formed JSON body one byte over jsonapi.MaxBody.
func oversize(field string) string {
	pre := `{"` + field + `":"`
	return pre + strings.Repeat("a", jsonapi.MaxBody+1-len(pre)-2) + `"}`
}

// Ensure bad input on every endpoint gets a clear JSON error with the right
// status and code, and changes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	g.NewFlight()
	newEnq := g.NewEnquiry("tw-new")
	assigned := g.NewEnquiry("tw-assigned")
	g.MustCall("POST", "/api/v1/enquiries/"+assigned+"/assign", assignBody, http.StatusOK, nil)
	closed := g.NewEnquiry("tw-closed")
	g.MustCall("POST", "/api/v1/enquiries/"+closed+"/close", "", http.StatusOK, nil)
	var dev struct{ ID string }
	g.MustCall("POST", "/api/v1/devices", `{"name":"Tablet"}`, http.StatusCreated, &dev)

	type tc struct {
		name         string
		method, path string
		body         string
		status       int
		code         string
		msg          string // the message must contain this, if set
	}
	var cases []tc
	// bodyCases is the malformed-body matrix for one endpoint; valid is a
	// body the endpoint would accept.
	bodyCases := func(method, path, valid, field, wrongType string, emptyOK bool) {
		cases = append(cases,
			tc{"Malformed", method, path, `{"` + field + `":`, 400, "invalid_json", ""},
			tc{"NotJSON", method, path, `hello`, 400, "invalid_json", ""},
			tc{"Array", method, path, `[` + valid + `]`, 400, "invalid_json", ""},
			tc{"String", method, path, `"` + field + `"`, 400, "invalid_json", ""},
			tc{"WrongType", method, path, wrongType, 400, "invalid_json", field},
			tc{"UnknownField", method, path, valid[:len(valid)-1] + `,"colour":"red"}`, 400, "invalid_json", "colour"},
			tc{"MisspeltField", method, path, `{"` + strings.ToUpper(field[:1]) + field[1:] + `x":"a"}`, 400, "invalid_json", ""},
			tc{"TrailingGarbage", method, path, valid + ` x`, 400, "invalid_json", ""},
			tc{"TrailingBrace", method, path, valid + `}`, 400, "invalid_json", ""},
			tc{"TrailingBracket", method, path, valid + `]`, 400, "invalid_json", ""},
			tc{"TwoValues", method, path, valid + valid, 400, "invalid_json", ""},
			tc{"TooLarge", method, path, oversize(field), 413, "too_large", ""},
		)
		if !emptyOK {
			cases = append(cases, tc{"Empty", method, path, "", 400, "invalid_json", "required"},
				tc{"Blank", method, path, " \n ", 400, "invalid_json", "required"})
		}
	}

	bodyCases("POST", "/api/v1/flights", `{"number":"KL0643","date":"2026-11-24","origin":"AMS","destination":"JFK"}`, "number", `{"number":643,"date":"2026-11-24","origin":"AMS","destination":"JFK"}`, false)
	bodyCases("POST", "/api/v1/enquiries", intake("tw-bad"), "text", strings.Replace(intake("tw-bad"), `"text":"My mother flies tonight and it is her 80th birthday."`, `"text":42`, 1), false)
	bodyCases("POST", "/api/v1/enquiries/"+newEnq+"/assign", assignBody, "seat", strings.Replace(assignBody, `"12A"`, `12`, 1), false)
	bodyCases("POST", "/api/v1/enquiries/"+newEnq+"/notes", `{"text":"x"}`, "text", `{"text":["x"]}`, false)
	bodyCases("POST", "/api/v1/enquiries/"+assigned+"/recall", `{"reason":"x"}`, "reason", `{"reason":true}`, true)
	bodyCases("POST", "/api/v1/enquiries/"+newEnq+"/close", `{"reason":"x"}`, "force", `{"force":"yes","reason":"x"}`, true)
	bodyCases("POST", "/api/v1/devices", `{"name":"Tablet 2"}`, "name", `{"name":{"first":"Tablet"}}`, false)

	for _, c := range []tc{
		// Flights.
		{"BadNumber", "POST", "/api/v1/flights", `{"number":"K","date":"2026-11-24","origin":"AMS","destination":"JFK"}`, 400, "invalid", "number"},
		{"BadDate", "POST", "/api/v1/flights", `{"number":"KL0643","date":"2026-02-30","origin":"AMS","destination":"JFK"}`, 400, "invalid", "date"},
		{"DateFormat", "POST", "/api/v1/flights", `{"number":"KL0643","date":"24/11/2026","origin":"AMS","destination":"JFK"}`, 400, "invalid", "date"},
		{"BadOrigin", "POST", "/api/v1/flights", `{"number":"KL0643","date":"2026-11-24","origin":"AM1","destination":"JFK"}`, 400, "invalid", "IATA"},
		{"NoDestination", "POST", "/api/v1/flights", `{"number":"KL0643","date":"2026-11-24","origin":"AMS"}`, 400, "invalid", "IATA"},
		{"SameAirports", "POST", "/api/v1/flights", `{"number":"KL0643","date":"2026-11-24","origin":"AMS","destination":"ams"}`, 400, "invalid", "same"},
		{"ArrivesBeforeDeparture", "POST", "/api/v1/flights", `{"number":"KL0643","date":"2026-11-24","origin":"AMS","destination":"JFK","departs_at":"2026-11-24T10:00:00Z","arrives_at":"2026-11-24T09:00:00Z"}`, 400, "invalid", "arrives_at"},
		{"BadTime", "POST", "/api/v1/flights", `{"number":"KL0643","date":"2026-11-24","origin":"AMS","destination":"JFK","departs_at":"tomorrow"}`, 400, "invalid_json", ""},
		{"EmptyObject", "POST", "/api/v1/flights", `{}`, 400, "invalid", ""},
		{"Null", "POST", "/api/v1/flights", `null`, 400, "invalid", ""},
		{"Duplicate", "POST", "/api/v1/flights", flightBody, 409, "conflict", flightID},
		{"DuplicateNormalised", "POST", "/api/v1/flights", `{"number":"kl0641","date":"2026-11-23","origin":"AMS","destination":"JFK"}`, 409, "conflict", ""},
		{"UnknownFlight", "GET", "/api/v1/flights/KL9999-2026-11-23", "", 404, "not_found", "KL9999"},

		// Intake.
		{"BadChannel", "POST", "/api/v1/enquiries", strings.Replace(intake("tw-x"), `"twitter"`, `"fax"`, 1), 400, "invalid", "channel"},
		{"NoChannel", "POST", "/api/v1/enquiries", strings.Replace(intake("tw-x"), `"channel":"twitter",`, ``, 1), 400, "invalid", "channel"},
		{"BadLanguage", "POST", "/api/v1/enquiries", strings.Replace(intake("tw-x"), `"nl"`, `"dutch language"`, 1), 400, "invalid", "language"},
		{"LongLanguage", "POST", "/api/v1/enquiries", strings.Replace(intake("tw-x"), `"nl"`, `"english"`, 1), 400, "invalid", "language"},
		{"NoText", "POST", "/api/v1/enquiries", strings.Replace(intake("tw-x"), `"My mother flies tonight and it is her 80th birthday."`, `"  "`, 1), 400, "invalid", "text"},
		{"NoExternalID", "POST", "/api/v1/enquiries", intake(""), 400, "invalid", "external_id"},
		{"NoHandle", "POST", "/api/v1/enquiries", strings.Replace(intake("tw-x"), `"@jdevries"`, `""`, 1), 400, "invalid", "handle"},
		{"LongText", "POST", "/api/v1/enquiries", strings.Replace(intake("tw-x"), `"My mother flies tonight and it is her 80th birthday."`, `"`+strings.Repeat("a", 8001)+`"`, 1), 400, "invalid", "text"},
		{"BadReceivedAt", "POST", "/api/v1/enquiries", strings.Replace(intake("tw-x"), `"language":"nl"`, `"language":"nl","received_at":12`, 1), 400, "invalid_json", ""},

		// Enquiry lists.
		{"BadStatusFilter", "GET", "/api/v1/enquiries?status=lost", "", 400, "invalid", "status"},
		{"ZeroLimit", "GET", "/api/v1/enquiries?limit=0", "", 400, "invalid", "limit"},
		{"BadLimit", "GET", "/api/v1/enquiries?limit=ten", "", 400, "invalid", "limit"},
		{"HugeLimit", "GET", "/api/v1/enquiries?limit=10001", "", 400, "invalid", "limit"},

		// Unknown and impossible enquiry ids, on every enquiry route.
		{"GetUnknown", "GET", "/api/v1/enquiries/" + unknownID, "", 404, "not_found", unknownID},
		{"GetNotUUID", "GET", "/api/v1/enquiries/tw-new", "", 404, "not_found", ""},
		{"GetShortUUID", "GET", "/api/v1/enquiries/" + strings.ReplaceAll(unknownID, "-", ""), "", 404, "not_found", ""},
		{"AssignUnknown", "POST", "/api/v1/enquiries/" + unknownID + "/assign", assignBody, 404, "not_found", unknownID},
		{"AssignNotUUID", "POST", "/api/v1/enquiries/123/assign", assignBody, 404, "not_found", ""},
		{"NotesUnknown", "POST", "/api/v1/enquiries/" + unknownID + "/notes", `{"text":"x"}`, 404, "not_found", unknownID},
		{"NotesNotUUID", "POST", "/api/v1/enquiries/123/notes", `{"text":"x"}`, 404, "not_found", ""},
		{"RecallUnknown", "POST", "/api/v1/enquiries/" + unknownID + "/recall", "", 404, "not_found", unknownID},
		{"RecallNotUUID", "POST", "/api/v1/enquiries/123/recall", "", 404, "not_found", ""},
		{"CloseUnknown", "POST", "/api/v1/enquiries/" + unknownID + "/close", "", 404, "not_found", unknownID},
		{"CloseNotUUID", "POST", "/api/v1/enquiries/123/close", "", 404, "not_found", ""},

		// Assign.
		{"AssignUnknownFlight", "POST", "/api/v1/enquiries/" + newEnq + "/assign", strings.Replace(assignBody, flightID, "KL9999-2026-11-23", 1), 404, "not_found", "KL9999"},
		{"AssignNoFlight", "POST", "/api/v1/enquiries/" + newEnq + "/assign", `{"seat":"12A"}`, 400, "invalid", "flight_id"},
		{"AssignLongSeat", "POST", "/api/v1/enquiries/" + newEnq + "/assign", strings.Replace(assignBody, `"12A"`, `"`+strings.Repeat("1", 201)+`"`, 1), 400, "invalid", "seat"},
		{"AssignClosed", "POST", "/api/v1/enquiries/" + closed + "/assign", assignBody, 409, "illegal_transition", "closed"},

		// Notes.
		{"EmptyNote", "POST", "/api/v1/enquiries/" + newEnq + "/notes", `{"text":" "}`, 400, "invalid", "text"},
		{"NoNoteText", "POST", "/api/v1/enquiries/" + newEnq + "/notes", `{}`, 400, "invalid", "text"},

		// Recall.
		{"RecallNew", "POST", "/api/v1/enquiries/" + newEnq + "/recall", "", 409, "illegal_transition", "new"},
		{"RecallClosed", "POST", "/api/v1/enquiries/" + closed + "/recall", `{"reason":"x"}`, 409, "illegal_transition", "closed"},

		// Close.
		{"CloseAssigned", "POST", "/api/v1/enquiries/" + assigned + "/close", "", 409, "illegal_transition", "force"},
		{"CloseAssignedReason", "POST", "/api/v1/enquiries/" + assigned + "/close", `{"reason":"x"}`, 409, "illegal_transition", ""},
		{"ForceNoReason", "POST", "/api/v1/enquiries/" + assigned + "/close", `{"force":true}`, 400, "invalid", "reason"},
		{"ForceBlankReason", "POST", "/api/v1/enquiries/" + assigned + "/close", `{"force":true,"reason":"  "}`, 400, "invalid", "reason"},
		{"CloseClosed", "POST", "/api/v1/enquiries/" + closed + "/close", `{"force":true,"reason":"again"}`, 409, "illegal_transition", "closed"},

		// Devices.
		{"NoName", "POST", "/api/v1/devices", `{"name":"  "}`, 400, "invalid", "name"},
		{"LongName", "POST", "/api/v1/devices", `{"name":"` + strings.Repeat("a", 201) + `"}`, 400, "invalid", "name"},
		{"DeviceUnknown", "GET", "/api/v1/devices/" + unknownID, "", 404, "not_found", ""},
		{"DeviceNotUUID", "GET", "/api/v1/devices/tablet-1", "", 404, "not_found", ""},
		{"RevokeUnknown", "POST", "/api/v1/devices/" + unknownID + "/revoke", "", 404, "not_found", ""},
		{"RevokeNotUUID", "POST", "/api/v1/devices/tablet-1/revoke", "", 404, "not_found", ""},

		// Routing.
		{"UnknownRoute", "GET", "/api/v1/nope", "", 404, "not_found", "/api/v1/nope"},
		{"UnknownSubroute", "POST", "/api/v1/enquiries/" + newEnq + "/resolve", `{}`, 404, "not_found", ""},
		{"UnknownAPIVersion", "GET", "/api/v2/flights", "", 404, "not_found", ""},
		{"MethodFlights", "DELETE", "/api/v1/flights", "", 405, "method_not_allowed", "DELETE"},
		{"MethodFlight", "PUT", "/api/v1/flights/" + flightID, `{}`, 405, "method_not_allowed", "PUT"},
		{"MethodEnquiry", "DELETE", "/api/v1/enquiries/" + newEnq, "", 405, "method_not_allowed", "DELETE"},
		{"MethodAssign", "GET", "/api/v1/enquiries/" + newEnq + "/assign", "", 405, "method_not_allowed", "GET"},
		{"MethodDevices", "PATCH", "/api/v1/devices", `{}`, 405, "method_not_allowed", "PATCH"},
		{"MethodHealthz", "POST", "/healthz", "", 405, "method_not_allowed", "POST"},
	} {
		cases = append(cases, c)
	}

	for _, c := range cases {
		t.Run(c.method+" "+c.path[:min(len(c.path), 60)]+" "+c.name, func(t *testing.T) {
			before := g.Snapshot()
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			status, ctype, raw := g.Do(c.method, c.path, "Bearer "+adminToken, body)
			msg := AssertError(t, status, ctype, raw, c.status, c.code)
			if c.msg != "" && !strings.Contains(msg, c.msg) {
				t.Errorf("message %q does not mention %q", msg, c.msg)
			}
			if got := g.Snapshot(); got != before {
				t.Errorf("the refused request changed the store:\n%s\nwant\n%s", got, before)
			}
		})
	}

	// The fixtures are where they were, and the server still works.
	for id, want := range map[string]string{newEnq: "new", assigned: "assigned", closed: "closed"} {
		if got := g.Enquiry(id); string(got.Status) != want || len(got.Notes) != 0 {
			t.Errorf("enquiry %s = %s with %d notes, want %s with none", id, got.Status, len(got.Notes), want)
		}
	}
	g.MustCall("POST", "/api/v1/enquiries/"+newEnq+"/notes", `{"text":"still fine"}`, http.StatusCreated, nil)
}

// Ensure a wrong method on an existing path is a JSON 405 naming the
// allowed methods, and an unknown path anywhere under /api a JSON 404,
// while the console is still served at /.
func TestRouting(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	enq := g.NewEnquiry("tw-1")

	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"DELETE", "/api/v1/flights", 405, "method_not_allowed", "GET, POST"},
		{"POST", "/api/v1/flights/" + flightID, 405, "method_not_allowed", "GET"},
		{"PUT", "/api/v1/enquiries/" + enq, 405, "method_not_allowed", "GET"},
		{"GET", "/api/v1/enquiries/" + enq + "/close", 405, "method_not_allowed", "POST"},
		{"DELETE", "/api/v1/devices/x/revoke", 405, "method_not_allowed", "POST"},
		{"GET", "/api/v1", 404, "not_found", ""},
		{"GET", "/api/v1/", 404, "not_found", ""},
		{"GET", "/api/v1/enquiries/" + enq + "/history", 404, "not_found", ""},
		{"POST", "/api/v1/nope", 404, "not_found", ""},
		{"GET", "/api/v2/flights", 404, "not_found", ""},
		{"POST", "/api/v2/flights", 404, "not_found", ""},
		{"GET", "/api/", 404, "not_found", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, g.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+adminToken)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			AssertError(t, resp.StatusCode, resp.Header.Get("Content-Type"), raw, tc.status, tc.code)
			if got := resp.Header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}

	status, ctype, raw := g.Do("GET", "/", "", nil)
	if status != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
		t.Fatalf("GET / = %d %q: %.80s", status, ctype, raw)
	}
}
