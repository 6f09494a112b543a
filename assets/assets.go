package assets

import "embed"

// FS holds the crew and console web UIs. Use fs.Sub(FS, "crew") or
// fs.Sub(FS, "console") to get a tree to serve at /.
//
//go:embed crew console
var FS embed.FS
