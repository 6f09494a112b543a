// Package events fans live events out to subscribers: the admin
// dashboard's and the agent console's Server-Sent Events streams
// (GET /api/v1/events) hear device-state changes, alerts raised and
// cleared, and enquiry changes without polling.
//
// Publish never blocks: each subscriber has a bounded buffer, and one that
// falls behind is dropped (its stream ends; an EventSource reconnects and
// reloads), so a stalled browser tab cannot hold memory or slow a sync
// session that publishes.
package events
