package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cabincare/cabincare/device/api"
	"github.com/cabincare/cabincare/secrethash"
	"github.com/cabincare/cabincare/syncproto"
)

// cheapPIN keeps tests fast; the tablet reads the parameters from the hash,
// so the check is the same as with secrethash.PINParams.
var cheapPIN = secrethash.Params{Memory: 64, Time: 1, Threads: 1}

// fakeClock is a settable clock safe for the server's goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func (c *Cabin) setRoster(t testing.TB) {
	t.Helper()
	err := c.Store.SetRoster(syncproto.Roster{Version: 3, Crew: []syncproto.RosterEntry{
		{StaffNumber: "10001", Name: "Piet Purser", PINHash: secrethash.Hash("1357", cheapPIN)},
		{StaffNumber: "20002", Name: "Carla Crew", PINHash: secrethash.Hash("2468", cheapPIN)},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func (c *Cabin) signIn(staff, pin string) (int, []byte) {
	c.t.Helper()
	saved := c.Authz
	c.Authz = ""
	defer func() { c.Authz = saved }()
	status, _, raw := c.Do("POST", "/api/v1/session", fmt.Sprintf(`{"staff_number":%q,"pin":%q}`, staff, pin))
	return status, raw
}

func (c *Cabin) mustSignIn(staff, pin string) string {
	c.t.Helper()
	status, raw := c.signIn(staff, pin)
	var s struct{ Token string }
	if status != 200 || json.Unmarshal(raw, &s) != nil || s.Token == "" {
		c.t.Fatalf("sign in %s = %d %s", staff, status, raw)
	}
	return "Bearer " + s.Token
}

// Ensure every crew route needs a signed-in crew member (status and health
// stay open), that a PIN is checked against the synced roster, and that
// crew ops carry the staff number and name.
func TestCrewSignIn(t *testing.T) {
	t.Parallel()
	c := MustOpenCabin(t)
	c.OpenFlight(flightA)
	ids := c.Seed(flightA, 1)
	c.Authz = ""
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v1/flight", ""}, {"PUT", "/api/v1/flight", `{"flight_id":"X"}`},
		{"GET", "/api/v1/enquiries", ""}, {"GET", "/api/v1/enquiries/" + ids[0], ""},
		{"POST", "/api/v1/enquiries/" + ids[0] + "/ack", ""}, {"POST", "/api/v1/enquiries/" + ids[0] + "/notes", `{"text":"x"}`},
		{"POST", "/api/v1/enquiries/" + ids[0] + "/resolve", `{"outcome":"resolved"}`}, {"GET", "/api/v1/dead-letters", ""},
		{"GET", "/api/v1/session", ""}, {"DELETE", "/api/v1/session", ""},
	} {
		for _, authz := range []string{"", "Bearer nope", "Bearer " + apiToken + "x", apiToken} {
			c.Authz = authz
			status, ctype, raw := c.Do(r.method, r.path, r.body)
			AssertError(t, status, ctype, raw, 401, "unauthorized")
		}
	}
	c.Authz = ""
	for _, p := range []string{"/healthz", "/api/v1/status", "/"} {
		if s, _, raw := c.Do("GET", p, ""); s != 200 {
			t.Errorf("%s without a token = %d %s", p, s, raw)
		}
	}
	if s, raw := c.signIn("10001", "1357"); s != 401 || !strings.Contains(string(raw), "roster") {
		t.Errorf("sign-in before any roster = %d %s", s, raw)
	}
	if len(c.Outbox()) != 0 {
		t.Fatal("refused requests wrote ops")
	}

	c.setRoster(t)
	for _, tc := range []struct{ staff, pin string }{{"10001", "2468"}, {"99999", "1357"}, {"10001", ""}} {
		if s, _ := c.signIn(tc.staff, tc.pin); s != 401 && s != 400 {
			t.Errorf("sign-in %s/%s = %d, want refused", tc.staff, tc.pin, s)
		}
	}
	c.Authz = c.mustSignIn("20002", "2468")
	if s, _, raw := c.Do("GET", "/api/v1/session", ""); s != 200 || !strings.Contains(string(raw), "Carla Crew") {
		t.Errorf("who am I = %d %s", s, raw)
	}
	c.MustCall("POST", "/api/v1/enquiries/"+ids[0]+"/notes", `{"text":"Brought a blanket."}`, 201, nil)
	ob := c.Outbox()
	if len(ob) != 1 || ob[0].Actor.Staff != "20002" || ob[0].Actor.Name != "Carla Crew" || ob[0].Actor.ID != deviceID {
		t.Fatalf("outbox = %+v, want one op by Carla Crew (20002) on this device", ob)
	}
	c.MustCall("DELETE", "/api/v1/session", "", 204, nil)
	if s, _, _ := c.Do("GET", "/api/v1/enquiries", ""); s != 401 {
		t.Errorf("after sign-out = %d, want 401", s)
	}
	// The automation token works and names no crew member.
	c.Authz = "Bearer " + apiToken
	c.MustCall("POST", "/api/v1/enquiries/"+ids[0]+"/notes", `{"text":"scripted"}`, 201, nil)
	if ob := c.Outbox(); ob[len(ob)-1].Actor.Staff != "" {
		t.Errorf("automation op = %+v, want no staff number", ob[len(ob)-1].Actor)
	}
}

// Ensure wrong PINs are limited per staff number (5) and per tablet (20):
// past the limit even the right PIN is refused, until the window passes.
func TestCrewPINLimits(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	c := MustOpenCabin(t, func(a *api.API) { a.Now = clock.Now })
	c.setRoster(t)
	for range api.PINFailures {
		c.signIn("10001", "0000")
	}
	if s, raw := c.signIn("10001", "1357"); s != 429 {
		t.Fatalf("right PIN after %d wrong = %d %s, want 429", api.PINFailures, s, raw)
	}
	c.mustSignIn("20002", "2468") // another crew member is not locked out
	clock.Add(api.PINWindow)
	c.mustSignIn("10001", "1357")
	for i := range api.TabletFailures {
		c.signIn(fmt.Sprintf("x%d", i), "0000")
	}
	if s, _ := c.signIn("20002", "2468"); s != 429 {
		t.Errorf("right PIN after %d wrong ones on the tablet = %d, want 429", api.TabletFailures, s)
	}
}

// Ensure a session unused for SessionIdle locks, and use keeps it open.
func TestCrewSessionIdle(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	c := MustOpenCabin(t, func(a *api.API) { a.Now = clock.Now; a.SessionIdle = 5 * time.Minute })
	c.setRoster(t)
	c.Authz = c.mustSignIn("10001", "1357")
	for range 3 {
		clock.Add(4 * time.Minute)
		c.MustCall("GET", "/api/v1/enquiries", "", 200, nil)
	}
	clock.Add(5 * time.Minute)
	if s, _, raw := c.Do("GET", "/api/v1/enquiries", ""); s != 401 || !strings.Contains(string(raw), "locked") {
		t.Errorf("after 5 idle minutes = %d %s, want 401 locked", s, raw)
	}
}
