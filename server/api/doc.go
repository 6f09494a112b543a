// Package api is the ground server's HTTP API on echo: the REST API under
// /api/v1 (bearer token), the channel webhooks under /api/v1/webhooks
// (signed by the platform instead), the public response-time figure under
// /public, the sync WebSocket at /sync, health probes, and the web UIs. All
// routes are in one table in Register.
package api
