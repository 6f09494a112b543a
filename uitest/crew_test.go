package uitest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// preferColorScheme makes the tab report the system colour scheme.
func (p *page) preferColorScheme(scheme string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		p.t.Fatalf("%s: emulate %s: %v", p.name, scheme, err)
	}
}

// Ensure the crew can work an enquiry from the list to a saved outcome,
// see ground's notes and a colleague's action as they sync, find it on the
// seat map, and that every screen fits tablets and desktops.
func TestCrewApp(t *testing.T) {
	g := startGround(t)
	s := seed(g)
	g.assign(s)
	g.api("POST", "/enquiries/"+s.Enquiry+"/notes", map[string]string{"text": "Customer is a frequent flyer, be generous."}, 201, nil)
	var second struct {
		ID string `json:"id"`
	}
	g.api("POST", "/enquiries", map[string]any{
		"channel": "facebook", "external_id": "fb-2", "handle": "pieter.j", "language": "nl", "thread": "fb:pieter.j",
		"text": "Mijn stoel op de heenreis was kapot.",
	}, 201, &second)
	g.api("POST", "/enquiries/"+second.ID+"/assign", map[string]any{"flight_id": s.Flight, "seat": "3C", "instructions": "Check his seat works."}, 200, nil)

	c := startCabin(t, g, "purser")
	c.api("PUT", "/flight", map[string]string{"flight_id": s.Flight}, 200, nil)
	mate := startCabin(t, g, "crew-2")
	mate.api("PUT", "/flight", map[string]string{"flight_id": s.Flight}, 200, nil)

	b := newBrowser(t)
	p := newPage(t, b, "crew")
	p.preferColorScheme("dark") // a dim cabin
	p.openCrew(c, "/")
	p.waitJS(10*time.Second, "dark theme", `document.documentElement.dataset.theme === "dark"`)
	p.waitText(15*time.Second, ".card", "Anna de Vries")
	p.waitText(5*time.Second, ".card", "Pieter Jansen") // the name comes from the manifest
	p.waitText(5*time.Second, ".card", "Serve her meal first")
	p.waitText(5*time.Second, ".sync", "Online")
	for _, v := range allViewports {
		p.layout(v, "list", true)
	}

	// A colleague's note on the other tablet shows up in this list.
	eventually(t, 10*time.Second, "the colleague's tablet has the enquiry", func() bool {
		var l struct {
			Enquiries []struct{ ID string } `json:"enquiries"`
		}
		mate.api("GET", "/enquiries", nil, 200, &l)
		return len(l.Enquiries) == 2
	})
	mate.api("POST", "/enquiries/"+second.ID+"/notes", map[string]string{"text": "Swapped him to 4C."}, 201, nil)
	p.waitText(15*time.Second, ".card", "Note added by Crew")

	// The passenger writes again: the card shows the newest words; after a
	// colleague's outcome, a further message flags it.
	followUp := func(ext, text string) {
		g.api("POST", "/enquiries", map[string]any{
			"channel": "facebook", "external_id": ext, "handle": "pieter.j", "language": "nl", "thread": "fb:pieter.j", "text": text,
		}, 200, nil)
	}
	followUp("fb-3", "Nog steeds kapot, help alstublieft.")
	p.waitText(15*time.Second, ".card", "Nog steeds kapot")
	mate.api("POST", "/enquiries/"+second.ID+"/resolve", map[string]string{"outcome": "resolved", "note": "Moved to 4C."}, 200, nil)
	p.waitText(15*time.Second, ".card", "Resolved by Crew")
	followUp("fb-4", "4C is ook kapot!")
	p.waitText(15*time.Second, ".card .chip-flagged", "Wrote again")

	// Ground replies to Anna: the crew see what was said.
	g.api("POST", "/enquiries/"+s.Enquiry+"/reply", map[string]string{"text": "So sorry, Anna: the crew will look after you today."}, 201, nil)

	// Detail: the words, ground's instructions and notes; acknowledge in one tap.
	p.clickText(".card", "Anna de Vries")
	p.waitText(10*time.Second, "#d-info", "My meal on the way out was cold")
	p.waitText(5*time.Second, "#d-info", "Customer is a frequent flyer")
	p.waitText(15*time.Second, "#d-info", "So sorry, Anna: the crew will look after you today.")
	p.viewport(tabletLandscape)
	p.click("#d-ack")
	p.waitText(10*time.Second, "#d-seen", "Seen by")
	for _, v := range allViewports {
		p.layout(v, "detail", true)
	}

	// Record the outcome with a quick note.
	p.clickText(".outcome", "Resolved")
	p.clickText(".quick", "Served first and apologised")
	p.waitJS(5*time.Second, "the note holds the quick note", `document.querySelector("#d-note").value.includes("Served first")`)
	p.click("#d-save")
	p.waitText(10*time.Second, "#d-resolution", "Recorded: Resolved")
	eventually(t, 15*time.Second, "the outcome reaches the ground", func() bool {
		var e struct{ Status string }
		g.api("GET", "/enquiries/"+s.Enquiry, nil, 200, &e)
		return e.Status == "resolved"
	})
	p.waitText(10*time.Second, ".sync", "everything sent")

	// Seat map: 12A done, 3C still to do.
	p.openCrew(c, "/#/seats")
	p.waitJS(10*time.Second, "12A done and 3C done but flagged on the seat map",
		`document.querySelector('.sm-seat[data-seat="12A"].sm-done') && document.querySelector('.sm-seat[data-seat="3C"].sm-flagged')`)
	for _, v := range allViewports {
		p.layout(v, "seatmap", true)
	}
	p.click(`.sm-seat[data-seat="3C"]`)
	p.waitText(10*time.Second, "#d-info", "Mijn stoel op de heenreis was kapot.")
	p.waitText(5*time.Second, "#d-info", "4C is ook kapot!")
	p.waitText(5*time.Second, "#d-info", "The passenger wrote again")
	p.layout(tabletLandscape, "detail-flagged", true)

	// Theme: the toggle switches to light and is remembered.
	p.click("#theme-btn")
	p.waitJS(5*time.Second, "light theme", `document.documentElement.dataset.theme === "light"`)
	p.openCrew(c, "/")
	p.waitText(10*time.Second, ".card", "Anna de Vries")
	p.waitJS(5*time.Second, "light theme remembered", `document.documentElement.dataset.theme === "light"`)
	p.layout(tabletPortrait, "list-light", true)
}

// Ensure a tablet with no saved theme follows the system: dark in a dim
// cabin by default, light when the system asks for it.
func TestCrewThemeFollowsSystem(t *testing.T) {
	g := startGround(t)
	c := startCabin(t, g, "tablet")
	b := newBrowser(t)
	p := newPage(t, b, "crew-light")
	p.preferColorScheme("light")
	p.openCrew(c, "/")
	p.waitJS(10*time.Second, "light theme from the system", `document.documentElement.dataset.theme === "light"`)
	p.waitText(10*time.Second, "main", "Open your flight")
	p.layout(tabletLandscape, "open-flight-light", true)

	d := newPage(t, b, "crew-dark")
	d.preferColorScheme("dark")
	d.openCrew(c, "/")
	d.waitJS(10*time.Second, "dark theme from the system", `document.documentElement.dataset.theme === "dark"`)
	d.layout(tabletLandscape, "open-flight-dark", true)
}

// Ensure every key of every language exists in every other language, and
// that picking a language translates the app (and is remembered).
func TestCrewTranslations(t *testing.T) {
	_, _, c := assignedOnTablet(t, "tablet")
	b := newBrowser(t)
	p := newPage(t, b, "crew")
	p.openCrew(c, "/")
	p.waitText(15*time.Second, ".card", "Anna de Vries")

	missing := eval[[]string](p, `(() => {
	  const S = window.CabinCrewI18n.STRINGS, out = [];
	  const langs = Object.keys(S);
	  for (const a of langs) for (const b of langs) for (const k of Object.keys(S[a])) {
	    if (!(k in S[b])) out.push(b + " lacks " + k);
	    else if (typeof S[a][k] !== typeof S[b][k]) out.push(b + " " + k + ": plural form differs from " + a);
	    else if (S[b][k] === "" ) out.push(b + " " + k + " is empty");
	  }
	  for (const l of ["en", "nl", "fr", "es"]) if (!S[l]) out.push("no " + l);
	  // every key the page uses in data-i18n is in the dictionaries
	  for (const el of document.querySelectorAll("[data-i18n]")) if (!(el.dataset.i18n in S.en)) out.push("unknown key " + el.dataset.i18n);
	  return out;
	})()`)
	for _, m := range missing {
		t.Error(m)
	}

	for _, l := range []struct{ code, list, seats string }{
		{"nl", "Te doen", "Stoelenkaart"}, {"fr", "À faire", "Plan de cabine"}, {"es", "Pendientes", "Mapa de asientos"},
	} {
		p.waitJS(10*time.Second, "the language picker", `document.querySelector("#lang-select")`)
		p.eval0(fmt.Sprintf(`(s => { s.value = %q; s.dispatchEvent(new Event("change")); })(document.querySelector("#lang-select"))`, l.code))
		p.waitText(15*time.Second, ".section-title", l.list)
		p.waitText(5*time.Second, "#views", l.seats)
		if got := eval[string](p, `document.documentElement.lang`); got != l.code {
			t.Errorf("html lang = %q, want %q", got, l.code)
		}
		p.layout(tabletLandscape, fmt.Sprintf("list-%s", l.code), true)
		p.layout(tabletPortrait, fmt.Sprintf("list-%s", l.code), true)
		p.clickText(".card", "Anna de Vries")
		p.waitJS(10*time.Second, "the detail", `document.querySelector("#d-save")`)
		p.layout(tabletPortrait, fmt.Sprintf("detail-%s", l.code), true)
		p.layout(tabletLandscape, fmt.Sprintf("detail-%s", l.code), true)
		p.open(p.url() + "#/")
	}
}
