// Package syncproto is the domain shared by the ground server and the cabin
// tablets: ops, the hybrid logical clock, the fold that turns ops into an
// enquiry's state, the sync protocol's messages and frame codec, and the
// error codes. It does no I/O beyond the codec, and imports only the
// standard library, uuid and zstd.
//
// # Ops and the fold
//
// Every change to an enquiry is an Op: a UUIDv7 id, the enquiry id, a kind
// (create, assign, recall, note, ack, outcome, close; and on the customer
// side message, reply, merge), the actor (an agent,
// or a device with the crew member), an HLC timestamp and a JSON payload.
// Ops are immutable and idempotent by id. The id of an enquiry is the id of
// its create op.
//
// Fold computes an enquiry's state from its ops in fold order: the create op
// first, then by (HLC, op id). Every replica runs the same Fold, so any two
// replicas holding the same set of ops hold the same state, whatever order
// and however often the ops arrived. Rules (Enquiry.Check):
//
//	create   first op; a second create is ignored
//	assign   from new, assigned (move or new instructions), escalated,
//	         not_resolved, passenger_not_on_board -> assigned
//	recall   from assigned only (the crew have not acted) -> new
//	ack      from assigned -> acknowledged
//	outcome  from any status but closed, once the enquiry has been on a flight
//	         -> resolved | not_resolved | passenger_not_on_board | escalated;
//	         a later outcome supersedes an earlier one, which stays in the
//	         history marked "superseded"
//	close    from new or an outcome -> closed; from assigned or acknowledged
//	         only with force and a reason
//	note     always; notes are an append-only set
//	message  a customer follow-up on the same channel thread: from any
//	         status but closed; appends to the thread (messages, kept in
//	         time order) and, after a crew outcome, sets flagged
//	reply    an agent's reply sent to the customer: from any status but
//	         closed; the first one folded is the first response; clears
//	         awaiting_since and flagged
//	merge    into: the absorbed enquiry -> closed with merged_into; refused
//	         while the crew may act on it (assigned, acknowledged)
//	         from:  the survivor takes a copy of the absorbed thread; any
//	         status but closed, once per absorbed enquiry
//	unknown  a kind this replica does not know (a newer peer's) is kept
//	         in the history as ignored, so an older tablet never breaks
//
// awaiting_since (the oldest customer message no reply has answered) is
// set by create and message, by an escalated outcome (the enquiry returns
// to the ground queue with the crew's note), and from a merged thread;
// reply and close clear it. flagged is cleared by reply, assign and close.
//
// An op that is illegal where it falls in fold order (say, a recall that an
// offline crew's outcome overtook) is kept in the history marked "ignored"
// with the reason, and changes nothing: concurrent edits never vanish
// silently, and a late edit cannot resurrect a recalled or closed enquiry.
// The APIs refuse such an op up front with illegal_transition when they can
// see it is illegal.
//
// "delivered" is not folded: the ground keeps a delivery receipt when a
// device of the flight acknowledges changes that cover the current
// hand-off, and shows an assigned enquiry with a receipt as delivered. A
// tablet shows every assigned enquiry it holds as delivered.
//
// # Transport
//
// The ground stores each new op once and gives it a sequence number, and
// indexes it in the feed of every flight that must hear of it: the flight
// the enquiry is on, and the flight it just left. When an enquiry arrives
// on a flight, the feed entry is a join, and a device pulling it receives
// the enquiry's earlier ops too. An op that sorts before ops already folded
// (crew work recorded offline, arriving after the agent acted) can change
// what those later ops did, such as whether a recall still holds; its
// entry is then a join in the feed of every flight the enquiry was ever
// on, so each of those tablets refolds from the whole history. A tablet
// keeps the ops of an enquiry that left its flights until it has caught up
// with all of them, and its own ops until the flight is purged (the ground
// leaves a device's own ops out of its pages, except inside a join).
// A device's cursor for a flight is the
// sequence up to which it has stored that flight's feed; it pulls
// "everything for flight F after cursor N" and resumes there after any
// interruption.
//
// # Frames
//
// Each WebSocket binary message is one frame:
//
//	byte 0    frame type (FrameHello ... FrameError)
//	byte 1    flags: bit 0 set = payload is one zstd frame
//	bytes 2.. payload: the message as JSON; for PUSH and CHANGES a
//	          uvarint length, the JSON of the message's other fields, and
//	          its ops in the binary encoding below
//
// Ops in a frame (and each op of the ground's log) are encoded column by
// column (AppendOps, DecodeOps): a format byte, the op count, then every
// id XORed with the one before it (ids from one source share their node
// and most of their time, so this is mostly zeros), every enquiry as a
// back-reference to an op of the batch or 16 bytes, every HLC as a signed
// varint delta, a table of kinds and one of actors with an index per op,
// and last the JSON payloads as written, grouped by kind. Like with like
// gives zstd more to share than op after op: a full pull of the 10,000
// enquiry sample went from 72 to 54 bytes per enquiry, and neither
// end runs a JSON decoder on the envelope. Counts and lengths are checked
// against the bytes left before allocating; payloads must be JSON and
// strings UTF-8, or the frame is refused with bad_frame.
//
// The limit (Welcome.MaxFrame, 4 MiB by default) applies to the frame as
// sent and to the decompressed payload, checked before allocating, so a
// compressed bomb is refused with too_large. Payloads under 128 bytes are
// sent uncompressed; the rest at zstd's default level, one zstd frame per
// sync frame.
//
// # Session
//
//	device                                   ground
//	HELLO {protocol, device_id, token,  ->
//	       epoch, flights{F: cursor},
//	       checkpoints{F: op id}, state,
//	       roster_version, live_roster}
//	                                    <-   WELCOME {protocol, epoch, session_id, hlc,
//	                                                  clock, heartbeat_ms, max_frame,
//	                                                  max_batch, resync, repull, flights,
//	                                                  roster (if not roster_version)}
//	                                    <-   CHANGES {flight, ops, cursor,          (catch-up pages,
//	                                                  cursor_op, more, heads (other flights, last page)}
//	CHANGES_ACK {flight, cursor}        ->                   at most 4 unacknowledged)
//	                                    <-   READY {cursors}                       (caught up)
//	PUSH {batch, ops}                   ->
//	                                    <-   PUSH_ACK {batch, results[{id, result, code, message}], heads}
//	                                    <-   CHANGES ...                           (live, as ops land)
//	SUBSCRIBE {flights{F: cursor}}      ->                                         (crew opened a flight)
//	                                    <-   ROSTER {version, crew}                (the roster changed;
//	                                                                                only if live_roster)
//	HEARTBEAT {state}                   <->  HEARTBEAT {clock, hlc}
//	ERROR {code, message}               <->  (then the sender closes the WebSocket
//	                                          with the code as the close reason)
//
// A device calls itself synced (its status's last_sync) only from durable
// facts: its outbox is empty, READY came in this session, no flight has
// pages still to come, and its stored cursors reach the heads the ground
// last sent: those of every flight in a PUSH_ACK, those of the other
// flights on a flight's last page (whose pages may still wait for the
// window).
//
// The hello must arrive within HelloTimeout (10 s). The protocol version
// must equal ProtocolVersion, or the ground answers ERROR protocol_version.
// The device id and token are checked in constant time (unauthorized,
// revoked). WELCOME's flights are the flights the device may serve among
// those it asked for: an admin can bind a device to aircraft or flights,
// and the others are left out of the session (and ops for their enquiries
// are refused out_of_scope). WELCOME carries the crew roster (staff
// numbers, names, argon2id PIN hashes) when the device's roster_version is
// not the ground's (or on a resync), so crew can sign in offline; a device
// that says live_roster also gets a ROSTER frame whenever the roster changes
// during the session, so crew added or removed at the gate count at once. Device ops name the
// signed-in crew member in actor.staff (and actor.name). A session that
// sends more than the ground's frame rate is closed with rate_limited.
//
// Epochs and checkpoints: each ground database has a random epoch, and
// each CHANGES names the op at its cursor (cursor_op), which the device
// keeps with the cursor and sends back in its hello as that flight's
// checkpoint. If the hello carries another epoch, a cursor past the
// ground's head, or a checkpoint the ground's log does not hold at that
// sequence (a restore from backup keeps the epoch, and new writes soon pass
// the old cursor), WELCOME has resync=true: the device sets its cursors to
// zero, puts every op it wrote back into its outbox, drops what it learnt
// from the old database, and the ground streams from zero. Nothing the
// device wrote is discarded; the ground answers duplicate for what it has.
//
// Forced resync: when an admin asks for one, the ground disconnects the
// device with ERROR resync (or waits for its next connection) and its next
// WELCOME has repull=true: the device zeroes its cursors and drops what it
// pulled, keeping its own ops and its outbox untouched (the ground has
// every op it acknowledged, so nothing is pushed again), and the ground
// streams from zero. A device that predates the field ignores it and just
// receives its flights again from zero, which is idempotent.
//
// Device state, in HELLO and in every device HEARTBEAT (fields are added,
// never renamed: a peer ignores what it does not know): app_version,
// protocol, open_flight, outbox, oldest_pending_ms, dead_letters, hlc,
// clock (the device wall clock, for skew), last_push, last_pull,
// last_error, store_bytes, cursors. The ground keeps the latest and a
// per-minute 24-hour history for the fleet view.
//
// Push: the device sends at most max_batch ops per PUSH, one PUSH in
// flight, oldest first. The ground answers PUSH_ACK only after the ops are
// durably committed, with one result per op: applied, duplicate (stored
// before; idempotent by op id), or refused with a code (invalid,
// forbidden, out_of_scope, unknown_enquiry). The device removes applied
// and duplicate ops from its outbox and moves refused ones to its dead
// letters; a refused op never blocks the ones behind it. The outbox is
// pushed on connect, on every local write, and every few seconds.
//
// Pull: CHANGES carries a page of one flight's feed; the device stores the
// ops and the cursor in one transaction, then sends CHANGES_ACK. The ground
// keeps the acknowledged cursor (for the fleet view's cursor lag and the
// delivery receipts); an ack frees its window slot at once, and the
// cursors acknowledged meanwhile are saved together in the next commit, so
// a long catch-up does not wait for a disk flush per page. READY follows
// the last of those saves. Ops the device pushed itself are left out of its
// pages, except inside a join.
//
// Liveness: both sides send HEARTBEAT every heartbeat_ms (10 s); a side that
// receives nothing for three intervals drops the connection as half-open
// and the device reconnects with capped exponential backoff and jitter. A
// device that reconnects replaces its old session at once. Every write has
// a deadline, and a device whose send queue fills is dropped
// (slow_consumer) rather than allowed to hold memory.
//
// Errors end the session: protocol_version, unauthorized, revoked,
// bad_frame (unknown type or flags, garbled compression, malformed JSON, a
// text message), too_large (a frame or push over its limit), protocol (a
// frame at the wrong time, an ack for changes never sent), timeout,
// slow_consumer, shutting_down, resync (reconnect now for a forced
// resync), internal.
package syncproto
