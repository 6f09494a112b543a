package uitest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// viewport is a screen size a page is checked and photographed at.
type viewport struct {
	Name          string
	Width, Height int64
}

var (
	tabletLandscape = viewport{"tablet-landscape", 1024, 768}
	tabletPortrait  = viewport{"tablet-portrait", 768, 1024}
	desktop         = viewport{"desktop", 1440, 900}
	allViewports    = []viewport{tabletLandscape, tabletPortrait, desktop}
)

// chromiumPath finds the browser, or skips (fails under
// CABINCARE_REQUIRE_BROWSER=1) when there is none.
func chromiumPath(t testing.TB) string {
	t.Helper()
	candidates := []string{os.Getenv("CABINCARE_CHROMIUM"), "/usr/bin/chromium"}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, p := range candidates {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	msg := "no Chromium found (set CABINCARE_CHROMIUM or apt-get install chromium)"
	if os.Getenv("CABINCARE_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; set CABINCARE_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile, closed when the
// test ends.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(desktop.Width), int(desktop.Height)),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return bctx
}

// page is one browser tab whose console errors and exceptions are collected.
type page struct {
	t    testing.TB
	ctx  context.Context
	name string

	mu sync.Mutex // guards the fields below
	// tolerate, while set, accepts browser-logged network errors (the
	// ground is down on purpose); scripts' errors still count.
	tolerate bool
	errs     []string
}

// newPage opens a tab named name (used in messages and screenshot names).
// When the test ends it fails on any error the page reported.
func newPage(t testing.TB, browser context.Context, name string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	p := &page{t: t, ctx: ctx, name: name}
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		cancel()
		t.Fatalf("%s: open tab: %v", name, err)
	}
	// Console joins console API calls, uncaught exceptions and the browser
	// log (failed requests included) in one stream.
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			switch {
			case m.IsException():
				p.record(false, fmt.Sprintf("uncaught exception at %s:%d: %s", m.URL, m.Line+1, m.Text))
			case m.Type == chromedp.ConsoleError && m.Source == "network" && strings.HasSuffix(m.URL, "/favicon.ico"):
				// Every app page declares its icon (data:); only the
				// harness's own stops on JSON pages (openCrew's /healthz)
				// make the browser ask for /favicon.ico, at a moment of its
				// choosing.
			case m.Type == chromedp.ConsoleError:
				p.record(m.Source == "network", fmt.Sprintf("console error (%s) %s: %s", m.Source, m.URL, m.Text))
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errs {
			t.Errorf("page %s: %s", name, e)
		}
	})
	return p
}

func (p *page) record(network bool, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if network && p.tolerate {
		return
	}
	p.errs = append(p.errs, msg)
}

// tolerateNetworkErrors says whether failed requests are expected for now.
func (p *page) tolerateNetworkErrors(on bool) {
	p.mu.Lock()
	p.tolerate = on
	p.mu.Unlock()
}

// run runs actions with a time limit, failing the test on an error.
func (p *page) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %s: %v", p.name, what, err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, short(expr), err)
	}
	return v
}

// waitJS polls a JavaScript expression until it is truthy.
func (p *page) waitJS(within time.Duration, what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 6000) : ""`))
			p.t.Fatalf("%s: timed out after %s waiting for %s (err %v); page text:\n%s", p.name, within, what, err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitText waits until the element sel is there and its text contains want.
func (p *page) waitText(within time.Duration, sel, want string) {
	p.t.Helper()
	p.waitJS(within, fmt.Sprintf("%q in %s", want, sel), fmt.Sprintf(
		`Array.from(document.querySelectorAll(%s)).some(e => e.getClientRects().length > 0 && e.textContent.includes(%s))`, jsString(sel), jsString(want)))
}

// click waits for the element and clicks it.
func (p *page) click(sel string) {
	p.t.Helper()
	p.run("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// clickText clicks the first visible element matching sel whose text contains text.
func (p *page) clickText(sel, text string) {
	p.t.Helper()
	p.waitText(10*time.Second, sel, text)
	ok := eval[bool](p, fmt.Sprintf(`(() => { const el = Array.from(document.querySelectorAll(%s)).find(e => e.getClientRects().length > 0 && e.textContent.includes(%s)); if (!el) return false; el.click(); return true; })()`, jsString(sel), jsString(text)))
	if !ok {
		p.t.Fatalf("%s: no %s with text %q", p.name, sel, text)
	}
}

// setValue fills a form field as typing would (the app sees input and change events).
func (p *page) setValue(sel, value string) {
	p.t.Helper()
	p.run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	p.eval0(fmt.Sprintf(`(el => { el.focus(); el.value = %s; el.dispatchEvent(new Event("input", { bubbles: true })); el.dispatchEvent(new Event("change", { bubbles: true })); })(document.querySelector(%s))`, jsString(value), jsString(sel)))
}

// viewport resizes the tab.
func (p *page) viewport(v viewport) {
	p.t.Helper()
	p.run("viewport "+v.Name, chromedp.EmulateViewport(v.Width, v.Height))
}

// layout checks the page at v: no horizontal overflow and, with touch, every
// visible control at least 44×44 CSS pixels. It also saves a screenshot.
func (p *page) layout(v viewport, screen string, touch bool) {
	p.t.Helper()
	p.viewport(v)
	time.Sleep(150 * time.Millisecond) // let a resize re-layout settle
	for _, pr := range p.layoutProblems(touch) {
		p.t.Errorf("%s %s at %s: %s", p.name, screen, v.Name, pr)
	}
	p.screenshot(screen + "-" + v.Name)
}

// layoutProblems lists what is wrong with the layout at the current size.
func (p *page) layoutProblems(touch bool) []string {
	p.t.Helper()
	return eval[[]string](p, fmt.Sprintf(layoutJS, touch))
}

// takeErrors returns the errors the page reported so far and forgets them.
func (p *page) takeErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	errs := p.errs
	p.errs = nil
	return errs
}

const layoutJS = `(() => {
  const out = [];
  const vw = document.documentElement.clientWidth;
  // Wide content inside its own horizontal scroller (a table) is fine.
  const inScroller = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const ox = getComputedStyle(a).overflowX;
      if (ox === "auto" || ox === "scroll" || ox === "hidden") return true;
    }
    return false;
  };
  if (document.documentElement.scrollWidth > vw + 1)
    out.push("horizontal overflow: content " + document.documentElement.scrollWidth + "px wide in a " + vw + "px viewport");
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 1 && getComputedStyle(el).position !== "fixed" && !inScroller(el))
      { out.push("element sticks out on the right: " + el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + String(el.className || "").replace(/ /g, ".") + " right=" + Math.round(r.right)); break; }
  }
  if (%t) {
    for (const el of document.querySelectorAll("button, a[href], input:not([type=hidden]), select, textarea, summary, [role=button]")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === "hidden" || cs.display === "none") continue;
      if (r.height < 44 || r.width < 44)
        out.push("touch target under 44px: " + el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " \"" + (el.innerText || el.getAttribute("aria-label") || "").trim().slice(0, 30) + "\" " + Math.round(r.width) + "x" + Math.round(r.height));
    }
  }
  return out;
})()`

// screenshot writes a PNG of the viewport to the artefacts folder.
func (p *page) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("%s: screenshot: %v", p.name, err)
	}
	dir := artefactsDir(p.t)
	file := filepath.Join(dir, safeName(p.t.Name()+"-"+name)+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Fatalf("write screenshot: %v", err)
	}
}

func artefactsDir(t testing.TB) string {
	t.Helper()
	base := os.Getenv("CABINCARE_ARTEFACTS")
	if base == "" {
		base = filepath.Join("..", "artefacts")
	}
	dir := filepath.Join(base, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artefacts folder: %v", err)
	}
	return dir
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func short(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// open navigates the tab to url.
func (p *page) open(url string) {
	p.t.Helper()
	p.run("open "+url, chromedp.Navigate(url))
}

// openCrew opens the crew app of cabin c at path, signed in: the tab's
// session storage holds a token the cabin accepts, as after a crew sign-in.
func (p *page) openCrew(c *cabin, path string) {
	p.t.Helper()
	p.open(c.url() + "/healthz")
	p.eval0(`sessionStorage.setItem("cabincare.crew.token", ` + jsString(cabinToken) + `)`)
	p.open(c.url() + path)
}

// eval0 evaluates a JavaScript expression for its effect.
func (p *page) eval0(expr string) {
	p.t.Helper()
	eval[any](p, expr)
}

// url is the address of the page without its fragment.
func (p *page) url() string {
	p.t.Helper()
	return eval[string](p, `location.origin + location.pathname`)
}
