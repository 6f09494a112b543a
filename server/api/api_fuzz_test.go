package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cabincare/cabincare/syncproto"
)

// fuzzRoute is a route of the ground API that takes a JSON body. In path,
// {enq}, {other}, {flight} and {template} are replaced by existing ids,
// unless the input asks for an unknown one.
type fuzzRoute struct {
	method, path string
	seeds        []string
}

var fuzzRoutes = []fuzzRoute{
	{"POST", "/api/v1/flights", []string{flightBody, `{"number":"KL0642","date":"2026-11-24","origin":"AMS","destination":"CDG","departs_at":"2026-11-24T08:00:00Z","arrives_at":"2026-11-24T09:20:00Z"}`}},
	{"POST", "/api/v1/flights/{flight}/passengers", []string{`{"passengers":[{"name":"Maria de Vries","pnr":"ABC123","seat":"12A"}]}`}},
	{"POST", "/api/v1/enquiries", []string{intake("fuzz-seed"), `{"channel":"email","external_id":"e-1","handle":"a@b.c","text":"hi","language":"pt-BR","received_at":"2026-11-23T08:00:00Z"}`}},
	{"POST", "/api/v1/enquiries/{enq}/assign", []string{assignBody, `{"flight_id":"` + flightID + `"}`}},
	{"POST", "/api/v1/enquiries/{enq}/notes", []string{`{"text":"Called the customer back."}`}},
	{"POST", "/api/v1/enquiries/{enq}/recall", []string{`{"reason":"wrong flight"}`, ``}},
	{"POST", "/api/v1/enquiries/{enq}/reply", []string{`{"text":"We are sorry, the crew will bring you a hot meal."}`}},
	{"POST", "/api/v1/enquiries/{enq}/merge", []string{`{"from":"{other}","reason":"same customer"}`}},
	{"PUT", "/api/v1/enquiries/{enq}/target", []string{`{"minutes":30}`, `{"minutes":0}`}},
	{"POST", "/api/v1/enquiries/{enq}/close", []string{`{"force":true,"reason":"answered by phone"}`, ``}},
	{"POST", "/api/v1/templates", []string{`{"id":"sorry","name":"Sorry","language":"en","text":"Dear {name}, we are sorry."}`}},
	{"PUT", "/api/v1/templates/{template}", []string{`{"name":"Sorry","language":"en","text":"Dear customer, we are sorry."}`}},
	{"POST", "/api/v1/devices", []string{`{"name":"tablet-9"}`}},
}

// fuzzGround is one ground per fuzzing process, with an enquiry, a flight,
// a template and a second enquiry to merge.
type fuzzGround struct {
	*Ground
	enq, other string
	template   string
	// last is the state after the previous input: only an accepted
	// request may change it, so it is read again only then.
	last string
}

func openFuzzGround(f *testing.F) *fuzzGround {
	g := MustOpenGround(f)
	g.NewFlight()
	fg := &fuzzGround{Ground: g, enq: g.NewEnquiry("fuzz-1"), other: g.NewEnquiry("fuzz-2"), template: "base"}
	g.MustCall("POST", "/api/v1/templates", `{"id":"base","name":"Base","language":"en","text":"Dear customer."}`, http.StatusCreated, nil)
	return fg
}

// state is everything an agent can read that a refused request must leave
// alone.
func (g *fuzzGround) state(t *testing.T) string {
	var b strings.Builder
	for _, p := range []string{"/readyz", "/api/v1/flights", "/api/v1/flights/" + flightID + "/passengers", "/api/v1/enquiries", "/api/v1/enquiries/" + g.enq,
		"/api/v1/enquiries/" + g.other, "/api/v1/templates", "/api/v1/devices"} {
		status, _, raw := do(t, "GET", g.URL+p, "Bearer "+adminToken, nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s = %d: %s", p, status, raw)
		}
		if p == "/readyz" {
			var r struct{ Head uint64 }
			_ = json.Unmarshal(raw, &r)
			fmt.Fprintf(&b, "head=%d\n", r.Head)
			continue
		}
		b.Write(raw)
		b.WriteByte('\n')
	}
	return b.String()
}

func do(t *testing.T, method, url, authz string, body []byte) (int, string, []byte) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

// checkRefusal asserts a 4xx answer is the JSON error envelope with a
// code that maps to its status and a message.
func checkRefusal(t *testing.T, status int, ctype string, raw []byte) {
	t.Helper()
	if !strings.HasPrefix(ctype, "application/json") {
		t.Fatalf("%d answer with content type %q: %s", status, ctype, raw)
	}
	var env struct {
		Error *syncproto.Error `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || env.Error == nil {
		t.Fatalf("%d answer is not the error envelope: %s (%v)", status, raw, err)
	}
	if env.Error.Code == "" || strings.TrimSpace(env.Error.Message) == "" {
		t.Fatalf("%d answer without a code or message: %s", status, raw)
	}
	if want := syncproto.HTTPStatus(env.Error.Code); want != status && status != http.StatusMethodNotAllowed {
		t.Fatalf("code %q answered with status %d, want %d: %s", env.Error.Code, status, want, raw)
	}
}

// FuzzGroundAPIBodies ensures every JSON body the agents' API takes is
// either accepted or refused with a 4xx in the error envelope that changes
// nothing, and never makes the server fail (5xx) or hang.
func FuzzGroundAPIBodies(f *testing.F) {
	for i, r := range fuzzRoutes {
		for _, s := range r.seeds {
			f.Add(uint8(i), []byte(s), false)
		}
		f.Add(uint8(i), []byte(`{}`), false)
		f.Add(uint8(i), []byte(`{"text":1}`), true)
		f.Add(uint8(i), []byte(`[`), false)
	}
	f.Add(uint8(2), []byte(`{"channel":"twitter","external_id":"x","handle":"h","text":"\ud800","language":"en"}`), false)
	f.Add(uint8(2), []byte(`{"channel":"twitter","external_id":"x","handle":"h","text":"t","language":"en"}}`), false)
	f.Add(uint8(3), []byte(`{"flight_id":"`+flightID+`","seat":"`+strings.Repeat("9", 300)+`"}`), false)
	f.Add(uint8(9), []byte(`{"force":true}`), false)
	g := openFuzzGround(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte, unknown bool) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		enq, other, template := g.enq, g.other, g.template
		if unknown {
			enq, other, template = unknownID, unknownID, "no-such-template"
		}
		path := strings.NewReplacer("{enq}", enq, "{other}", other, "{flight}", flightID, "{template}", template).Replace(r.path)
		body = bytes.ReplaceAll(body, []byte("{other}"), []byte(other))
		if g.last == "" {
			g.last = g.state(t)
		}
		before := g.last
		status, ctype, raw := do(t, r.method, g.URL+path, "Bearer "+adminToken, body)
		switch {
		case status >= 500:
			t.Fatalf("%s %s with %q: %d %s", r.method, path, body, status, raw)
		case status >= 400:
			checkRefusal(t, status, ctype, raw)
			if after := g.state(t); after != before {
				t.Fatalf("%s %s with %q was refused (%d %s) but changed the state:\nbefore %s\nafter  %s", r.method, path, body, status, raw, before, after)
			}
		case status >= 300 || status < 200:
			t.Fatalf("%s %s: unexpected status %d", r.method, path, status)
		default:
			if !json.Valid(raw) {
				t.Fatalf("%s %s: %d with a body that is not JSON: %q", r.method, path, status, raw)
			}
			g.last = g.state(t)
		}
	})
}
