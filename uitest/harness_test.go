package uitest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Ensure the checks themselves bite: a page that logs an error, throws, and
// fails a request is reported three times, and a page that overflows with
// small buttons fails the layout check.
func TestHarnessCatchesProblems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bad":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<!doctype html><body><div style="width:3000px">wide</div><button style="width:20px;height:20px">x</button>
<script>console.error("boom"); fetch("/missing"); setTimeout(() => { throw new Error("thrown") }, 0);</script>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	b := newBrowser(t)
	p := newPage(t, b, "bad")
	p.viewport(tabletLandscape)
	p.open(srv.URL + "/bad")
	var errs []string
	deadline := time.Now().Add(10 * time.Second)
	for len(errs) < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		errs = append(errs, p.takeErrors()...)
	}
	all := strings.Join(errs, "\n")
	for _, want := range []string{"boom", "thrown", "404"} {
		if !strings.Contains(all, want) {
			t.Errorf("the page's %q was not reported; got:\n%s", want, all)
		}
	}
	// Every error of this page is deliberate, and the browser may still
	// report one (its favicon's 404) after the three above.
	p.tolerateNetworkErrors(true)
	problems := strings.Join(p.layoutProblems(true), "\n")
	for _, want := range []string{"horizontal overflow", "touch target under 44px"} {
		if !strings.Contains(problems, want) {
			t.Errorf("layout check missed %q; got:\n%s", want, problems)
		}
	}
	p.takeErrors()
}
