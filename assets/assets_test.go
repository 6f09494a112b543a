package assets_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cabincare/cabincare/assets"
)

// Ensure each app's tree serves its own files and the shared ones at
// /shared/, and nothing of the other app.
func TestTrees(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tree      fs.FS
		has, lack []string
	}{
		{"crew", assets.Crew(), []string{"index.html", "app.js", "i18n.js", "app.css", "shared/ui.js"}, []string{"fleet.html", "fleet.js", "crew/app.js"}},
		{"console", assets.Console(), []string{"index.html", "app.js", "fleet.html", "fleet.js", "app.css", "shared/ui.js"}, []string{"i18n.js", "console/app.js"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.FileServerFS(tc.tree))
			defer srv.Close()
			get := func(path string) (int, string) {
				res, err := http.Get(srv.URL + "/" + path)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}
			for _, p := range tc.has {
				if status, _ := get(p); status != 200 {
					t.Errorf("GET /%s = %d, want 200", p, status)
				}
			}
			for _, p := range tc.lack {
				if status, _ := get(p); status != 404 {
					t.Errorf("GET /%s = %d, want 404", p, status)
				}
			}
			// Every script a page loads is in the tree.
			_, index := get("")
			for _, part := range strings.Split(index, `src="`)[1:] {
				src := part[:strings.IndexByte(part, '"')]
				if status, _ := get(src); status != 200 {
					t.Errorf("index.html loads %s: %d", src, status)
				}
			}
		})
	}
}
