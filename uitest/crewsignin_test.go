package uitest

import (
	"testing"
	"time"
)

// Ensure the crew app asks the real cabin for a sign-in: a crew member put
// on the roster on the ground before the tablet started signs in with the
// keypad (POST /api/v1/session, checked on the tablet against the roster of
// the sync handshake), a wrong PIN is refused with a message, the right one
// opens the flight's list, and locking signs out on the cabin too.
func TestCrewSignIn(t *testing.T) {
	_, _, c := assignedOnTablet(t, "tablet", func(g *ground) {
		g.api("POST", "/crew", map[string]string{"staff_number": "12345", "name": "Carla Crew", "pin": "2468"}, 201, nil)
	})
	// The roster came in the welcome before the enquiry was pulled; without
	// it every PIN would be refused. Each refusal counts against the 5 wrong
	// PINs allowed per staff number, so this tries at most 3 times.
	for try := 1; status(t, "POST", c.url()+"/api/v1/session", "", `{"staff_number":"12345","pin":"2468"}`) != 200; try++ {
		if try == 3 {
			t.Fatal("the crew member cannot sign in on the tablet: no roster")
		}
		time.Sleep(time.Second)
	}

	b := newBrowser(t)
	p := newPage(t, b, "crew-signin")
	p.preferColorScheme("dark")
	p.tolerateNetworkErrors(true) // the 401s that ask for the sign-in
	p.viewport(tabletPortrait)
	p.open(c.url() + "/") // no token: the app must sign in itself
	p.waitText(15*time.Second, "main", "Crew sign-in")
	p.layout(tabletPortrait, "signin", true)
	p.layout(tabletLandscape, "signin", true)

	press := func(digits string) {
		for _, d := range digits {
			p.clickText(".keypad .key", string(d))
		}
	}
	p.setValue("#signin-staff", "12345")
	press("1111")
	p.clickText("main button", "Sign in")
	p.waitText(10*time.Second, ".form-error", "Staff number or PIN not accepted.")
	if got := eval[string](p, `document.querySelector("#signin-pin").value`); got != "" {
		t.Errorf("PIN field after a refusal = %q, want it cleared", got)
	}

	press("2468")
	p.clickText("main button", "Sign in")
	p.waitText(15*time.Second, ".card", "Anna de Vries")
	tok := eval[string](p, `sessionStorage.getItem("cabincare.crew.token") || ""`)
	if tok == "" || tok == cabinToken {
		t.Fatalf("crew session token = %q, want one from the cabin", tok)
	}
	var who struct {
		Staff string `json:"staff_number"`
		Name  string `json:"name"`
	}
	call(t, "GET", c.url()+"/api/v1/session", tok, nil, 200, &who)
	if who.Staff != "12345" || who.Name != "Carla Crew" {
		t.Errorf("signed in as %+v", who)
	}

	p.waitJS(5*time.Second, "the lock button", `!document.querySelector("#lock-btn").hidden`)
	p.click("#lock-btn")
	p.waitText(10*time.Second, "main", "Crew sign-in")
	if got := eval[string](p, `sessionStorage.getItem("cabincare.crew.token") || ""`); got != "" {
		t.Errorf("token kept after locking: %q", got)
	}
	eventually(t, 5*time.Second, "the session ended on the cabin", func() bool {
		return status(t, "GET", c.url()+"/api/v1/enquiries", tok, "") == 401
	})
}
