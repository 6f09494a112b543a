// Package store is the ground server's system of record, on bbolt.
//
// It stores every op once, in a log ordered by a server sequence number,
// keeps each enquiry's folded state beside its ops, and indexes the log per
// flight so that a device can pull "everything for my flights after cursor
// N". Writes from many devices share commits through bbolt's DB.Batch.
//
// The log is the truth and everything else is projected from it. A ground
// write projects its ops in its own commit; a device's push is logged and
// acknowledged first and projected by a background goroutine in a second
// commit (project.go), so the push waits for a few appended pages, not for
// the state, care and index pages its ops touch all over the file. Every
// projecting commit starts with what is pending, in log order.
//
// The rest of the server sees domain operations (Apply, Changes, flights,
// devices), never buckets, so another implementation (PostgreSQL, for
// several ground nodes) can sit behind the same methods.
//
// Buckets:
//
//	meta       "epoch" -> random id of this database; "hlc" -> highest HLC seen;
//	           "projected" -> the last log sequence projected (8 bytes)
//	log        seq (8 bytes, big endian) -> op (syncproto.AppendOps; JSON in older files)
//	opidx      op id (16 bytes) -> seq
//	enqops     enquiry id (16) + seq (8) -> nothing: the ops of an enquiry
//	enquiries  enquiry id -> folded state (JSON)
//	byext      channel 0x00 external_id -> enquiry id (idempotent intake)
//	feed       flight id 0x00 seq -> enquiry id (16) + flags (1): a flight's changes
//	carried    enquiry id (16) + flight id -> nothing: the flights whose feed ever carried it (device scope)
//	delivery   enquiry id -> Delivery (JSON)
//	flights    flight id -> Flight (JSON)
//	devices    device id -> Device (JSON)
//
// Manifests (manifest.go), looked up by index, never scanned:
//
//	pax            flight id 0x00 seat -> Passenger (JSON)
//	paxpnr         PNR 0x00 flight 0x00 seat -> nothing
//	paxname        normalised name (and "first initial" forms) 0x00 flight 0x00 seat -> nothing
//	paxhandle      normalised handle 0x00 flight 0x00 seat -> nothing (any channel)
//	paxchanhandle  channel 0x00 handle 0x00 flight 0x00 seat -> nothing
//
// The care workflow (care.go, templates.go), kept in the projection of
// every op on the enquiry:
//
//	care        enquiry id -> Care (JSON): triage, target, deadline, reply window
//	queue       deadline ms (8) + (65535 - score) (2) + id -> nothing: open enquiries
//	open        received ms (8) + id -> nothing: open enquiries by age
//	threads     channel 0x00 thread -> id of the thread's open enquiry (or the one it merged into)
//	figfirst    at ms (8) + id -> Figure: first responses
//	figresolve  at ms (8) + id -> Figure: resolutions
//	figonboard  at ms (8) + id -> Figure: crew outcomes
//	arrivals    received ms (8) + id -> first response ms (8), or nothing yet
//	templates   template id -> Template (JSON)
//
// byext also maps the external id of each customer follow-up (message op)
// to its enquiry, so a redelivered follow-up is a duplicate.
package store
