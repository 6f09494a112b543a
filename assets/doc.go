// Package assets holds the web UIs, embedded in the binaries.
//
// FS contains two trees of static files (plain HTML, CSS and JavaScript, no
// build step and no network fetches):
//
//   - crew: the cabin-crew tablet UI, served at / by the device service.
//   - console: the ground agent console, served at / by the ground server.
//
// Serve one tree with fs.Sub, for example:
//
//	sub, _ := fs.Sub(assets.FS, "crew")
//	http.Handle("/", http.FileServerFS(sub))
package assets
