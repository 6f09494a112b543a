// Package server wires the ground server together: the store, the care
// workflow, the sync hub and the HTTP API, with one lifecycle (Open, Run,
// Close) that cmd/ground and the end-to-end tests share.
//
// Subpackages: store (bbolt system of record), care (the agents'
// workflow), hub (device sync sessions), api (HTTP), fleet (the sync
// admins' view, health rules and device lifecycle), events (live events
// for the dashboards).
package server
