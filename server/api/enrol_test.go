package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cabincare/cabincare/server/api"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

type created struct {
	ID        string    `json:"id"`
	Code      string    `json:"enrolment_code"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (g *Ground) enrolStatus(code string) (int, []byte) {
	return g.As("", "POST", "/api/v1/enrol", `{"code":"`+code+`"}`)
}

// Ensure an enrolment code is short-lived and works once, whatever case
// and dashes it is typed with; the credential it gives authenticates, and
// only its hash is stored.
func TestEnrolmentCode(t *testing.T) {
	t.Parallel()
	clock := NewTestClock("2026-11-23T10:00:00Z")
	g := MustOpenCareGround(t, clock)
	var d created
	g.MustCall("POST", "/api/v1/devices", `{"name":"Tablet 1"}`, http.StatusCreated, &d)
	if want := clock.Now().Add(api.DefaultEnrolTTL); !d.ExpiresAt.Equal(want) || len(d.Code) != 11 || d.Code[5] != '-' {
		t.Fatalf("created = %+v, want a XXXXX-XXXXX code expiring at %s", d, want)
	}
	if _, err := g.Srv.Store.Authenticate(context.Background(), d.ID, ""); err == nil {
		t.Fatal("a device not enrolled yet authenticates with an empty token")
	}
	typed := strings.ToLower(strings.ReplaceAll(d.Code, "-", " "))
	en := g.Enrol(typed)
	if en.DeviceID != d.ID || en.Name != "Tablet 1" {
		t.Fatalf("enrol = %+v", en)
	}
	if _, err := g.Srv.Store.Authenticate(context.Background(), d.ID, en.Token); err != nil {
		t.Fatalf("the enrolled credential does not authenticate: %v", err)
	}
	if s, raw := g.enrolStatus(d.Code); s != 401 {
		t.Errorf("second use of the code = %d %s, want 401", s, raw)
	}
	dev, _ := g.Srv.Store.Device(context.Background(), d.ID)
	if string(dev.TokenHash) == en.Token || len(dev.TokenHash) != 32 {
		t.Error("the token is not stored as a hash")
	}

	var late created
	g.MustCall("POST", "/api/v1/devices", `{"name":"Tablet 2"}`, http.StatusCreated, &late)
	clock.Set("2026-11-23T10:15:00Z")
	if s, raw := g.enrolStatus(late.Code); s != 401 || !strings.Contains(string(raw), "expired") {
		t.Errorf("expired code = %d %s, want 401 expired", s, raw)
	}
	if s, _ := g.enrolStatus(late.Code); s != 401 {
		t.Errorf("expired code again = %d", s)
	}
	for _, body := range []string{`{"code":""}`, `{}`, `{"code":"` + strings.Repeat("A", 65) + `"}`} {
		if s, raw := g.As("", "POST", "/api/v1/enrol", body); s != 400 {
			t.Errorf("enrol %s = %d %s, want 400", body, s, raw)
		}
	}
	kinds := map[string]int{}
	for _, e := range g.AuditEvents("limit=1000") {
		kinds[e.Kind]++
	}
	if kinds[store.AuditDeviceCreated] != 2 || kinds[store.AuditDeviceEnrolled] != 1 || kinds[store.AuditEnrolFailed] != 3 {
		t.Errorf("audit = %v", kinds)
	}
}

// Ensure rotation: the old credential works until the new code is used,
// then only the new one does; a revoked device can neither rotate nor
// enrol with a code issued before its revocation.
func TestRotateAndRevoke(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	ctx := context.Background()
	first := g.MustDevice("Tablet 1")
	var rot created
	g.MustCall("POST", "/api/v1/devices/"+first.DeviceID+"/rotate", "", http.StatusOK, &rot)
	if _, err := g.Srv.Store.Authenticate(ctx, first.DeviceID, first.Token); err != nil {
		t.Fatalf("old credential before the new code is used: %v", err)
	}
	second := g.Enrol(rot.Code)
	if second.DeviceID != first.DeviceID || second.Token == first.Token {
		t.Fatalf("rotation enrol = %+v", second)
	}
	if _, err := g.Srv.Store.Authenticate(ctx, first.DeviceID, first.Token); syncproto.ErrorCode(err) != syncproto.CodeUnauthorized {
		t.Errorf("old credential after rotation: %v, want unauthorized", err)
	}
	if _, err := g.Srv.Store.Authenticate(ctx, first.DeviceID, second.Token); err != nil {
		t.Errorf("new credential: %v", err)
	}
	// A second rotation replaces the first's unused code.
	var r1, r2 created
	g.MustCall("POST", "/api/v1/devices/"+first.DeviceID+"/rotate", "", http.StatusOK, &r1)
	g.MustCall("POST", "/api/v1/devices/"+first.DeviceID+"/rotate", "", http.StatusOK, &r2)
	if s, _ := g.enrolStatus(r1.Code); s != 401 {
		t.Errorf("a replaced rotation code = %d, want 401", s)
	}

	g.MustCall("POST", "/api/v1/devices/"+first.DeviceID+"/revoke", "", http.StatusOK, nil)
	if s, raw := g.enrolStatus(r2.Code); s != 403 || !strings.Contains(string(raw), "revoked") {
		t.Errorf("code of a revoked device = %d %s, want 403 revoked", s, raw)
	}
	if s, raw := g.Call("POST", "/api/v1/devices/"+first.DeviceID+"/rotate", ""); s != 403 {
		t.Errorf("rotate a revoked device = %d %s, want 403", s, raw)
	}
	if _, err := g.Srv.Store.Authenticate(ctx, first.DeviceID, second.Token); syncproto.ErrorCode(err) != syncproto.CodeRevoked {
		t.Errorf("revoked device authenticates: %v", err)
	}
	if s, _ := g.Call("POST", "/api/v1/devices/nope/rotate", ""); s != 404 {
		t.Errorf("rotate unknown = %d, want 404", s)
	}
	if evs := g.AuditEvents("kind=device_revoked&subject=device:" + first.DeviceID); len(evs) != 1 {
		t.Errorf("revocation audit = %+v", evs)
	}
}

// Ensure guessing enrolment codes is limited per address: past the limit
// even a right code is refused.
func TestEnrolmentGuessLimit(t *testing.T) {
	t.Parallel()
	g := MustOpenGround(t)
	var d created
	g.MustCall("POST", "/api/v1/devices", `{"name":"Tablet 1"}`, http.StatusCreated, &d)
	for range api.AddrFailures {
		g.enrolStatus("AAAAA-AAAAA")
	}
	if s, raw := g.enrolStatus(d.Code); s != 429 {
		t.Fatalf("right code after %d wrong ones = %d %s, want 429", api.AddrFailures, s, raw)
	}
}
