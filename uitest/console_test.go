package uitest

import (
	"strings"
	"testing"
	"time"
)

// signInConsole opens the console with the admin token (the bootstrap path
// that keeps working next to password sign-in).
func signInConsole(p *page, g *ground) {
	p.t.Helper()
	p.open(g.url() + "/#token=" + adminToken)
	p.waitJS(10*time.Second, "the console app", `!document.querySelector("#app").hidden`)
}

// Ensure an agent can work the queue: SLA clocks and filters, the thread,
// a match suggestion confirmed into a hand-off, a templated reply, and the
// figures with their charts and the banner preview.
func TestConsole(t *testing.T) {
	g := startGround(t)
	s := seed(g)
	g.api("POST", "/enquiries", map[string]any{
		"channel": "instagram", "external_id": "ig-9", "handle": "lucia.g", "language": "es",
		"text": "Mi maleta no llegó a Madrid.",
	}, 201, nil)
	g.api("POST", "/templates", map[string]any{
		"name": "Sorry meal", "language": "en",
		"text": "Hi {{customer}}, we are sorry about your meal. The crew of {{flight}} will look after you in seat {{seat}}.",
	}, 201, nil)

	b := newBrowser(t)
	p := newPage(t, b, "console")
	p.viewport(desktop)
	signInConsole(p, g)

	// The queue: both open enquiries, each with an SLA clock.
	p.waitText(10*time.Second, "#queue-list", "Anna de Vries")
	p.waitText(5*time.Second, "#queue-list", "lucia.g")
	p.waitJS(5*time.Second, "an SLA clock on every row", `document.querySelectorAll("#queue-list .qrow").length === 2 && document.querySelectorAll("#queue-list .qrow .sla").length === 2 && /left|overdue/.test(document.querySelector("#queue-list .sla").textContent)`)
	for _, v := range allViewports {
		p.layout(v, "queue", false)
	}
	p.viewport(desktop)

	// Filters by language and channel.
	p.eval0(`(s => { s.value = "es"; s.dispatchEvent(new Event("change")); })(document.querySelector("#filter-language"))`)
	p.waitJS(10*time.Second, "only the Spanish enquiry", `document.querySelectorAll("#queue-list .qrow").length === 1 && document.querySelector("#queue-list").textContent.includes("lucia.g")`)
	p.eval0(`(s => { s.value = ""; s.dispatchEvent(new Event("change")); })(document.querySelector("#filter-language"))`)
	p.eval0(`(s => { s.value = "twitter"; s.dispatchEvent(new Event("change")); })(document.querySelector("#filter-channel"))`)
	p.waitJS(10*time.Second, "only the tweet", `document.querySelectorAll("#queue-list .qrow").length === 1 && document.querySelector("#queue-list").textContent.includes("Anna de Vries")`)
	p.eval0(`(s => { s.value = ""; s.dispatchEvent(new Event("change")); })(document.querySelector("#filter-channel"))`)

	// Live: a new enquiry appears without a reload.
	g.api("POST", "/enquiries", map[string]any{
		"channel": "facebook", "external_id": "fb-live", "handle": "jan.live", "language": "nl", "text": "Waar is mijn rolstoel?",
	}, 201, nil)
	p.waitText(10*time.Second, "#queue-list", "jan.live")

	// The enquiry: the thread and the match suggestion.
	p.clickText("#queue-list .qrow", "Anna de Vries")
	p.waitText(10*time.Second, "#ev-text", "My meal on the way out was cold")
	p.waitText(10*time.Second, "#ev-matches", "Anna de Vries")
	p.waitText(5*time.Second, "#ev-matches", "12A")
	p.clickText("#ev-matches .use-match", "Use")
	p.waitJS(5*time.Second, "the suggestion in the hand-off form", `document.querySelector("#as-seat").value === "12A" && document.querySelector("#as-flight").value === `+jsString(s.Flight))
	p.setValue("#as-instr", "Serve her meal first and apologise.")
	p.click("#as-btn")
	p.waitText(10*time.Second, "#ev-title", "Assigned")
	var got struct {
		Status        string `json:"status"`
		Seat          string `json:"seat"`
		PassengerName string `json:"passenger_name"`
		Instructions  string `json:"instructions"`
	}
	g.api("GET", "/enquiries/"+s.Enquiry, nil, 200, &got)
	if got.Status != "assigned" || got.Seat != "12A" || got.PassengerName != "Anna de Vries" || got.Instructions != "Serve her meal first and apologise." {
		t.Errorf("after the hand-off: %+v", got)
	}

	// Reply with a template: rendered on the ground, shown in the thread.
	p.waitJS(10*time.Second, "the template in the picker", `Array.from(document.querySelectorAll("#rp-template option")).some(o => o.textContent.includes("Sorry meal"))`)
	p.eval0(`(s => { s.value = Array.from(s.options).find(o => o.textContent.includes("Sorry meal")).value; s.dispatchEvent(new Event("change")); })(document.querySelector("#rp-template"))`)
	p.click("#rp-btn")
	p.waitText(10*time.Second, "#ev-text", "The crew of KL0641 will look after you in seat 12A.")
	for _, v := range allViewports {
		p.layout(v, "enquiry", false)
	}

	// Figures: the reply is a first response in the last hour.
	p.viewport(desktop)
	p.open(g.url() + "/#/figures")
	p.waitText(10*time.Second, "#fig-cards", "Average first response, last hour")
	p.waitJS(10*time.Second, "a bar in the last-hour chart", `document.querySelector("#fig-hour svg rect.bar")`)
	p.waitJS(5*time.Second, "the 7-day chart and the shares", `document.querySelector("#fig-week svg") && document.querySelectorAll("#fig-share svg rect.track").length === 2`)
	p.waitJS(10*time.Second, "the banner preview loaded", `(i => i.complete && i.naturalWidth > 0)(document.querySelector("#fig-banner"))`)
	for _, v := range allViewports {
		p.layout(v, "figures", false)
	}
}

// Ensure the sign-in screen is usable; an agent created on the ground signs
// in with a password (a wrong one is refused with a message), sees no admin
// links and is refused the fleet by the ground; sign-out ends the session;
// and the admin token path keeps working, with the fleet link.
func TestConsoleSignIn(t *testing.T) {
	g := startGround(t)
	const password = "correct horse battery"
	g.api("POST", "/users", map[string]string{"username": "agent.anna", "password": password, "role": "agent"}, 201, nil)

	b := newBrowser(t)
	p := newPage(t, b, "console-signin")
	p.open(g.url() + "/")
	p.waitJS(10*time.Second, "the sign-in screen", `!document.querySelector("#signin").hidden`)
	for _, v := range allViewports {
		p.layout(v, "signin", false)
	}
	p.viewport(desktop)

	// A wrong password: refused with a clear message.
	p.tolerateNetworkErrors(true) // the 401 of /login
	p.setValue("#signin-user", "agent.anna")
	p.setValue("#signin-password", "wrong password")
	p.clickText("#signin-form button", "Sign in")
	p.waitJS(10*time.Second, "a sign-in refusal", `(e => !e.hidden && e.textContent === "User name or password not accepted.")(document.querySelector("#signin-error"))`)
	p.tolerateNetworkErrors(false)
	p.screenshot("signin-refused")

	// The right one: the queue, the agent named, no fleet link.
	p.setValue("#signin-password", password)
	p.clickText("#signin-form button", "Sign in")
	p.waitJS(10*time.Second, "the console app", `!document.querySelector("#app").hidden`)
	p.waitText(10*time.Second, "#whoami", "agent.anna (agent)")
	p.waitText(10*time.Second, "#queue-list", "The queue is empty.")
	if eval[bool](p, `!document.querySelector("#fleet-link").hidden`) {
		t.Error("the fleet link is shown to an agent")
	}
	if got := eval[string](p, `document.cookie`); !strings.Contains(got, "cabincare_csrf=") {
		t.Errorf("no CSRF cookie after the login: %q", got)
	}
	tok := eval[string](p, `sessionStorage.getItem("cabincare.console.token") || ""`)
	if tok == "" {
		t.Fatal("no session token kept")
	}
	// What the agent may not do, the ground refuses.
	call(t, "GET", g.url()+"/api/v1/devices", tok, nil, 403, nil)
	call(t, "GET", g.url()+"/api/v1/alerts", tok, nil, 403, nil)
	call(t, "POST", g.url()+"/api/v1/devices", tok, map[string]string{"name": "x"}, 403, nil)

	// The fleet page opened by hand says it is for admins and shows no
	// devices or actions.
	p.tolerateNetworkErrors(true) // the 403s of /devices and /alerts
	p.open(g.url() + "/fleet.html")
	p.waitText(10*time.Second, "#signin-text", "for admins")
	if eval[bool](p, `!document.querySelector("#app").hidden || document.querySelectorAll("#device-detail button").length > 0`) {
		t.Error("the fleet dashboard shows its app to an agent")
	}
	p.tolerateNetworkErrors(false)

	// Sign out ends the session on the ground.
	p.open(g.url() + "/")
	p.waitText(10*time.Second, "#whoami", "agent.anna (agent)")
	p.click("#signout-btn")
	p.waitJS(10*time.Second, "the sign-in screen again", `!document.querySelector("#signin").hidden`)
	eventually(t, 5*time.Second, "the session ended", func() bool {
		return status(t, "GET", g.url()+"/api/v1/me", tok, "") == 401
	})

	// The token path: the bootstrap admin, who sees the fleet link.
	p.eval0(`document.querySelector("#token-signin").open = true`)
	p.setValue("#signin-token", adminToken)
	p.click("#signin-token-btn")
	p.waitJS(10*time.Second, "the console app", `!document.querySelector("#app").hidden`)
	p.waitJS(10*time.Second, "the fleet link", `!document.querySelector("#fleet-link").hidden`)
	p.click("#signout-btn")
	p.waitJS(10*time.Second, "the sign-in screen again", `!document.querySelector("#signin").hidden`)
}
