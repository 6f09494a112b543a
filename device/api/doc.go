// Package api is the cabin service's local HTTP API and the crew UI. Every
// handler answers from the local store and never waits for the network:
// crew actions are written locally and the sync client is only woken.
package api
