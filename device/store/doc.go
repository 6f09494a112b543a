// Package store is the cabin tablet's local store, on bbolt.
//
// Every crew action is one transaction that writes the op, its outbox
// entry and the enquiry's new folded state, so a crash leaves all of it or
// none. Changes pulled from the ground are stored together with the
// flight's cursor in one transaction, so a cursor never covers changes that
// were not stored. An op leaves the outbox only when the ground has
// acknowledged it (applied or duplicate); a refused op moves to the dead
// letters, where crew and admins can see it, and never blocks the ops
// behind it.
//
// An enquiry that leaves the tablet's flights leaves the crew's view at
// once; its ops stay, hidden, until a flight's purge (a lagging feed, or a
// flight the crew open later, could otherwise bring it back in a stale
// state). Ops written on this tablet are kept until the flight is purged:
// the ground does not send a tablet its own ops back, and after a ground
// restored from a backup they may exist nowhere else.
//
// Buckets:
//
//	meta       "device_id", "epoch", "hlc", "current_flight", "last_sync", "last_push", "last_pull", "pushed" (log seq + op id: see PushMark)
//	flights    flight id -> cursor (8 bytes): the flights this tablet serves
//	ops        op id (16) -> op JSON
//	enqops     enquiry id (16) + op id (16) -> nothing
//	enquiries  enquiry id -> folded state JSON
//	outbox     sequence (8) -> op id: ops waiting for the ground, in write order
//	outboxidx  op id -> sequence
//	dead       op id -> DeadLetter JSON
//	stray      enquiry id -> nothing: left the tablet's flights, ops not yet deleted
//	list       urgency key -> crew summary JSON (the list the crew app shows)
package store
