package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/cabincare/cabincare/secrethash"
)

// Ensure the crew roster: bad input is refused, PINs are stored only as
// argon2id hashes that verify, every change raises the roster version, and
// the API never shows a hash.
func TestCrewRoster(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	for name, body := range map[string]string{
		"ShortPIN":   `{"staff_number":"10001","name":"Piet","pin":"123"}`,
		"LongPIN":    `{"staff_number":"10001","name":"Piet","pin":"1234567"}`,
		"LetterPIN":  `{"staff_number":"10001","name":"Piet","pin":"12a4"}`,
		"NoName":     `{"staff_number":"10001","name":" ","pin":"1234"}`,
		"BadStaff":   `{"staff_number":"10 001","name":"Piet","pin":"1234"}`,
		"NoStaff":    `{"staff_number":"","name":"Piet","pin":"1234"}`,
		"NumericPIN": `{"staff_number":"10001","name":"Piet","pin":1234}`,
	} {
		if s, raw := g.Call("POST", "/api/v1/crew", body); s != 400 {
			t.Errorf("%s = %d %s, want 400", name, s, raw)
		}
	}
	g.MustCall("POST", "/api/v1/crew", `{"staff_number":"10001","name":"Piet Purser","pin":"1357"}`, http.StatusCreated, nil)
	if s, _ := g.Call("POST", "/api/v1/crew", `{"staff_number":"10001","name":"Other","pin":"2468"}`); s != 409 {
		t.Errorf("duplicate staff number = %d, want 409", s)
	}
	r, err := g.Srv.Store.Roster(context.Background())
	if err != nil || len(r.Crew) != 1 || r.Version != 1 {
		t.Fatalf("roster = %+v, %v", r, err)
	}
	h := r.Crew[0].PINHash
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("PIN hash = %s, want argon2id with the configured parameters", h)
	}
	if p := secrethash.PINParams; p.Memory != 64*1024 || p.Time != 3 {
		t.Errorf("PIN parameters = %+v, want 64 MiB and 3 passes (SECURITY.md)", p)
	}
	if ok, _ := secrethash.Verify(h, "1357"); !ok {
		t.Error("the stored hash does not verify the PIN")
	}
	raw := g.MustCall("GET", "/api/v1/crew", "", 200, nil)
	if strings.Contains(string(raw), "argon2") || strings.Contains(string(raw), "1357") {
		t.Errorf("crew list shows a secret: %s", raw)
	}
	g.MustCall("DELETE", "/api/v1/crew/10001", "", 204, nil)
	if r, _ := g.Srv.Store.Roster(context.Background()); len(r.Crew) != 0 || r.Version != 2 {
		t.Errorf("after delete: %+v", r)
	}
	if s, _ := g.Call("DELETE", "/api/v1/crew/10001", ""); s != 404 {
		t.Errorf("delete again = %d, want 404", s)
	}
	if evs := g.AuditEvents("kind=crew_changed"); len(evs) != 2 {
		t.Errorf("crew audit = %+v", evs)
	}
}
