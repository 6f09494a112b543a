// Package fleet is the sync admins' view of the tablets: what each device
// reported last and over the last 24 hours, what follows from it (online,
// cursor lag, time since its last sync, clock skew), the health rules that
// turn that into alerts with reasons, pre-departure readiness per flight,
// and the lifecycle actions (rename, forced resync, decommission, revoke).
//
// The Monitor hears the sync hub (hub.Observer): every report updates the
// live view and, at most once a minute per device, the persisted history.
// Health is computed on read from durable facts and an injectable clock,
// so GET /api/v1/alerts is always current; Run re-evaluates on a ticker
// only to publish alerts raised and cleared as live events.
//
// Every lifecycle action goes through an Auditor, so the audit log can be
// swapped in without touching the actions.
package fleet
