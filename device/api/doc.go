// Package api is the cabin service's local HTTP API and the crew UI. Every
// handler answers from the local store and never waits for the network:
// crew actions are written locally and the sync client is only woken.
//
// Crew sign in with a staff number and PIN (POST /api/v1/session), checked
// offline against the roster the ground sent in sync; every route but the
// health probe, the sync status and the sign-in needs the session's bearer
// token (or the automation token), and crew ops carry the staff number.
package api
