package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cabincare/cabincare/syncproto"
)

// cabinFuzzRoutes are the local API's routes that take a body. {enq} is a
// seeded enquiry, or one the tablet does not have.
var cabinFuzzRoutes = []struct {
	method, path string
	seeds        []string
}{
	{"PUT", "/api/v1/flight", []string{`{"flight_id":"` + flightA + `"}`, `{"flight_id":"` + flightB + `"}`}},
	{"POST", "/api/v1/enquiries/{enq}/ack", []string{``, `{}`}},
	{"POST", "/api/v1/enquiries/{enq}/notes", []string{`{"text":"She prefers the vegetarian meal."}`}},
	{"POST", "/api/v1/enquiries/{enq}/resolve", []string{`{"outcome":"resolved","note":"Served first."}`, `{"outcome":"passenger_not_on_board"}`, `{"outcome":"escalated","note":"Ground must call her."}`}},
}

// FuzzCabinAPIBodies ensures every body the crew app can send is either
// recorded or refused with a 4xx in the error envelope that changes
// nothing (not the store, the outbox, the status, nor the calls to the
// sync client), and never makes the service fail (5xx).
func FuzzCabinAPIBodies(f *testing.F) {
	for i, r := range cabinFuzzRoutes {
		for _, s := range r.seeds {
			f.Add(uint8(i), []byte(s), false)
		}
		f.Add(uint8(i), []byte(`{"text":null}`), true)
		f.Add(uint8(i), []byte(`{"outcome":"resolved"}{}`), false)
	}
	f.Add(uint8(2), []byte(`{"text":"`+strings.Repeat("é", 5000)+`"}`), false)
	f.Add(uint8(3), []byte(`{"outcome":"closed"}`), false)
	f.Add(uint8(0), []byte(`{"flight_id":"   "}`), false)
	f.Add(uint8(0), []byte(`{"flight_id":"`+strings.Repeat("K", 201)+`"}`), false)
	c := MustOpenCabin(f)
	c.OpenFlight(flightA)
	ids := c.Seed(flightA, 1)
	const unknown = "0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b"
	last := "" // the tablet after the previous input; only an accepted request changes it
	f.Fuzz(func(t *testing.T, route uint8, body []byte, missing bool) {
		cc := *c
		cc.t = t
		r := cabinFuzzRoutes[int(route)%len(cabinFuzzRoutes)]
		id := ids[0]
		if missing {
			id = unknown
		}
		path := strings.ReplaceAll(r.path, "{enq}", id)
		if last == "" {
			last = cc.Snapshot(ids...)
		}
		before := last
		status, ctype, raw := cc.Do(r.method, path, string(body))
		switch {
		case status >= 500:
			t.Fatalf("%s %s with %q: %d %s", r.method, path, body, status, raw)
		case status >= 400:
			if !strings.HasPrefix(ctype, "application/json") {
				t.Fatalf("%d with content type %q", status, ctype)
			}
			var env struct {
				Error *syncproto.Error `json:"error"`
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&env); err != nil || env.Error == nil || env.Error.Code == "" || strings.TrimSpace(env.Error.Message) == "" {
				t.Fatalf("%d answer is not the error envelope: %s", status, raw)
			}
			if want := syncproto.HTTPStatus(env.Error.Code); want != status {
				t.Fatalf("code %q with status %d, want %d", env.Error.Code, status, want)
			}
			if after := cc.Snapshot(ids...); after != before {
				t.Fatalf("%s %s with %q was refused (%d %s) but changed the tablet:\nbefore %s\nafter  %s", r.method, path, body, status, raw, before, after)
			}
		case status != http.StatusOK && status != http.StatusCreated:
			t.Fatalf("%s %s: unexpected status %d", r.method, path, status)
		default:
			if !json.Valid(raw) {
				t.Fatalf("%d with a body that is not JSON: %q", status, raw)
			}
			last = cc.Snapshot(ids...)
		}
	})
}
