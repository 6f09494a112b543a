package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cabincare/cabincare/server/api"
	"github.com/cabincare/cabincare/server/auth"
	"github.com/cabincare/cabincare/server/store"
)

const testPassword = "correct horse battery"

// MustUser creates a user with testPassword and returns a bearer header
// from a real login.
func (g *Ground) MustUser(username string, role auth.Role) string {
	g.t.Helper()
	g.MustCall("POST", "/api/v1/users", fmt.Sprintf(`{"username":%q,"password":%q,"role":%q}`, username, testPassword, role), http.StatusCreated, nil)
	return "Bearer " + g.Login(username, testPassword).Token
}

// LoginAnswer is the body of POST /api/v1/login.
type LoginAnswer struct {
	Token     string `json:"token"`
	CSRFToken string `json:"csrf_token"`
	User      struct {
		Username string    `json:"username"`
		Role     auth.Role `json:"role"`
	} `json:"user"`
}

// Login signs in and fails the test unless it works.
func (g *Ground) Login(username, password string) LoginAnswer {
	g.t.Helper()
	status, _, raw := g.Do("POST", "/api/v1/login", "", strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, username, password)))
	var out LoginAnswer
	if status != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.Token == "" {
		g.t.Fatalf("login %s = %d %s", username, status, raw)
	}
	return out
}

// As sends a request with the given Authorization header and returns the
// status and body.
func (g *Ground) As(authz, method, path, body string) (int, []byte) {
	g.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	status, _, raw := g.Do(method, path, authz, r)
	return status, raw
}

// Stream opens an endless GET (Server-Sent Events) and closes it once the
// status is in: the body of a refusal, none of a stream.
func (g *Ground) Stream(authz, path string) (int, []byte) {
	g.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+path, nil)
	if err != nil {
		g.t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := client.Do(req)
	if err != nil {
		g.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, nil
	}
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// AuditEvents reads the audit log with the admin token.
func (g *Ground) AuditEvents(query string) []store.AuditEvent {
	g.t.Helper()
	var out struct {
		Events []store.AuditEvent `json:"events"`
	}
	g.MustCall("GET", "/api/v1/audit?"+query, "", http.StatusOK, &out)
	return out.Events
}

// wantRoles is the role each /api/v1 route must need: the contract, kept
// apart from the table in Register so that a route whose role is lowered
// there, or a new route nobody gave a role, fails this test.
var wantRoles = map[string]auth.Role{
	"POST /api/v1/logout":                   auth.RoleAgent,
	"GET /api/v1/me":                        auth.RoleAgent,
	"POST /api/v1/flights":                  auth.RoleAdmin,
	"GET /api/v1/flights":                   auth.RoleAgent,
	"GET /api/v1/flights/:id":               auth.RoleAgent,
	"GET /api/v1/flights/:id/passengers":    auth.RoleAgent,
	"POST /api/v1/flights/:id/passengers":   auth.RoleAdmin,
	"POST /api/v1/flights/:id/close":        auth.RoleSupervisor,
	"GET /api/v1/flights/:id/purges":        auth.RoleAdmin,
	"POST /api/v1/enquiries":                auth.RoleAgent,
	"GET /api/v1/enquiries":                 auth.RoleAgent,
	"GET /api/v1/enquiries/:id":             auth.RoleAgent,
	"GET /api/v1/enquiries/:id/matches":     auth.RoleAgent,
	"POST /api/v1/enquiries/:id/assign":     auth.RoleAgent,
	"POST /api/v1/enquiries/:id/notes":      auth.RoleAgent,
	"POST /api/v1/enquiries/:id/recall":     auth.RoleAgent,
	"POST /api/v1/enquiries/:id/reply":      auth.RoleAgent,
	"POST /api/v1/enquiries/:id/merge":      auth.RoleAgent,
	"PUT /api/v1/enquiries/:id/target":      auth.RoleAgent,
	"POST /api/v1/enquiries/:id/close":      auth.RoleAgent,
	"GET /api/v1/queue":                     auth.RoleAgent,
	"GET /api/v1/templates":                 auth.RoleAgent,
	"POST /api/v1/templates":                auth.RoleAdmin,
	"GET /api/v1/templates/:id":             auth.RoleAgent,
	"PUT /api/v1/templates/:id":             auth.RoleAdmin,
	"DELETE /api/v1/templates/:id":          auth.RoleAdmin,
	"GET /api/v1/metrics/response":          auth.RoleAgent,
	"GET /api/v1/metrics":                   auth.RoleAgent,
	"GET /api/v1/outbound":                  auth.RoleAgent,
	"POST /api/v1/devices":                  auth.RoleAdmin,
	"GET /api/v1/devices":                   auth.RoleAdmin,
	"GET /api/v1/devices/:id":               auth.RoleAdmin,
	"POST /api/v1/devices/:id/revoke":       auth.RoleAdmin,
	"POST /api/v1/devices/:id/rename":       auth.RoleAdmin,
	"POST /api/v1/devices/:id/resync":       auth.RoleAdmin,
	"POST /api/v1/devices/:id/decommission": auth.RoleAdmin,
	"GET /api/v1/alerts":                    auth.RoleAdmin,
	"GET /api/v1/flights/:id/readiness":     auth.RoleAgent,
	"GET /api/v1/events":                    auth.RoleAgent,
	"POST /api/v1/qr":                       auth.RoleAdmin,
	"POST /api/v1/devices/:id/rotate":       auth.RoleAdmin,
	"PUT /api/v1/devices/:id/flights":       auth.RoleAdmin,
	"POST /api/v1/crew":                     auth.RoleAdmin,
	"GET /api/v1/crew":                      auth.RoleAdmin,
	"DELETE /api/v1/crew/:staff":            auth.RoleAdmin,
	"POST /api/v1/users":                    auth.RoleAdmin,
	"GET /api/v1/users":                     auth.RoleAdmin,
	"PUT /api/v1/users/:username":           auth.RoleAdmin,
	"POST /api/v1/tokens":                   auth.RoleAdmin,
	"GET /api/v1/tokens":                    auth.RoleAdmin,
	"DELETE /api/v1/tokens/:id":             auth.RoleAdmin,
	"GET /api/v1/audit":                     auth.RoleAdmin,
}

// openRoutes need no bearer token: they carry their own proof (a
// password, a one-time code, a platform signature).
var openRoutes = map[string]bool{
	"POST /api/v1/login":            true,
	"POST /api/v1/enrol":            true,
	"GET /api/v1/webhooks/twitter":  true,
	"POST /api/v1/webhooks/twitter": true,
	"GET /api/v1/webhooks/meta":     true,
	"POST /api/v1/webhooks/meta":    true,
}

// call is one request a route walk makes, with the status it must get
// from a caller the route allows.
type call struct {
	path, body string
	ok         int
	authz      string // overrides the caller's header (logout needs its own session)
	stream     bool   // an endless response (SSE): only the status is read
}

// fixtures builds, for each route, a fresh request that succeeds for an
// allowed caller: every call gets its own enquiry, template, device, user
// or token, so one call cannot spoil the next.
func fixtures(g *Ground) map[string]func(caller string) call {
	var n atomic.Int64
	next := func() int64 { return n.Add(1) }
	enq := func() string { return g.NewEnquiry(fmt.Sprintf("walk-%d", next())) }
	assigned := func() string {
		id := enq()
		g.MustCall("POST", "/api/v1/enquiries/"+id+"/assign", assignBody, http.StatusOK, nil)
		return id
	}
	template := func() string {
		var t struct{ ID string }
		g.MustCall("POST", "/api/v1/templates", fmt.Sprintf(`{"name":"walk %d","language":"en","text":"Hello {{customer}}"}`, next()), http.StatusCreated, &t)
		return t.ID
	}
	device := func() string {
		var d struct{ ID string }
		g.MustCall("POST", "/api/v1/devices", `{"name":"walk tablet"}`, http.StatusCreated, &d)
		return d.ID
	}
	user := func() string {
		name := fmt.Sprintf("walk-user-%d", next())
		g.MustCall("POST", "/api/v1/users", fmt.Sprintf(`{"username":%q,"password":%q,"role":"agent"}`, name, testPassword), http.StatusCreated, nil)
		return name
	}
	token := func() string {
		var t struct{ ID string }
		g.MustCall("POST", "/api/v1/tokens", fmt.Sprintf(`{"username":%q,"name":"ci"}`, user()), http.StatusCreated, &t)
		return t.ID
	}
	const v1 = "/api/v1"
	return map[string]func(string) call{
		"POST /api/v1/logout": func(caller string) call {
			c := call{path: v1 + "/logout", ok: 204}
			if caller != "" {
				c.authz = "Bearer " + g.Login(caller, testPassword).Token // a session of its own to end
			}
			return c
		},
		"GET /api/v1/me": func(string) call { return call{path: v1 + "/me", ok: 200} },
		"POST /api/v1/flights": func(string) call {
			return call{path: v1 + "/flights", body: fmt.Sprintf(`{"number":"KL%04d","date":"2026-11-24","origin":"AMS","destination":"JFK"}`, next()), ok: 201}
		},
		"GET /api/v1/flights":                func(string) call { return call{path: v1 + "/flights", ok: 200} },
		"GET /api/v1/flights/:id":            func(string) call { return call{path: v1 + "/flights/" + flightID, ok: 200} },
		"GET /api/v1/flights/:id/passengers": func(string) call { return call{path: v1 + "/flights/" + flightID + "/passengers", ok: 200} },
		"POST /api/v1/flights/:id/passengers": func(string) call {
			return call{path: v1 + "/flights/" + flightID + "/passengers", body: fmt.Sprintf(`{"passengers":[{"name":"Walk %d","pnr":"X7K2QP","seat":"%dA","cabin":"economy"}]}`, next(), next()%60+1), ok: 201}
		},
		"POST /api/v1/flights/:id/close": func(string) call {
			var f struct{ ID string }
			g.MustCall("POST", "/api/v1/flights", fmt.Sprintf(`{"number":"KL%04d","date":"2026-11-25","origin":"AMS","destination":"JFK"}`, next()), http.StatusCreated, &f)
			return call{path: v1 + "/flights/" + f.ID + "/close", ok: 200}
		},
		"GET /api/v1/flights/:id/purges": func(string) call { return call{path: v1 + "/flights/" + flightID + "/purges", ok: 200} },
		"POST /api/v1/enquiries": func(string) call {
			return call{path: v1 + "/enquiries", body: intake(fmt.Sprintf("walk-new-%d", next())), ok: 201}
		},
		"GET /api/v1/enquiries":             func(string) call { return call{path: v1 + "/enquiries", ok: 200} },
		"GET /api/v1/enquiries/:id":         func(string) call { return call{path: v1 + "/enquiries/" + enq(), ok: 200} },
		"GET /api/v1/enquiries/:id/matches": func(string) call { return call{path: v1 + "/enquiries/" + enq() + "/matches", ok: 200} },
		"POST /api/v1/enquiries/:id/assign": func(string) call {
			return call{path: v1 + "/enquiries/" + enq() + "/assign", body: assignBody, ok: 200}
		},
		"POST /api/v1/enquiries/:id/notes": func(string) call {
			return call{path: v1 + "/enquiries/" + enq() + "/notes", body: `{"text":"x"}`, ok: 201}
		},
		"POST /api/v1/enquiries/:id/recall": func(string) call { return call{path: v1 + "/enquiries/" + assigned() + "/recall", ok: 200} },
		"POST /api/v1/enquiries/:id/reply": func(string) call {
			return call{path: v1 + "/enquiries/" + enq() + "/reply", body: `{"text":"We are on it."}`, ok: 201}
		},
		"POST /api/v1/enquiries/:id/merge": func(string) call {
			return call{path: v1 + "/enquiries/" + enq() + "/merge", body: `{"from":"` + enq() + `"}`, ok: 200}
		},
		"PUT /api/v1/enquiries/:id/target": func(string) call {
			return call{path: v1 + "/enquiries/" + enq() + "/target", body: `{"minutes":30}`, ok: 200}
		},
		"POST /api/v1/enquiries/:id/close": func(string) call { return call{path: v1 + "/enquiries/" + enq() + "/close", ok: 200} },
		"GET /api/v1/queue":                func(string) call { return call{path: v1 + "/queue", ok: 200} },
		"GET /api/v1/templates":            func(string) call { return call{path: v1 + "/templates", ok: 200} },
		"POST /api/v1/templates": func(string) call {
			return call{path: v1 + "/templates", body: fmt.Sprintf(`{"name":"new %d","language":"en","text":"Hi"}`, next()), ok: 201}
		},
		"GET /api/v1/templates/:id": func(string) call { return call{path: v1 + "/templates/" + template(), ok: 200} },
		"PUT /api/v1/templates/:id": func(string) call {
			return call{path: v1 + "/templates/" + template(), body: `{"name":"changed","language":"en","text":"Hey"}`, ok: 200}
		},
		"DELETE /api/v1/templates/:id": func(string) call { return call{path: v1 + "/templates/" + template(), ok: 204} },
		"GET /api/v1/metrics/response": func(string) call { return call{path: v1 + "/metrics/response", ok: 200} },
		"GET /api/v1/metrics":          func(string) call { return call{path: v1 + "/metrics", ok: 200} },
		"GET /api/v1/outbound":         func(string) call { return call{path: v1 + "/outbound", ok: 200} },
		"POST /api/v1/devices":         func(string) call { return call{path: v1 + "/devices", body: `{"name":"new tablet"}`, ok: 201} },
		"GET /api/v1/devices":          func(string) call { return call{path: v1 + "/devices", ok: 200} },
		"GET /api/v1/devices/:id":      func(string) call { return call{path: v1 + "/devices/" + device(), ok: 200} },
		"POST /api/v1/devices/:id/revoke": func(string) call {
			return call{path: v1 + "/devices/" + device() + "/revoke", ok: 200}
		},
		"POST /api/v1/devices/:id/rename": func(string) call {
			return call{path: v1 + "/devices/" + device() + "/rename", body: `{"name":"renamed tablet"}`, ok: 200}
		},
		"POST /api/v1/devices/:id/resync": func(string) call {
			return call{path: v1 + "/devices/" + device() + "/resync", ok: 200}
		},
		"POST /api/v1/devices/:id/decommission": func(string) call {
			return call{path: v1 + "/devices/" + device() + "/decommission", ok: 200}
		},
		"GET /api/v1/alerts":                func(string) call { return call{path: v1 + "/alerts", ok: 200} },
		"GET /api/v1/flights/:id/readiness": func(string) call { return call{path: v1 + "/flights/" + flightID + "/readiness", ok: 200} },
		"GET /api/v1/events":                func(string) call { return call{path: v1 + "/events", ok: 200, stream: true} },
		"POST /api/v1/qr":                   func(string) call { return call{path: v1 + "/qr", body: `{"text":"ABCDE-FGHJK"}`, ok: 200} },
		"POST /api/v1/devices/:id/rotate": func(string) call {
			return call{path: v1 + "/devices/" + device() + "/rotate", ok: 200}
		},
		"PUT /api/v1/devices/:id/flights": func(string) call {
			return call{path: v1 + "/devices/" + device() + "/flights", body: `{"aircraft":["PH-BVA"],"flights":["` + flightID + `"]}`, ok: 200}
		},
		"POST /api/v1/crew": func(string) call {
			return call{path: v1 + "/crew", body: fmt.Sprintf(`{"staff_number":"S%d","name":"Carla Crew","pin":"2468"}`, next()), ok: 201}
		},
		"GET /api/v1/crew": func(string) call { return call{path: v1 + "/crew", ok: 200} },
		"DELETE /api/v1/crew/:staff": func(string) call {
			staff := fmt.Sprintf("D%d", next())
			g.MustCall("POST", "/api/v1/crew", `{"staff_number":"`+staff+`","name":"Dan","pin":"1357"}`, http.StatusCreated, nil)
			return call{path: v1 + "/crew/" + staff, ok: 204}
		},
		"POST /api/v1/users": func(string) call {
			return call{path: v1 + "/users", body: fmt.Sprintf(`{"username":"new-%d","password":%q,"role":"agent"}`, next(), testPassword), ok: 201}
		},
		"GET /api/v1/users":           func(string) call { return call{path: v1 + "/users", ok: 200} },
		"PUT /api/v1/users/:username": func(string) call { return call{path: v1 + "/users/" + user(), body: `{"role":"supervisor"}`, ok: 200} },
		"POST /api/v1/tokens": func(string) call {
			return call{path: v1 + "/tokens", body: fmt.Sprintf(`{"username":%q,"name":"ci"}`, user()), ok: 201}
		},
		"GET /api/v1/tokens":        func(string) call { return call{path: v1 + "/tokens", ok: 200} },
		"DELETE /api/v1/tokens/:id": func(string) call { return call{path: v1 + "/tokens/" + token(), ok: 204} },
		"GET /api/v1/audit":         func(string) call { return call{path: v1 + "/audit", ok: 200} },
	}
}

// Ensure every route of the ground, as echo's route table lists it, needs
// the role the contract says: no credentials get 401, a role below it 403
// with nothing changed, and every role at or above it (and the bootstrap
// admin token) gets the route's success status.
func TestEveryRouteChecksTheRole(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	g.NewFlight()
	callers := []struct {
		name, user string
		role       auth.Role
		authz      string
	}{
		{name: "none"},
		{name: "agent", user: "ann", role: auth.RoleAgent, authz: g.MustUser("ann", auth.RoleAgent)},
		{name: "supervisor", user: "sam", role: auth.RoleSupervisor, authz: g.MustUser("sam", auth.RoleSupervisor)},
		{name: "admin", user: "ada", role: auth.RoleAdmin, authz: g.MustUser("ada", auth.RoleAdmin)},
		{name: "admin-token", user: "", role: auth.RoleAdmin, authz: "Bearer " + adminToken},
	}
	fix := fixtures(g)
	table := g.Srv.API.Roles()
	walked := map[string]bool{}
	for _, rt := range g.Srv.Routes() {
		key := rt.Method + " " + rt.Path
		if !strings.HasPrefix(rt.Path, "/api/") || openRoutes[key] || strings.HasSuffix(rt.Path, "*") || rt.Path == "/api/v1" {
			continue // not an API route, open by design, or a not-found catch-all
		}
		walked[key] = true
		want, ok := wantRoles[key]
		if !ok {
			t.Errorf("route %s is not in the role contract (wantRoles): give it a role in Register and here", key)
			continue
		}
		if table[key] != want {
			t.Errorf("route %s needs %q in Register, want %q", key, table[key], want)
		}
		mk, ok := fix[key]
		if !ok {
			t.Errorf("route %s has no fixture", key)
			continue
		}
		for _, cl := range callers {
			c := mk(cl.user)
			authz := cl.authz
			if c.authz != "" {
				authz = c.authz
			}
			allowed := cl.role.Allows(want)
			var before string
			if !allowed {
				before = g.Snapshot()
			}
			var status int
			var raw []byte
			if c.stream {
				status, raw = g.Stream(authz, c.path)
			} else {
				status, raw = g.As(authz, rt.Method, c.path, c.body)
			}
			switch {
			case cl.name == "none":
				if status != http.StatusUnauthorized {
					t.Errorf("%s with no credentials = %d, want 401: %s", key, status, raw)
				}
			case !allowed:
				if status != http.StatusForbidden || !strings.Contains(string(raw), `"forbidden"`) {
					t.Errorf("%s as %s = %d, want 403 forbidden: %s", key, cl.name, status, raw)
				}
			default:
				if status != c.ok {
					t.Errorf("%s as %s = %d, want %d: %s", key, cl.name, status, c.ok, raw)
				}
			}
			if !allowed {
				if after := g.Snapshot(); after != before {
					t.Errorf("%s refused for %s changed the store", key, cl.name)
				}
			}
		}
	}
	for key := range wantRoles {
		if !walked[key] {
			t.Errorf("route %s of the contract is not registered", key)
		}
	}
	if len(walked) < len(wantRoles) {
		t.Errorf("walked %d routes, the contract has %d", len(walked), len(wantRoles))
	}
	// The refusals of valid users are in the audit log.
	if evs := g.AuditEvents("kind=forbidden&actor=user:ann"); len(evs) == 0 {
		t.Error("no forbidden event audited for the agent")
	}
}

// Ensure the finer checks inside routes: an agent may assign a new enquiry
// but not move one to another flight, may close but not force-close, and
// may not see every agent's figures; a supervisor may do all three.
func TestSupervisorOnlyActions(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	g.NewFlight()
	g.MustCall("POST", "/api/v1/flights", `{"number":"KL0642","date":"2026-11-26","origin":"JFK","destination":"AMS"}`, http.StatusCreated, nil)
	agent := g.MustUser("ann", auth.RoleAgent)
	super := g.MustUser("sam", auth.RoleSupervisor)
	move := `{"flight_id":"KL0642-2026-11-26","passenger_name":"Maria de Vries","seat":"3C"}`

	id := g.NewEnquiry("tw-move")
	if s, raw := g.As(agent, "POST", "/api/v1/enquiries/"+id+"/assign", assignBody); s != 200 {
		t.Fatalf("agent assigns a new enquiry = %d %s", s, raw)
	}
	if e := g.Enquiry(id); e.History[len(e.History)-1].Actor.ID != "ann" {
		t.Errorf("assignment attributed to %+v, want ann", e.History[len(e.History)-1].Actor)
	}
	before := g.Snapshot()
	if s, raw := g.As(agent, "POST", "/api/v1/enquiries/"+id+"/assign", move); s != 403 {
		t.Errorf("agent moves an assigned enquiry = %d %s, want 403", s, raw)
	}
	if s, raw := g.As(agent, "POST", "/api/v1/enquiries/"+id+"/close", `{"force":true,"reason":"withdrawn"}`); s != 403 {
		t.Errorf("agent force-closes = %d %s, want 403", s, raw)
	}
	if s, raw := g.As(agent, "GET", "/api/v1/metrics?by=agent", ""); s != 403 {
		t.Errorf("agent reads every agent's figures = %d %s, want 403", s, raw)
	}
	if after := g.Snapshot(); after != before {
		t.Error("refused actions changed the store")
	}
	if s, raw := g.As(agent, "GET", "/api/v1/metrics?by=channel", ""); s != 200 {
		t.Errorf("agent reads figures by channel = %d %s", s, raw)
	}
	if s, raw := g.As(super, "POST", "/api/v1/enquiries/"+id+"/assign", move); s != 200 {
		t.Errorf("supervisor moves = %d %s", s, raw)
	}
	if s, raw := g.As(super, "GET", "/api/v1/metrics?by=agent", ""); s != 200 {
		t.Errorf("supervisor reads every agent's figures = %d %s", s, raw)
	}
	if s, raw := g.As(super, "POST", "/api/v1/enquiries/"+id+"/close", `{"force":true,"reason":"withdrawn"}`); s != 200 {
		t.Errorf("supervisor force-closes = %d %s", s, raw)
	}
	if evs := g.AuditEvents("kind=forbidden&actor=user:ann"); len(evs) != 3 {
		t.Errorf("audited %d forbidden events for ann, want 3: %+v", len(evs), evs)
	}
}

// browser is a client with a cookie jar, as the console runs in.
type browser struct {
	g   *Ground
	hc  *http.Client
	url *url.URL
}

func newBrowser(g *Ground) *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(g.URL)
	return &browser{g: g, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}, url: u}
}

func (b *browser) do(method, path, body string, header map[string]string) (int, []byte, *http.Response) {
	b.g.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, b.g.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.g.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, resp
}

// Ensure a login sets a session cookie that is HttpOnly and SameSite=Strict
// with a readable CSRF cookie; that a cookie alone reads but cannot change
// anything without the CSRF header; that the bearer token from the same
// login works; and that logout ends both.
func TestLoginSessionAndCSRF(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	g.NewFlight()
	g.MustCall("POST", "/api/v1/users", `{"username":"ann","password":"`+testPassword+`","role":"agent"}`, http.StatusCreated, nil)
	b := newBrowser(g)
	status, raw, resp := b.do("POST", "/api/v1/login", `{"username":"ann","password":"`+testPassword+`"}`, nil)
	if status != 200 {
		t.Fatalf("login = %d %s", status, raw)
	}
	var ans LoginAnswer
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Token == "" || ans.CSRFToken == "" || ans.User.Username != "ann" || ans.User.Role != auth.RoleAgent {
		t.Fatalf("login answer = %s", raw)
	}
	cookies := map[string]*http.Cookie{}
	for _, c := range resp.Cookies() {
		cookies[c.Name] = c
	}
	sess, csrf := cookies[api.SessionCookie], cookies[api.CSRFCookie]
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Value != ans.Token || sess.Secure {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Strict, not Secure on plain HTTP", sess)
	}
	if csrf == nil || csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || csrf.Value != ans.CSRFToken {
		t.Errorf("csrf cookie = %+v, want readable, SameSite=Strict, the answer's csrf_token", csrf)
	}

	if s, raw, _ := b.do("GET", "/api/v1/me", "", nil); s != 200 || !strings.Contains(string(raw), `"via":"cookie"`) {
		t.Errorf("GET with the cookie = %d %s", s, raw)
	}
	before := g.Snapshot()
	for _, h := range []map[string]string{nil, {api.CSRFHeader: "forged"}, {api.CSRFHeader: ans.Token}} {
		if s, raw, _ := b.do("POST", "/api/v1/enquiries", intake("csrf-1"), h); s != 403 {
			t.Errorf("cookie POST with CSRF header %v = %d %s, want 403", h, s, raw)
		}
	}
	if g.Snapshot() != before {
		t.Fatal("a request without the CSRF token changed the store")
	}
	if s, raw, _ := b.do("POST", "/api/v1/enquiries", intake("csrf-2"), map[string]string{api.CSRFHeader: ans.CSRFToken}); s != 201 || !strings.Contains(string(raw), `"id":"ann"`) {
		t.Errorf("cookie POST with the CSRF header = %d %s, want 201 attributed to ann", s, raw)
	}
	if s, raw := g.As("Bearer "+ans.Token, "GET", "/api/v1/me", ""); s != 200 || !strings.Contains(string(raw), `"via":"session"`) {
		t.Errorf("bearer from the login = %d %s", s, raw)
	}
	// The console cannot name someone else with X-Agent.
	req, _ := http.NewRequest("POST", g.URL+"/api/v1/enquiries", strings.NewReader(intake("x-agent")))
	req.Header.Set("Authorization", "Bearer "+ans.Token)
	req.Header.Set("X-Agent", "Somebody Else")
	if resp, err := client.Do(req); err != nil {
		t.Fatal(err)
	} else {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(raw), "Somebody Else") {
			t.Errorf("X-Agent overrode the signed-in user: %s", raw)
		}
	}

	if s, raw, _ := b.do("POST", "/api/v1/logout", "", map[string]string{api.CSRFHeader: ans.CSRFToken}); s != 204 {
		t.Fatalf("logout = %d %s", s, raw)
	}
	if s, _, _ := b.do("GET", "/api/v1/me", "", nil); s != 401 {
		t.Errorf("cookie after logout = %d, want 401", s)
	}
	if s, _ := g.As("Bearer "+ans.Token, "GET", "/api/v1/me", ""); s != 401 {
		t.Errorf("bearer after logout = %d, want 401", s)
	}
	kinds := map[string]int{}
	for _, e := range g.AuditEvents("actor=user:ann") {
		kinds[e.Kind]++
	}
	if kinds[store.AuditLogin] != 1 || kinds[store.AuditLogout] != 1 {
		t.Errorf("audit for ann = %v, want a login and a logout", kinds)
	}
}

// Ensure wrong passwords are refused alike for unknown users and wrong
// passwords, audited, and limited per account (5) and per address (20):
// past the limit even the right password is refused.
func TestLoginLimits(t *testing.T) {
	t.Parallel()
	clock := NewTestClock("2026-11-23T10:00:00Z")
	g := MustOpenCareGround(t, clock)
	for _, u := range []string{"ann", "bob"} {
		g.MustCall("POST", "/api/v1/users", `{"username":"`+u+`","password":"`+testPassword+`","role":"agent"}`, http.StatusCreated, nil)
	}
	login := func(user, pw string) (int, []byte) {
		return g.As("", "POST", "/api/v1/login", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw))
	}
	s1, raw1 := login("ann", "wrong password!")
	s2, raw2 := login("nobody", "wrong password!")
	if s1 != 401 || s2 != 401 || string(raw1) != string(raw2) {
		t.Errorf("wrong password = %d %s; unknown user = %d %s; want the same 401", s1, raw1, s2, raw2)
	}
	for range api.LoginAccountFailures - 1 {
		login("ann", "wrong password!")
	}
	if s, raw := login("ann", testPassword); s != 429 || !strings.Contains(string(raw), "rate_limited") {
		t.Fatalf("right password after %d failures = %d %s, want 429", api.LoginAccountFailures, s, raw)
	}
	if s, raw := login("bob", testPassword); s != 200 {
		t.Fatalf("another account from the same address = %d %s", s, raw)
	}
	clock.Set("2026-11-23T10:16:00Z") // the window has passed
	if s, raw := login("ann", testPassword); s != 200 {
		t.Fatalf("after the window = %d %s", s, raw)
	}
	// Per address: spread over many usernames, so no account limit hits.
	for i := range api.AddrFailures {
		login(fmt.Sprintf("guess-%d", i), "wrong password!")
	}
	if s, raw := login("bob", testPassword); s != 429 {
		t.Fatalf("right password after %d failures from the address = %d %s, want 429", api.AddrFailures, s, raw)
	}
	evs := g.AuditEvents("kind=login_failed&limit=1000")
	limited := 0
	for _, e := range evs {
		if e.Remote != "127.0.0.1" {
			t.Errorf("audit remote = %q", e.Remote)
		}
		if e.Code == "rate_limited" {
			limited++
		}
	}
	if len(evs) != 2+api.LoginAccountFailures-1+1+api.AddrFailures+1 || limited != 2 {
		t.Errorf("audited %d failed logins (%d rate limited)", len(evs), limited)
	}
}

// Ensure user management: bad input is refused, hashes never leave the
// server and are argon2id, and a role change or a disable ends the user's
// sessions and is audited.
func TestUsers(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	for _, tc := range []struct{ name, body string }{
		{"ShortPassword", `{"username":"ann","password":"short","role":"agent"}`},
		{"BadRole", `{"username":"ann","password":"` + testPassword + `","role":"root"}`},
		{"BadName", `{"username":"Ann Smith","password":"` + testPassword + `","role":"agent"}`},
		{"ReservedName", `{"username":"admin","password":"` + testPassword + `","role":"agent"}`},
	} {
		if s, raw := g.Call("POST", "/api/v1/users", tc.body); s != 400 {
			t.Errorf("%s = %d %s, want 400", tc.name, s, raw)
		}
	}
	ann := g.MustUser("ann", auth.RoleAgent)
	if s, _ := g.Call("POST", "/api/v1/users", `{"username":"ann","password":"`+testPassword+`","role":"agent"}`); s != 409 {
		t.Errorf("duplicate user = %d, want 409", s)
	}
	raw := g.MustCall("GET", "/api/v1/users", "", 200, nil)
	if strings.Contains(string(raw), "argon2") || strings.Contains(string(raw), "hash") {
		t.Errorf("user list shows a hash: %s", raw)
	}
	u, err := g.Srv.Store.User(context.Background(), "ann")
	if err != nil || !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, testPassword) {
		t.Fatalf("stored user = %+v, %v", u, err)
	}

	g.MustCall("PUT", "/api/v1/users/ann", `{"role":"supervisor"}`, 200, nil)
	if s, _ := g.As(ann, "GET", "/api/v1/me", ""); s != 401 {
		t.Errorf("session after a role change = %d, want 401 (sign in again)", s)
	}
	ann = "Bearer " + g.Login("ann", testPassword).Token
	if s, raw := g.As(ann, "GET", "/api/v1/me", ""); s != 200 || !strings.Contains(string(raw), `"role":"supervisor"`) {
		t.Errorf("me after the change = %d %s", s, raw)
	}
	g.MustCall("PUT", "/api/v1/users/ann", `{"disabled":true}`, 200, nil)
	if s, _ := g.As(ann, "GET", "/api/v1/me", ""); s != 401 {
		t.Errorf("session of a disabled user = %d, want 401", s)
	}
	if s, _ := g.As("", "POST", "/api/v1/login", `{"username":"ann","password":"`+testPassword+`"}`); s != 401 {
		t.Errorf("login of a disabled user = %d, want 401", s)
	}
	if s, _ := g.Call("PUT", "/api/v1/users/nobody", `{"role":"agent"}`); s != 404 {
		t.Errorf("unknown user = %d, want 404", s)
	}
	evs := g.AuditEvents("subject=ann")
	kinds := map[string]string{}
	for _, e := range evs {
		kinds[e.Kind] = e.Detail
	}
	if kinds[store.AuditRoleChanged] != "agent -> supervisor" || kinds[store.AuditUserChanged] != "disabled" || kinds[store.AuditUserCreated] == "" {
		t.Errorf("audit for ann = %v", kinds)
	}
}

// Ensure API tokens: issued once, carry their user's role, listed without
// their secret, and dead once deleted or expired.
func TestAPITokens(t *testing.T) {
	t.Parallel()
	clock := NewTestClock("2026-11-23T10:00:00Z")
	g := MustOpenCareGround(t, clock)
	g.MustUser("intake-bot", auth.RoleAgent)
	var tok struct{ ID, Token string }
	g.MustCall("POST", "/api/v1/tokens", `{"username":"intake-bot","name":"social intake"}`, 201, &tok)
	bearer := "Bearer " + tok.Token
	if s, raw := g.As(bearer, "GET", "/api/v1/me", ""); s != 200 || !strings.Contains(string(raw), `"via":"api"`) {
		t.Fatalf("API token = %d %s", s, raw)
	}
	if s, _ := g.As(bearer, "GET", "/api/v1/users", ""); s != 403 {
		t.Errorf("agent API token on an admin route = %d, want 403", s)
	}
	raw := g.MustCall("GET", "/api/v1/tokens?kind=api", "", 200, nil)
	if strings.Contains(string(raw), tok.Token) || !strings.Contains(string(raw), tok.ID) {
		t.Errorf("token list = %s", raw)
	}
	g.MustCall("DELETE", "/api/v1/tokens/"+tok.ID, "", 204, nil)
	if s, _ := g.As(bearer, "GET", "/api/v1/me", ""); s != 401 {
		t.Errorf("deleted token = %d, want 401", s)
	}
	g.MustCall("POST", "/api/v1/tokens", `{"username":"intake-bot","name":"short","expires_in":"1h"}`, 201, &tok)
	clock.Set("2026-11-23T11:00:01Z")
	if s, _ := g.As("Bearer "+tok.Token, "GET", "/api/v1/me", ""); s != 401 {
		t.Errorf("expired token = %d, want 401", s)
	}
	if s, _ := g.Call("POST", "/api/v1/tokens", `{"username":"nobody","name":"x"}`); s != 404 {
		t.Errorf("token for an unknown user = %d, want 404", s)
	}
	if evs := g.AuditEvents("kind=token_issued"); len(evs) != 2 {
		t.Errorf("token_issued events = %d, want 2", len(evs))
	}
}

// Ensure the audit log filters by kind, actor, subject and time, pages
// back with before, and refuses bad filters.
func TestAuditFilters(t *testing.T) {
	t.Parallel()
	clock := NewTestClock("2026-11-23T10:00:00Z")
	g := MustOpenCareGround(t, clock)
	g.MustUser("ann", auth.RoleAgent)
	clock.Set("2026-11-23T11:00:00Z")
	g.As("", "POST", "/api/v1/login", `{"username":"ann","password":"nope nope nope"}`)
	all := g.AuditEvents("")
	if len(all) != 3 || all[0].Kind != store.AuditLoginFailed || all[2].Kind != store.AuditUserCreated {
		t.Fatalf("audit = %+v, want login_failed, login, user_created (newest first)", all)
	}
	if evs := g.AuditEvents("since=2026-11-23T10:30:00Z"); len(evs) != 1 || evs[0].Kind != store.AuditLoginFailed {
		t.Errorf("since = %+v", evs)
	}
	if evs := g.AuditEvents("until=2026-11-23T10:30:00Z"); len(evs) != 2 {
		t.Errorf("until = %+v", evs)
	}
	if evs := g.AuditEvents(fmt.Sprintf("before=%d&limit=1", all[0].Seq)); len(evs) != 1 || evs[0].Seq != all[1].Seq {
		t.Errorf("before = %+v", evs)
	}
	if evs := g.AuditEvents("actor=admin-token"); len(evs) != 1 || evs[0].Subject != "ann" {
		t.Errorf("actor = %+v", evs)
	}
	for _, q := range []string{"since=yesterday", "limit=0", "limit=x", "before=-1"} {
		if s, _ := g.Call("GET", "/api/v1/audit?"+q, ""); s != 400 {
			t.Errorf("audit?%s = %d, want 400", q, s)
		}
	}
}
