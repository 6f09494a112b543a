package uitest

import (
	"testing"
	"time"
)

// Ensure the whole story in a real browser: an agent signs in and
// hands an enquiry to a flight; the crew app on a running cabin service
// shows it; the tablet loses its link (the dashboard shows it offline) and
// the crew resolve the enquiry while the ground is stopped; the app shows
// the actions waiting; the ground restarts, the link returns, and the
// console shows the outcome live while the dashboard shows the tablet back
// online. No page logs an error apart from the failed requests of the
// outage itself.
func TestScenario(t *testing.T) {
	g := startGround(t)
	s := seed(g)
	c := startCabin(t, g, "purser-tablet")
	b := newBrowser(t)

	// The agent signs in and hands the enquiry to the crew.
	con := newPage(t, b, "console")
	con.viewport(desktop)
	con.open(g.url() + "/")
	con.waitJS(10*time.Second, "the sign-in screen", `!document.querySelector("#signin").hidden`)
	con.eval0(`document.querySelector("#token-signin").open = true`)
	con.setValue("#signin-token", adminToken)
	con.click("#signin-token-btn")
	con.waitText(10*time.Second, "#queue-list", "Anna de Vries")
	con.clickText("#queue-list .qrow", "Anna de Vries")
	con.waitText(10*time.Second, "#ev-matches", "12A")
	con.clickText("#ev-matches .use-match", "Use")
	con.setValue("#as-instr", "Serve her meal first and apologise for the cold one.")
	con.click("#as-btn")
	con.waitText(10*time.Second, "#ev-title", "Assigned")

	// The crew open their flight in the app and see it.
	crew := newPage(t, b, "crew")
	crew.preferColorScheme("dark")
	crew.viewport(tabletPortrait)
	crew.openCrew(c, "/")
	crew.waitText(10*time.Second, "main", "Open your flight")
	crew.setValue("#flight-number", "KL0641")
	crew.setValue("#flight-date", s.Flight[len("KL0641-"):])
	crew.clickText("button", "Open flight")
	crew.waitText(15*time.Second, ".card", "Anna de Vries")
	crew.waitText(5*time.Second, ".card", "Serve her meal first")
	crew.waitText(10*time.Second, ".sync", "everything sent")
	con.waitText(15*time.Second, "#ev-stepper", "Delivered to aircraft")

	// The dashboard shows the tablet online on that flight.
	fleet := newPage(t, b, "fleet")
	fleet.viewport(desktop)
	fleet.open(g.url() + "/fleet.html#token=" + adminToken) // a new tab has its own session storage
	fleet.waitJS(10*time.Second, "the tablet online", deviceStateJS("purser-tablet")+` === "online"`)
	fleet.waitText(5*time.Second, "#devices", s.Flight)

	// The link drops: the dashboard shows the tablet offline. Then the
	// ground stops.
	c.link.SetDown(true)
	fleet.waitJS(15*time.Second, "the tablet offline", deviceStateJS("purser-tablet")+` === "offline"`)
	fleet.screenshot("tablet-offline")
	for _, p := range []*page{con, fleet} {
		p.tolerateNetworkErrors(true)
	}
	g.shutdown()
	c.link.SetDown(false) // the link is back, but the ground is not

	// The crew resolve it with no ground: everything answers locally.
	crew.waitText(15*time.Second, ".sync", "Offline")
	crew.clickText(".card", "Anna de Vries")
	crew.click("#d-ack")
	crew.waitText(10*time.Second, "#d-seen", "Seen by")
	crew.clickText(".outcome", "Resolved")
	crew.clickText(".quick", "Served first and apologised")
	crew.click("#d-save")
	crew.waitText(10*time.Second, "#d-resolution", "Recorded: Resolved")
	crew.waitText(10*time.Second, ".sync", "2 actions waiting to send")
	crew.layout(tabletPortrait, "offline-pending", true)
	crew.layout(tabletLandscape, "offline-pending", true)
	con.waitText(15*time.Second, "#conn", "not reachable")
	fleet.waitText(15*time.Second, "#conn", "not reachable")

	// The ground restarts: the outbox drains and the console shows the
	// outcome without a reload; the dashboard shows the tablet back.
	g.start()
	crew.waitText(20*time.Second, ".sync", "everything sent")
	con.waitText(20*time.Second, "#ev-stepper", "Resolved")
	con.waitText(5*time.Second, "#ev-stepper", "Served first and apologised")
	fleet.waitJS(20*time.Second, "the tablet back online", deviceStateJS("purser-tablet")+` === "online"`)
	fleet.waitText(10*time.Second, "#conn", "Live")
	con.waitText(10*time.Second, "#conn", "Live")
	for _, p := range []*page{con, fleet} {
		p.tolerateNetworkErrors(false)
	}
	con.layout(desktop, "outcome", false)
	con.layout(tabletLandscape, "outcome", false)
	fleet.layout(desktop, "back-online", false)
	fleet.layout(tabletPortrait, "back-online", false)

	var e struct {
		Status     string `json:"status"`
		Resolution struct {
			Outcome string `json:"outcome"`
			Note    string `json:"note"`
		} `json:"resolution"`
	}
	g.api("GET", "/enquiries/"+s.Enquiry, nil, 200, &e)
	if e.Status != "resolved" || e.Resolution.Outcome != "resolved" || e.Resolution.Note != "Served first and apologised." {
		t.Errorf("ground after the restart: %+v", e)
	}
}
