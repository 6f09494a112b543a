// Package api is the ground server's HTTP API on echo: the REST API under
// /api/v1 (a bearer token or a session cookie with its CSRF header, and a
// role per route: auth.go), login and device enrolment (open: they carry
// their own secret), the channel webhooks under /api/v1/webhooks
// (signed by the platform instead), the public response-time figure under
// /public, the sync WebSocket at /sync, health probes, and the web UIs. All
// routes are in one table in Register.
package api
