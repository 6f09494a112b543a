// Package store is the ground server's system of record, on bbolt.
//
// It stores every op once, in a log ordered by a server sequence number,
// keeps each enquiry's folded state beside its ops, and indexes the log per
// flight so that a device can pull "everything for my flights after cursor
// N". Writes from many devices share commits through bbolt's DB.Batch.
//
// The rest of the server sees domain operations (Apply, Changes, flights,
// devices), never buckets, so another implementation (PostgreSQL, for
// several ground nodes) can sit behind the same methods.
//
// Buckets:
//
//	meta       "epoch" -> random id of this database; "hlc" -> highest HLC seen
//	log        seq (8 bytes, big endian) -> op JSON
//	opidx      op id (16 bytes) -> seq
//	enqops     enquiry id (16) + seq (8) -> nothing: the ops of an enquiry
//	enquiries  enquiry id -> folded state (JSON)
//	byext      channel 0x00 external_id -> enquiry id (idempotent intake)
//	feed       flight id 0x00 seq -> enquiry id (16) + flags (1): a flight's changes
//	delivery   enquiry id -> Delivery (JSON)
//	flights    flight id -> Flight (JSON)
//	devices    device id -> Device (JSON)
package store
