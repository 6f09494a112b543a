package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/assets"
	"github.com/cabincare/cabincare/device/api"
	"github.com/cabincare/cabincare/device/store"
	"github.com/cabincare/cabincare/jsonapi"
	"github.com/cabincare/cabincare/syncproto"
)

const (
	deviceID = "tablet-1"
	flightA  = "KL0641-2026-11-23"
	flightB  = "KL0642-2026-11-24"
	syncErr  = "dial tcp 127.0.0.1:8080: connect: connection refused"
)

// FakeSync stands in for the sync client: it records what the API asks of
// it. The link itself is covered by the e2e tests.
type FakeSync struct {
	mu             sync.Mutex
	wakes          int
	flightsChanged int
}

var _ api.Syncer = (*FakeSync)(nil)

func (f *FakeSync) Wake()           { f.mu.Lock(); f.wakes++; f.mu.Unlock() }
func (f *FakeSync) FlightsChanged() { f.mu.Lock(); f.flightsChanged++; f.mu.Unlock() }
func (f *FakeSync) Connected() bool { return false }
func (f *FakeSync) LastError() (string, time.Time) {
	return syncErr, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
}

// Counts returns the Wake and FlightsChanged calls so far.
func (f *FakeSync) Counts() (wakes, flightsChanged int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wakes, f.flightsChanged
}

// Cabin is the local API on a real store, behind a real HTTP server.
type Cabin struct {
	t      testing.TB
	Store  *store.Store
	Sync   *FakeSync
	URL    string
	cursor uint64
	clock  *syncproto.Clock
	// Authz is the Authorization header Do sends: the automation token
	// unless a test signs in as crew or sends none.
	Authz string
	API   *api.API
}

const apiToken = "test-api-token"

// MustOpenCabin opens a device store in t.TempDir() and serves the local
// API (with the crew UI, as the cabin service does) on a loopback port.
func MustOpenCabin(tb testing.TB, opts ...func(*api.API)) *Cabin {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "cabin.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	if err := st.SetDeviceID(deviceID); err != nil {
		tb.Fatal(err)
	}
	ui, err := fs.Sub(assets.FS, "crew")
	if err != nil {
		tb.Fatal(err)
	}
	fake := &FakeSync{}
	e := echo.New()
	a := &api.API{Store: st, Sync: fake, DeviceID: deviceID, UI: ui, Log: slog.New(slog.DiscardHandler), APIToken: apiToken}
	for _, o := range opts {
		o(a)
	}
	a.Register(e)
	srv := httptest.NewServer(e)
	tb.Cleanup(srv.Close) // runs before the store closes
	return &Cabin{t: tb, Store: st, Sync: fake, URL: srv.URL, clock: syncproto.NewClock(0), Authz: "Bearer " + apiToken, API: a}
}

var client = &http.Client{Timeout: 10 * time.Second}

// Do sends a request with a string body ("" for none) and returns the
// status, content type and body.
func (c *Cabin) Do(method, path, body string) (int, string, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.URL+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Authz != "" {
		req.Header.Set("Authorization", c.Authz)
	}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

// MustCall checks the status and decodes the answer into out (if not nil).
func (c *Cabin) MustCall(method, path, body string, want int, out any) []byte {
	c.t.Helper()
	status, _, raw := c.Do(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, status, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return raw
}

// OpenFlight opens a flight through the API.
func (c *Cabin) OpenFlight(flight string) {
	c.t.Helper()
	c.MustCall("PUT", "/api/v1/flight", `{"flight_id":"`+flight+`"}`, http.StatusOK, nil)
}

// Seed stores n enquiries handed to flight (which must be served), as a
// pull from the ground would: a create and an assign by an agent each.
func (c *Cabin) Seed(flight string, n int) []string {
	c.t.Helper()
	agent := syncproto.Actor{Type: syncproto.ActorAgent, ID: "agent-7", Name: "Sanne"}
	var ops []syncproto.Op
	var ids []string
	for i := range n {
		id := syncproto.NewOpID()
		ids = append(ids, id.String())
		ops = append(ops,
			syncproto.Op{ID: id, Enquiry: id, Kind: syncproto.KindCreate, HLC: c.clock.Tick(), Actor: agent, Data: syncproto.MustData(syncproto.CreateData{
				Channel: "twitter", ExternalID: fmt.Sprintf("tw-%s-%d", flight, i), Handle: "@jdevries", Text: "It is my mother's 80th birthday.", Language: "nl", ReceivedAt: time.Now().UTC(),
			})},
			syncproto.Op{ID: syncproto.NewOpID(), Enquiry: id, Kind: syncproto.KindAssign, HLC: c.clock.Tick(), Actor: agent, Data: syncproto.MustData(syncproto.AssignData{
				FlightID: flight, PassengerName: "Maria de Vries", Seat: fmt.Sprintf("%dA", 10+i), Instructions: "Bring a card from the crew.",
			})},
		)
	}
	for i := range ops {
		if err := ops[i].Validate(); err != nil {
			c.t.Fatalf("seed op: %v", err)
		}
	}
	c.cursor += uint64(len(ops))
	changed, err := c.Store.ApplyChanges(context.Background(), flight, ops, c.cursor)
	if err != nil {
		c.t.Fatal(err)
	}
	if len(changed) != n {
		c.t.Fatalf("seed changed %d enquiries, want %d (is %s served?)", len(changed), n, flight)
	}
	return ids
}

// Status reads the status endpoint.
func (c *Cabin) Status() api.StatusView {
	c.t.Helper()
	var s api.StatusView
	c.MustCall("GET", "/api/v1/status", "", http.StatusOK, &s)
	return s
}

// Enquiry reads one enquiry through the API.
func (c *Cabin) Enquiry(id string) api.EnquiryView {
	c.t.Helper()
	var e api.EnquiryView
	c.MustCall("GET", "/api/v1/enquiries/"+id, "", http.StatusOK, &e)
	return e
}

// Outbox returns the ops waiting for the ground.
func (c *Cabin) Outbox() []syncproto.Op {
	c.t.Helper()
	ops, err := c.Store.Outbox(1000, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return ops
}

// Snapshot is everything a refused request must leave alone: the sync
// status, the open flight's enquiries in full, every seeded enquiry, the
// outbox, the dead letters and the calls to the sync client.
func (c *Cabin) Snapshot(ids ...string) string {
	c.t.Helper()
	var b strings.Builder
	for _, p := range []string{"/api/v1/status", "/api/v1/flight", "/api/v1/enquiries", "/api/v1/dead-letters"} {
		b.Write(c.MustCall("GET", p, "", http.StatusOK, nil))
	}
	for _, id := range ids {
		b.Write(c.MustCall("GET", "/api/v1/enquiries/"+id, "", http.StatusOK, nil))
	}
	for _, op := range c.Outbox() {
		fmt.Fprintf(&b, "outbox %s %s\n", op.ID, op.Kind)
	}
	w, f := c.Sync.Counts()
	fmt.Fprintf(&b, "wakes=%d flights_changed=%d", w, f)
	return b.String()
}

// AssertError checks that an answer is exactly the JSON error envelope
// with the given status and code and a non-empty message, and returns the
// message.
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

// Ensure the status reports the store's sync state and the sync client's
// last error, and changes as the store does.
func TestStatus(t *testing.T) {
	t.Parallel()
	c := MustOpenCabin(t)

	var raw map[string]any
	c.MustCall("GET", "/api/v1/status", "", http.StatusOK, &raw)
	for _, k := range []string{"device_id", "connected", "pending", "oldest_pending", "dead_letters", "last_sync", "last_push", "last_pull", "cursor", "cursors", "flight_id", "enquiries", "last_error"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("status has no %q: %v", k, raw)
		}
	}
	s := c.Status()
	if s.DeviceID != deviceID || s.Connected || s.Pending != 0 || s.OldestPending != nil || s.DeadLetters != 0 || s.LastSync != nil || s.LastPull != nil ||
		s.FlightID != "" || s.Enquiries != 0 || s.Cursor != 0 || len(s.Cursors) != 0 || s.LastError != syncErr {
		t.Fatalf("fresh status = %+v", s)
	}

	c.OpenFlight(flightA)
	ids := c.Seed(flightA, 2)
	s = c.Status()
	if s.FlightID != flightA || s.Enquiries != 2 || s.Cursor != 4 || s.Cursors[flightA] != 4 || s.LastPull == nil || s.Pending != 0 {
		t.Fatalf("status after a pull = %+v, want flight %s, 2 enquiries, cursor 4", s, flightA)
	}

	before := time.Now().Add(-time.Second)
	c.MustCall("POST", "/api/v1/enquiries/"+ids[0]+"/ack", "", http.StatusOK, nil)
	s = c.Status()
	if s.Pending != 1 || s.OldestPending == nil || s.OldestPending.Before(before) || s.LastSync != nil {
		t.Fatalf("status after an ack = %+v, want 1 pending since now, never synced", s)
	}
}

// Ensure the crew can open a flight, and that the tablet keeps serving
// the flights opened before.
func TestFlight(t *testing.T) {
	t.Parallel()
	c := MustOpenCabin(t)

	var got map[string]string
	c.MustCall("GET", "/api/v1/flight", "", http.StatusOK, &got)
	if got["flight_id"] != "" {
		t.Fatalf("flight = %v, want none", got)
	}
	c.MustCall("PUT", "/api/v1/flight", `{"flight_id":"`+flightA+`"}`, http.StatusOK, &got)
	if got["flight_id"] != flightA {
		t.Fatalf("PUT flight = %v", got)
	}
	if _, f := c.Sync.Counts(); f != 1 {
		t.Fatalf("FlightsChanged calls = %d, want 1", f)
	}
	c.MustCall("GET", "/api/v1/flight", "", http.StatusOK, &got)
	if got["flight_id"] != flightA {
		t.Fatalf("flight = %v, want %s", got, flightA)
	}
	// Spaces around an id (typed by the crew) are not part of it.
	c.MustCall("PUT", "/api/v1/flight", `{"flight_id":" `+flightB+` "}`, http.StatusOK, &got)
	if got["flight_id"] != flightB {
		t.Fatalf("PUT padded flight = %v, want %s", got, flightB)
	}
	if s := c.Status(); s.FlightID != flightB || len(s.Cursors) != 2 {
		t.Fatalf("status = %+v, want %s current and both flights served", s, flightB)
	}
}

// Ensure the list shows the open flight's enquiries, most urgent first,
// with "delivered" for an assigned enquiry.
func TestListEnquiries(t *testing.T) {
	t.Parallel()
	c := MustOpenCabin(t)

	var list struct {
		FlightID  string            `json:"flight_id"`
		Enquiries []api.EnquiryView `json:"enquiries"`
	}
	raw := c.MustCall("GET", "/api/v1/enquiries", "", http.StatusOK, &list)
	if list.FlightID != "" || list.Enquiries == nil || len(list.Enquiries) != 0 || !strings.Contains(string(raw), `"enquiries":[]`) {
		t.Fatalf("no flight: %s, want an empty list", raw)
	}

	c.OpenFlight(flightA)
	a := c.Seed(flightA, 3)
	c.OpenFlight(flightB)
	b := c.Seed(flightB, 1)

	c.MustCall("GET", "/api/v1/enquiries", "", http.StatusOK, &list)
	if list.FlightID != flightB || len(list.Enquiries) != 1 || list.Enquiries[0].ID.String() != b[0] {
		t.Fatalf("flight B list = %+v, want only %s", list, b[0])
	}

	c.OpenFlight(flightA)
	c.MustCall("POST", "/api/v1/enquiries/"+a[0]+"/ack", "", http.StatusOK, nil)
	c.MustCall("GET", "/api/v1/enquiries", "", http.StatusOK, &list)
	if list.FlightID != flightA || len(list.Enquiries) != 3 {
		t.Fatalf("flight A list = %d enquiries on %s, want 3", len(list.Enquiries), list.FlightID)
	}
	var got []string
	for _, e := range list.Enquiries {
		got = append(got, e.ID.String()+"="+string(e.Status))
	}
	want := []string{a[1] + "=delivered", a[2] + "=delivered", a[0] + "=acknowledged"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("order = %v, want %v (unseen first)", got, want)
	}
	e := list.Enquiries[0]
	if e.FlightID != flightA || e.PassengerName != "Maria de Vries" || e.Seat != "11A" || e.Instructions != "Bring a card from the crew." {
		t.Fatalf("enquiry = %+v", e.Enquiry)
	}
	if one := c.Enquiry(a[1]); one.Status != syncproto.StatusDelivered || one.Seat != "11A" {
		t.Fatalf("GET enquiry = %s seat %s, want delivered 11A", one.Status, one.Seat)
	}
}

// Ensure each crew action answers with the new state at once, writes one
// outbox entry and wakes the sync client.
func TestCrewActions(t *testing.T) {
	t.Parallel()
	c := MustOpenCabin(t)
	c.OpenFlight(flightA)
	ids := c.Seed(flightA, 1)
	id := ids[0]

	step := func(t *testing.T, kind syncproto.Kind, pending int) {
		t.Helper()
		ob := c.Outbox()
		if len(ob) != pending || ob[len(ob)-1].Kind != kind || ob[len(ob)-1].Enquiry.String() != id {
			t.Fatalf("outbox = %d ops (last %v), want %d, last a %s", len(ob), ob[len(ob)-1].Kind, pending, kind)
		}
		last := ob[len(ob)-1]
		if last.Actor.Type != syncproto.ActorDevice || last.Actor.ID != deviceID {
			t.Fatalf("actor = %+v, want this device", last.Actor)
		}
		if err := last.Validate(); err != nil {
			t.Fatalf("outbox op is not valid: %v", err)
		}
		if s := c.Status(); s.Pending != pending {
			t.Fatalf("pending = %d, want %d", s.Pending, pending)
		}
		if w, _ := c.Sync.Counts(); w != pending {
			t.Fatalf("Wake calls = %d, want %d", w, pending)
		}
	}

	t.Run("Ack", func(t *testing.T) {
		var e api.EnquiryView
		c.MustCall("POST", "/api/v1/enquiries/"+id+"/ack", "", http.StatusOK, &e)
		if e.Status != syncproto.StatusAcknowledged || e.Acknowledged == nil || e.Acknowledged.By != "device:"+deviceID {
			t.Fatalf("acked = %s %+v", e.Status, e.Acknowledged)
		}
		step(t, syncproto.KindAck, 1)
	})
	t.Run("AckTwice", func(t *testing.T) {
		before := c.Snapshot(id)
		status, ctype, raw := c.Do("POST", "/api/v1/enquiries/"+id+"/ack", `{}`)
		AssertError(t, status, ctype, raw, http.StatusConflict, "illegal_transition")
		if got := c.Snapshot(id); got != before {
			t.Fatalf("a refused ack changed the store:\n%s\nwant\n%s", got, before)
		}
	})
	t.Run("Note", func(t *testing.T) {
		var e api.EnquiryView
		c.MustCall("POST", "/api/v1/enquiries/"+id+"/notes", `{"text":"Card signed by the whole crew."}`, http.StatusCreated, &e)
		if len(e.Notes) != 1 || e.Notes[0].Text != "Card signed by the whole crew." || e.Status != syncproto.StatusAcknowledged {
			t.Fatalf("noted = %s %+v", e.Status, e.Notes)
		}
		step(t, syncproto.KindNote, 2)
	})
	t.Run("Resolve", func(t *testing.T) {
		var e map[string]any
		c.MustCall("POST", "/api/v1/enquiries/"+id+"/resolve", `{"outcome":"resolved","note":"Served cake at row 10, she was delighted."}`, http.StatusOK, &e)
		r, _ := e["resolution"].(map[string]any)
		if e["status"] != "resolved" || r["outcome"] != "resolved" || r["note"] != "Served cake at row 10, she was delighted." || r["by"] != "device:"+deviceID {
			t.Fatalf("resolved = %v", e)
		}
		step(t, syncproto.KindOutcome, 3)
		if got := c.Enquiry(id); got.Status != syncproto.StatusResolved || len(got.Notes) != 1 {
			t.Fatalf("read back = %s with %d notes", got.Status, len(got.Notes))
		}
	})
	t.Run("ResolveAgain", func(t *testing.T) {
		// A changed outcome replaces the first, which stays in the history.
		var e api.EnquiryView
		c.MustCall("POST", "/api/v1/enquiries/"+id+"/resolve", `{"outcome":"escalated"}`, http.StatusOK, &e)
		if e.Status != syncproto.StatusEscalated {
			t.Fatalf("status = %s, want escalated", e.Status)
		}
		step(t, syncproto.KindOutcome, 4)
		superseded := 0
		for _, h := range e.History {
			if h.Effect == syncproto.EffectSuperseded {
				superseded++
			}
		}
		if superseded != 1 {
			t.Fatalf("%d superseded entries, want 1", superseded)
		}
	})
}

// Ensure the ops the ground refused are listed with the reason.
func TestDeadLetters(t *testing.T) {
	t.Parallel()
	c := MustOpenCabin(t)

	raw := c.MustCall("GET", "/api/v1/dead-letters", "", http.StatusOK, nil)
	if strings.TrimSpace(string(raw)) != `{"dead_letters":[]}` {
		t.Fatalf("no dead letters = %s", raw)
	}

	c.OpenFlight(flightA)
	ids := c.Seed(flightA, 2)
	c.MustCall("POST", "/api/v1/enquiries/"+ids[0]+"/ack", "", http.StatusOK, nil)
	c.MustCall("POST", "/api/v1/enquiries/"+ids[1]+"/ack", "", http.StatusOK, nil)
	ob := c.Outbox()
	// The ground stores one ack and refuses the other.
	err := c.Store.CompletePush([]syncproto.OpResult{
		{ID: ob[0].ID, Result: syncproto.ResultApplied},
		{ID: ob[1].ID, Result: syncproto.ResultRefused, Code: syncproto.CodeOutOfScope, Message: "enquiry is not on a flight this device serves"},
	})
	if err != nil {
		t.Fatal(err)
	}

	var list struct {
		DeadLetters []store.DeadLetter `json:"dead_letters"`
	}
	c.MustCall("GET", "/api/v1/dead-letters", "", http.StatusOK, &list)
	if len(list.DeadLetters) != 1 {
		t.Fatalf("dead letters = %+v, want 1", list.DeadLetters)
	}
	d := list.DeadLetters[0]
	if d.Op.ID != ob[1].ID || d.Op.Kind != syncproto.KindAck || d.Op.Enquiry.String() != ids[1] || d.Code != syncproto.CodeOutOfScope || d.Message == "" || d.At.IsZero() {
		t.Fatalf("dead letter = %+v, want the refused ack with its code", d)
	}
	if s := c.Status(); s.DeadLetters != 1 || s.Pending != 0 {
		t.Fatalf("status = %+v, want 1 dead letter, nothing pending", s)
	}
}

// oversize is a well-formed JSON body one byte over jsonapi.MaxBody.
func oversize(field string) string {
	pre := `{"` + field + `":"`
	return pre + strings.Repeat("a", jsonapi.MaxBody+1-len(pre)-2) + `"}`
}

// Ensure bad input on every endpoint gets a clear JSON error with the right
// status and code, and changes nothing: no outbox entry, no state change,
// no wake-up.
func TestBadInput(t *testing.T) {
	t.Parallel()
	c := MustOpenCabin(t)
	c.OpenFlight(flightA)
	ids := c.Seed(flightA, 2)
	assigned, acked := ids[0], ids[1]
	c.MustCall("POST", "/api/v1/enquiries/"+acked+"/ack", "", http.StatusOK, nil)
	unknown := uuid.Must(uuid.NewV7()).String()

	type tc struct {
		name         string
		method, path string
		body         string
		status       int
		code         string
		msg          string // the message must contain this, if set
	}
	var cases []tc
	bodyCases := func(method, path, valid, field, wrongType string, emptyOK bool) {
		cases = append(cases,
			tc{"Malformed", method, path, `{"` + field + `":`, 400, "invalid_json", ""},
			tc{"NotJSON", method, path, `hello`, 400, "invalid_json", ""},
			tc{"Array", method, path, `[` + valid + `]`, 400, "invalid_json", ""},
			tc{"Number", method, path, `42`, 400, "invalid_json", ""},
			tc{"UnknownField", method, path, `{"colour":"red"}`, 400, "invalid_json", "colour"},
			tc{"TrailingGarbage", method, path, valid + ` x`, 400, "invalid_json", ""},
			tc{"TrailingBrace", method, path, valid + `}`, 400, "invalid_json", ""},
			tc{"TwoValues", method, path, valid + valid, 400, "invalid_json", ""},
			tc{"TooLarge", method, path, oversize(field), 413, "too_large", ""},
		)
		if wrongType != "" {
			cases = append(cases, tc{"WrongType", method, path, wrongType, 400, "invalid_json", field})
		}
		if !emptyOK {
			cases = append(cases, tc{"Empty", method, path, "", 400, "invalid_json", "required"})
		}
	}
	bodyCases("PUT", "/api/v1/flight", `{"flight_id":"`+flightB+`"}`, "flight_id", `{"flight_id":641}`, false)
	bodyCases("POST", "/api/v1/enquiries/"+assigned+"/ack", `{}`, "x", "", true)
	bodyCases("POST", "/api/v1/enquiries/"+assigned+"/notes", `{"text":"x"}`, "text", `{"text":{"en":"x"}}`, false)
	bodyCases("POST", "/api/v1/enquiries/"+assigned+"/resolve", `{"outcome":"resolved"}`, "outcome", `{"outcome":1}`, false)

	cases = append(cases, []tc{
		// Flight.
		{"NoFlight", "PUT", "/api/v1/flight", `{}`, 400, "invalid", "flight_id"},
		{"EmptyFlight", "PUT", "/api/v1/flight", `{"flight_id":""}`, 400, "invalid", "flight_id"},
		{"BlankFlight", "PUT", "/api/v1/flight", `{"flight_id":"  "}`, 400, "invalid", "flight_id"},
		{"LongFlight", "PUT", "/api/v1/flight", `{"flight_id":"` + strings.Repeat("K", 201) + `"}`, 400, "invalid", "flight_id"},

		// Unknown and impossible enquiry ids.
		{"GetUnknown", "GET", "/api/v1/enquiries/" + unknown, "", 404, "not_found", unknown},
		{"GetNotUUID", "GET", "/api/v1/enquiries/12A", "", 404, "not_found", ""},
		{"AckUnknown", "POST", "/api/v1/enquiries/" + unknown + "/ack", "", 404, "not_found", unknown},
		{"AckNotUUID", "POST", "/api/v1/enquiries/12A/ack", "", 404, "not_found", ""},
		{"NoteUnknown", "POST", "/api/v1/enquiries/" + unknown + "/notes", `{"text":"x"}`, 404, "not_found", unknown},
		{"NoteNotUUID", "POST", "/api/v1/enquiries/12A/notes", `{"text":"x"}`, 404, "not_found", ""},
		{"ResolveUnknown", "POST", "/api/v1/enquiries/" + unknown + "/resolve", `{"outcome":"resolved"}`, 404, "not_found", unknown},
		{"ResolveNotUUID", "POST", "/api/v1/enquiries/12A/resolve", `{"outcome":"resolved"}`, 404, "not_found", ""},

		// Illegal transitions.
		{"AckAcked", "POST", "/api/v1/enquiries/" + acked + "/ack", "", 409, "illegal_transition", "acknowledged"},

		// Content.
		{"EmptyNote", "POST", "/api/v1/enquiries/" + assigned + "/notes", `{"text":"  "}`, 400, "invalid", "text"},
		{"NoNoteText", "POST", "/api/v1/enquiries/" + assigned + "/notes", `{}`, 400, "invalid", "text"},
		{"LongNote", "POST", "/api/v1/enquiries/" + assigned + "/notes", `{"text":"` + strings.Repeat("a", 8001) + `"}`, 400, "invalid", "text"},
		{"UnknownOutcome", "POST", "/api/v1/enquiries/" + assigned + "/resolve", `{"outcome":"fixed"}`, 400, "invalid", "fixed"},
		{"StatusAsOutcome", "POST", "/api/v1/enquiries/" + assigned + "/resolve", `{"outcome":"closed"}`, 400, "invalid", "outcome"},
		{"NoOutcome", "POST", "/api/v1/enquiries/" + assigned + "/resolve", `{"note":"done"}`, 400, "invalid", "outcome"},
		{"LongOutcomeNote", "POST", "/api/v1/enquiries/" + assigned + "/resolve", `{"outcome":"resolved","note":"` + strings.Repeat("a", 8001) + `"}`, 400, "invalid", "note"},

		// Routing.
		{"UnknownRoute", "GET", "/api/v1/nope", "", 404, "not_found", "/api/v1/nope"},
		{"UnknownAction", "POST", "/api/v1/enquiries/" + assigned + "/close", `{}`, 404, "not_found", ""},
		{"MethodFlight", "DELETE", "/api/v1/flight", "", 405, "method_not_allowed", "DELETE"},
		{"MethodFlightPost", "POST", "/api/v1/flight", `{"flight_id":"` + flightB + `"}`, 405, "method_not_allowed", "POST"},
		{"MethodStatus", "POST", "/api/v1/status", "", 405, "method_not_allowed", "POST"},
		{"MethodEnquiry", "DELETE", "/api/v1/enquiries/" + assigned, "", 405, "method_not_allowed", "DELETE"},
		{"MethodAck", "GET", "/api/v1/enquiries/" + assigned + "/ack", "", 405, "method_not_allowed", "GET"},
		{"MethodDeadLetters", "DELETE", "/api/v1/dead-letters", "", 405, "method_not_allowed", "DELETE"},
	}...)

	for _, tc := range cases {
		t.Run(tc.method+" "+strings.Replace(tc.path, "/api/v1", "", 1)+" "+tc.name, func(t *testing.T) {
			before := c.Snapshot(assigned, acked)
			status, ctype, raw := c.Do(tc.method, tc.path, tc.body)
			msg := AssertError(t, status, ctype, raw, tc.status, tc.code)
			if tc.msg != "" && !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not mention %q", msg, tc.msg)
			}
			if got := c.Snapshot(assigned, acked); got != before {
				t.Errorf("the refused request changed the store:\n%s\nwant\n%s", got, before)
			}
		})
	}

	// The fixtures are where they were, and the tablet still works.
	if s := c.Status(); s.Pending != 1 || s.FlightID != flightA || len(s.Cursors) != 1 {
		t.Fatalf("status = %+v, want the one ack pending on %s only", s, flightA)
	}
	c.MustCall("POST", "/api/v1/enquiries/"+assigned+"/ack", "", http.StatusOK, nil)
}

// Ensure a wrong method is a JSON 405 naming the allowed methods, an
// unknown API path a JSON 404 (not the crew UI's page), and the UI is
// still served at /.
func TestRouting(t *testing.T) {
	t.Parallel()
	c := MustOpenCabin(t)
	id := uuid.Must(uuid.NewV7()).String()
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"DELETE", "/api/v1/flight", 405, "method_not_allowed", "GET, PUT"},
		{"GET", "/api/v1/enquiries/" + id + "/resolve", 405, "method_not_allowed", "POST"},
		{"PATCH", "/api/v1/enquiries/" + id, 405, "method_not_allowed", "GET"},
		{"GET", "/api/v1/enquiries/" + id + "/history", 404, "not_found", ""},
		{"PUT", "/api/v1/nope", 404, "not_found", ""},
		{"GET", "/api/v2/status", 404, "not_found", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, c.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
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
	status, ctype, raw := c.Do("GET", "/", "")
	if status != http.StatusOK || !strings.HasPrefix(ctype, "text/html") {
		t.Fatalf("GET / = %d %q: %.80s", status, ctype, raw)
	}
	var h map[string]string
	c.MustCall("GET", "/healthz", "", http.StatusOK, &h)
	if h["status"] != "ok" {
		t.Fatalf("healthz = %v", h)
	}
}
