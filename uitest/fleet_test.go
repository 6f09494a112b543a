package uitest

import (
	"testing"
	"time"
)

// deviceState is the state text of a device's row on the dashboard.
func deviceStateJS(name string) string {
	return `(() => { const r = Array.from(document.querySelectorAll("#devices tbody tr")).find(r => r.textContent.includes(` + jsString(name) + `)); return r ? r.querySelector(".state-text").textContent : ""; })()`
}

// openFleet opens the dashboard as the admin on a desktop, once the
// purser's tablet shows online.
func openFleet(t *testing.T, g *ground, name string) *page {
	t.Helper()
	p := newPage(t, newBrowser(t), name)
	p.viewport(desktop)
	p.open(g.url() + "/fleet.html#token=" + adminToken)
	p.waitJS(10*time.Second, "purser-tablet online", deviceStateJS("purser-tablet")+` === "online"`)
	return p
}

// Ensure the fleet dashboard shows every device live (online, flight,
// outbox), a device going offline and back, its history chart, enrolment
// with the code as text and QR, and revocation.
func TestFleetDashboard(t *testing.T) {
	g, s, c := assignedOnTablet(t, "purser-tablet")

	p := openFleet(t, g, "fleet")
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

	// Decommission: a tablet that never connected is forgotten at once.
	var spare struct {
		ID string `json:"id"`
	}
	g.api("POST", "/devices", map[string]string{"name": "spare-tablet"}, 201, &spare)
	p.waitText(10*time.Second, "#devices", "spare-tablet")
	p.clickText("#devices tbody tr", "spare-tablet")
	p.clickText("#device-detail button", "Decommission")
	p.waitJS(10*time.Second, "spare-tablet gone", `!document.querySelector("#devices").textContent.includes("spare-tablet")`)
	g.api("GET", "/devices/"+spare.ID, nil, 404, nil)
}

// deviceView is what the tests read of GET /api/v1/devices/{id}.
type deviceView struct {
	Name    string `json:"name"`
	Online  bool   `json:"online"`
	Binding struct {
		Aircraft []string `json:"aircraft"`
		Flights  []string `json:"flights"`
	} `json:"binding"`
}

// Ensure the dashboard binds a tablet to aircraft and flights and unbinds
// it (PUT /devices/{id}/flights, checked on the ground), shows the binding
// on its row, renames and resyncs it, and shows the ground's alerts
// (GET /alerts) on top.
func TestFleetActions(t *testing.T) {
	g, s, c := assignedOnTablet(t, "purser-tablet")

	p := openFleet(t, g, "fleet-actions")
	p.waitText(5*time.Second, "#devices td.binding", "any flight")
	p.clickText("#devices tbody tr", "purser-tablet")
	dev := func() deviceView {
		var d deviceView
		g.api("GET", "/devices/"+c.creds.ID, nil, 200, &d)
		return d
	}

	// Bind to an aircraft and the tablet's flight: stored on the ground,
	// shown on the row; the tablet reconnects within its binding.
	p.clickText("#device-detail button", "Bind to flight")
	p.setValue("#bind-aircraft", "PH-BVA")
	p.setValue("#bind-flights", s.Flight)
	p.layout(desktop, "fleet-bind", false)
	p.click("#bind-btn")
	p.waitText(10*time.Second, "#devices td.binding", "aircraft PH-BVA · flights "+s.Flight)
	if d := dev(); len(d.Binding.Aircraft) != 1 || d.Binding.Aircraft[0] != "PH-BVA" || len(d.Binding.Flights) != 1 || d.Binding.Flights[0] != s.Flight {
		t.Errorf("binding on the ground = %+v, want PH-BVA and %s", d.Binding, s.Flight)
	}
	p.waitJS(15*time.Second, "purser-tablet online within its binding", deviceStateJS("purser-tablet")+` === "online"`)

	// An unknown flight is refused with the ground's message.
	p.clickText("#device-detail button", "Bind to flight")
	p.setValue("#bind-flights", "XX0000-2026-01-01")
	p.tolerateNetworkErrors(true) // the 404 of the unknown flight
	p.click("#bind-btn")
	p.waitJS(10*time.Second, "the refusal", `!document.querySelector("#bind-error").hidden && document.querySelector("#bind-error").textContent.length > 0`)
	p.tolerateNetworkErrors(false)

	// Unbind: both lists empty, any flight.
	p.click("#unbind-btn")
	p.waitText(10*time.Second, "#devices td.binding", "any flight")
	if d := dev(); len(d.Binding.Aircraft) != 0 || len(d.Binding.Flights) != 0 {
		t.Errorf("binding after unbind = %+v, want both empty", d.Binding)
	}

	// Resync: the ground records it and the tablet comes back.
	p.eval0(`window.confirm = () => true`)
	p.clickText("#device-detail button", "Resync")
	p.waitText(10*time.Second, "#toasts", "Resync: done")
	var audit struct {
		Events []struct {
			Subject string `json:"subject"`
		} `json:"events"`
	}
	g.api("GET", "/audit?kind=device_resync", nil, 200, &audit)
	if len(audit.Events) != 1 || audit.Events[0].Subject != "device:"+c.creds.ID {
		t.Errorf("audit of the resync = %+v", audit.Events)
	}
	p.waitJS(15*time.Second, "purser-tablet online after the resync", deviceStateJS("purser-tablet")+` === "online"`)

	// Rename.
	p.eval0(`window.prompt = () => "purser KL0641"`)
	p.clickText("#device-detail button", "Rename")
	p.waitText(10*time.Second, "#devices", "purser KL0641")
	if d := dev(); d.Name != "purser KL0641" {
		t.Errorf("name on the ground = %q", d.Name)
	}

	// An alert of the ground's rules: an enquiry handed to a flight leaving
	// within the readiness window that no tablet has.
	date := time.Now().UTC().Format("2006-01-02")
	var f struct {
		ID string `json:"id"`
	}
	g.api("POST", "/flights", map[string]any{
		"number": "KL0643", "date": date, "origin": "AMS", "destination": "BOS", "aircraft": "B772",
		"departs_at": time.Now().UTC().Add(30 * time.Minute).Format(time.RFC3339),
		"arrives_at": time.Now().UTC().Add(8 * time.Hour).Format(time.RFC3339),
	}, 201, &f)
	var e struct {
		ID string `json:"id"`
	}
	g.api("POST", "/enquiries", map[string]any{
		"channel": "twitter", "external_id": "tw-2", "handle": "@bob", "customer": "Bob", "language": "en", "text": "Wheelchair at BOS please.",
	}, 201, &e)
	g.api("POST", "/enquiries/"+e.ID+"/assign", map[string]any{"flight_id": f.ID, "seat": "30C", "passenger_name": "Bob", "instructions": "Wheelchair."}, 200, nil)
	p.waitJS(10*time.Second, "the readiness alert on top", `(a => a && a.classList.contains("alert-bad"))(document.querySelector('#alerts [data-rule="enquiry_not_on_tablets"]'))`)
	p.screenshot("fleet-alert")
}
