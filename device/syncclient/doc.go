// Package syncclient keeps a cabin tablet in sync with the ground server
// whenever a link exists, and keeps trying when it does not.
//
// Run loops for the life of the service: dial, handshake, then push the
// outbox in batches and store pulled changes until the connection ends,
// then wait with capped exponential backoff and jitter and dial again. A
// session has one reader, one writer (the only goroutine that writes to the
// connection), a pusher woken by local writes and by a timer, and a
// heartbeat that also carries the device's state. Silence for three
// heartbeat intervals ends a session as half-open.
package syncclient
