package assets

import (
	"embed"
	"io/fs"
	"strings"
)

// FS holds the web UIs' source trees: crew, console and shared.
//
//go:embed crew console shared
var FS embed.FS

// Crew is the crew tablet app to serve at /, with the shared files at /shared/.
func Crew() fs.FS { return withShared("crew") }

// Console is the agent console and the fleet dashboard to serve at /, with the
// shared files at /shared/.
func Console() fs.FS { return withShared("console") }

// withShared roots a tree at dir and mounts shared/ inside it, so both apps
// load one copy of the helpers from the same relative URL.
func withShared(dir string) fs.FS {
	app, err := fs.Sub(FS, dir)
	if err != nil { // IMPORTANT: only possible if the embed line above changes
		panic(err)
	}
	return overlay{app: app}
}

type overlay struct{ app fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	if name == "shared" || strings.HasPrefix(name, "shared/") {
		return FS.Open(name)
	}
	return o.app.Open(name)
}
