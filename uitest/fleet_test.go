package uitest

import (
	"testing"
	"time"
)

// deviceState is the state text of a device's row on the dashboard.
func deviceStateJS(name string) string {
	return `(() => { const r = Array.from(document.querySelectorAll("#devices tbody tr")).find(r => r.textContent.includes(` + jsString(name) + `)); return r ? r.querySelector(".state-text").textContent : ""; })()`
}

// Ensure the fleet dashboard shows every device live (online, flight,
// outbox), a device going offline and back, its history chart, enrolment
// with the code as text and QR, and revocation.
func TestFleetDashboard(t *testing.T) {
	g, s, c := assignedOnTablet(t, "purser-tablet")

	b := newBrowser(t)
	p := newPage(t, b, "fleet")
	p.viewport(desktop)
	p.open(g.url() + "/fleet.html#token=" + adminToken)
	p.waitJS(10*time.Second, "purser-tablet online", deviceStateJS("purser-tablet")+` === "online"`)
	p.waitText(5*time.Second, "#devices", s.Flight)
	p.waitText(5*time.Second, "#alerts", "No alerts")
	p.clickText("#devices tbody tr", "purser-tablet")
	p.waitJS(10*time.Second, "the history chart", `document.querySelector("#device-detail svg.history")`)
	for _, v := range allViewports {
		p.layout(v, "fleet", false)
	}
	p.viewport(desktop)

	// The link drops while the crew work: the row says offline; back online
	// and synced, nothing is left to alert on.
	c.link.SetDown(true)
	c.api("POST", "/enquiries/"+s.Enquiry+"/ack", nil, 200, nil)
	p.waitJS(15*time.Second, "purser-tablet offline", deviceStateJS("purser-tablet")+` === "offline"`)
	p.screenshot("fleet-offline")
	c.link.SetDown(false)
	p.waitJS(15*time.Second, "purser-tablet back online", deviceStateJS("purser-tablet")+` === "online"`)
	p.waitText(15*time.Second, "#alerts", "No alerts")

	// Enrol: the code as text and as a QR code drawn by the ground.
	p.click("#enrol-btn")
	p.setValue("#enrol-name", "crew-tablet-2")
	p.clickText("#dialog button", "Enrol")
	p.waitJS(10*time.Second, "the enrolment code", `document.querySelector("#enrol-code") && document.querySelector("#enrol-code").textContent.length > 10`)
	p.waitJS(10*time.Second, "the QR code", `(i => i && i.complete && i.naturalWidth === 320)(document.querySelector("#enrol-qr"))`)
	p.screenshot("fleet-enrol")
	p.clickText("#dialog button", "Close")
	p.waitText(10*time.Second, "#devices", "crew-tablet-2")

	// Revoke.
	p.eval0(`window.confirm = () => true`)
	p.clickText("#devices tbody tr", "crew-tablet-2")
	p.clickText("#device-detail button", "Revoke")
	p.waitJS(10*time.Second, "crew-tablet-2 revoked", deviceStateJS("crew-tablet-2")+` === "revoked"`)
}
