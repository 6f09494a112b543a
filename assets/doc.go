// Package assets holds the web UIs, embedded in the binaries.
//
// Plain HTML, CSS and JavaScript, no build step and no network fetches
// outside the serving origin:
//
//   - crew: the cabin-crew tablet app, served at / by the device service
//     (Crew()).
//   - console: the ground agent console (index.html) and the fleet dashboard
//     (fleet.html), served at / by the ground server (Console()).
//   - shared: the helpers both load from /shared/ (DOM builder, the one fetch
//     wrapper, time formatting, polling loops, toasts).
//
// Crew and Console return a tree with shared/ mounted inside it, ready for
// http.FileServerFS.
package assets
