package syncproto

import (
	"time"

	"github.com/google/uuid"
)

// ProtocolVersion is the sync protocol version this build speaks. A peer
// with another version is refused with CodeProtocolVersion. Version 2
// carries the ops of PUSH and CHANGES in the binary encoding (AppendOps)
// instead of JSON.
const ProtocolVersion = 2

// FrameType identifies the message a frame carries.
type FrameType byte

// Frame types. The direction is device (D) to server (S) or back.
const (
	FrameHello      FrameType = 1  // D->S Hello: first frame, within HelloTimeout
	FrameWelcome    FrameType = 2  // S->D Welcome: handshake accepted
	FramePush       FrameType = 3  // D->S Push: a batch of the device's ops
	FramePushAck    FrameType = 4  // S->D PushAck: per-op results, after a durable write
	FrameChanges    FrameType = 5  // S->D Changes: ops of one flight after a cursor
	FrameChangesAck FrameType = 6  // D->S ChangesAck: stored durably up to a cursor
	FrameReady      FrameType = 7  // S->D Ready: catch-up finished, live from now on
	FrameHeartbeat  FrameType = 8  // both ways: Heartbeat
	FrameSubscribe  FrameType = 9  // D->S Subscribe: the device now serves these flights
	FrameError      FrameType = 10 // both ways: Error, then the sender closes
	FrameRoster     FrameType = 11 // S->D Roster: the crew roster changed (to devices whose Hello.LiveRoster is set)
)

var frameNames = map[FrameType]string{
	FrameHello: "hello", FrameWelcome: "welcome", FramePush: "push", FramePushAck: "push_ack",
	FrameChanges: "changes", FrameChangesAck: "changes_ack", FrameReady: "ready",
	FrameHeartbeat: "heartbeat", FrameSubscribe: "subscribe", FrameError: "error",
	FrameRoster: "roster",
}

func (t FrameType) String() string {
	if n, ok := frameNames[t]; ok {
		return n
	}
	return "unknown"
}

// Known reports whether t is a frame type of this protocol version.
func (t FrameType) Known() bool { _, ok := frameNames[t]; return ok }

// DeviceState is what a device reports about itself in Hello and in every
// heartbeat. The server keeps the latest report for the fleet view.
type DeviceState struct {
	AppVersion string `json:"app_version,omitempty"`
	// Protocol is the sync protocol version the device speaks (0 from
	// devices older than the field).
	Protocol int `json:"protocol,omitempty"`
	// OpenFlight is the flight the crew have open on the tablet.
	OpenFlight   string `json:"open_flight,omitempty"`
	Outbox       int    `json:"outbox"`
	OldestMillis int64  `json:"oldest_pending_ms,omitempty"` // unix ms of the oldest op in the outbox
	DeadLetters  int    `json:"dead_letters,omitempty"`
	HLC          HLC    `json:"hlc"`
	Clock        int64  `json:"clock"` // the device's wall clock, unix ms, for skew
	LastPush     int64  `json:"last_push,omitempty"`
	LastPull     int64  `json:"last_pull,omitempty"`
	LastError    string `json:"last_error,omitempty"`
	StoreBytes   int64  `json:"store_bytes,omitempty"`
	// Cursors is the device's durable cursor per flight it serves.
	Cursors map[string]uint64 `json:"cursors,omitempty"`
}

// Hello opens a sync session.
type Hello struct {
	Protocol int    `json:"protocol"`
	DeviceID string `json:"device_id"`
	Token    string `json:"token"`
	// Epoch is the server epoch the device last synced with ("" if never).
	Epoch string `json:"epoch,omitempty"`
	// Flights maps each flight the device serves to its cursor: the server
	// sequence up to which it has durably stored that flight's changes.
	Flights map[string]uint64 `json:"flights"`
	// Checkpoints names, per flight, the op at the device's cursor (from
	// Changes.CursorOp). A ground whose log holds another op at that
	// sequence, or none, is not the database the device synced with (a
	// restore from backup keeps the epoch) and answers with Resync.
	Checkpoints map[string]uuid.UUID `json:"checkpoints,omitempty"`
	// Pushed is the highest place in the ground's log where the ground said
	// it stored one of this device's ops (from PushAck.Stored). A device's
	// pushes usually sit past its pull cursors, so a backup taken between
	// the two would lose them unseen by Checkpoints; a ground whose log
	// holds another op there, or none, answers with Resync too.
	Pushed *LogMark    `json:"pushed,omitempty"`
	State  DeviceState `json:"state"`
	// RosterVersion is the version of the crew roster the device holds
	// (0: none); the ground sends the roster in Welcome when it differs.
	RosterVersion uint64 `json:"roster_version,omitempty"`
	// LiveRoster says the device takes ROSTER frames during the session,
	// so crew added or removed on the ground can sign in (or no longer)
	// without waiting for the next connection. Older devices leave it
	// unset and get the roster only in Welcome.
	LiveRoster bool `json:"live_roster,omitempty"`
	// Purges are the purge receipts the ground has not acknowledged yet
	// (Welcome.PurgesRecorded).
	Purges []PurgeReceipt `json:"purges,omitempty"`
}

// PurgeReceipt says a tablet removed a closed flight's passenger data:
// how many enquiries and ops, and when. The ground keeps one per device
// and flight, so an admin can show the data is gone from every tablet.
type PurgeReceipt struct {
	Flight    string    `json:"flight"`
	Enquiries int       `json:"enquiries"`
	Ops       int       `json:"ops"`
	At        time.Time `json:"at"`
}

// Roster is the crew list a tablet checks sign-ins against offline. PINs
// travel and are kept only as argon2id hashes (see SECURITY.md for what
// that does and does not protect).
type Roster struct {
	Version uint64        `json:"version"`
	Crew    []RosterEntry `json:"crew"`
}

// RosterEntry is one crew member.
type RosterEntry struct {
	StaffNumber string `json:"staff_number"`
	Name        string `json:"name"`
	PINHash     string `json:"pin_hash"`
}

// LogMark is a place in the ground's log: a sequence and the op stored there.
type LogMark struct {
	Seq uint64    `json:"seq"`
	Op  uuid.UUID `json:"op"`
}

// Welcome accepts a Hello.
type Welcome struct {
	Protocol  int    `json:"protocol"`
	Epoch     string `json:"epoch"`
	SessionID string `json:"session_id"`
	HLC       HLC    `json:"hlc"`
	Clock     int64  `json:"clock"`
	// HeartbeatMillis is how often each side sends a heartbeat; a side that
	// hears nothing for three intervals drops the connection as half-open.
	HeartbeatMillis int64 `json:"heartbeat_ms"`
	MaxFrame        int   `json:"max_frame"`
	MaxBatch        int   `json:"max_batch"`
	// Resync tells the device that its cursors do not belong to this server
	// database (another epoch, or a sequence ahead of the server's head):
	// it must reset its cursors to zero and push again every op it wrote.
	Resync bool `json:"resync,omitempty"`
	// Repull tells the device that an admin asked for a full resync: it
	// drops what it pulled and its cursors and pulls again from zero,
	// keeping its outbox (the server has every op it acknowledged). A
	// device that does not know the field simply carries on.
	Repull bool `json:"repull,omitempty"`
	// Flights echoes the cursors the server will stream from.
	Flights map[string]uint64 `json:"flights"`
	// Roster is the crew roster, sent only when the device's
	// RosterVersion is not the ground's.
	Roster *Roster `json:"roster,omitempty"`
	// Closed lists the device's flights the ground has closed: their
	// passenger data leaves the tablet once every op is acknowledged and
	// the retention has passed.
	Closed []string `json:"closed,omitempty"`
	// PurgesRecorded names the flights of the hello's purge receipts the
	// ground has stored; the device may forget those receipts.
	PurgesRecorded []string `json:"purges_recorded,omitempty"`
}

// Push carries a batch of the device's ops, oldest first.
type Push struct {
	Batch uint64 `json:"batch"`
	// Ops travel in the binary encoding after the JSON of the other
	// fields (see AppendOps).
	Ops []Op `json:"-"`
}

func (p *Push) opList() *[]Op { return &p.Ops }

// Results of one pushed op.
const (
	ResultApplied   = "applied"   // stored now
	ResultDuplicate = "duplicate" // stored before; nothing changed
	ResultRefused   = "refused"   // never will be stored; see Code
)

// OpResult is the server's answer for one pushed op.
type OpResult struct {
	ID      uuid.UUID `json:"id"`
	Result  string    `json:"result"`
	Code    string    `json:"code,omitempty"`
	Message string    `json:"message,omitempty"`
}

// PushAck answers a Push once its ops are durably stored.
type PushAck struct {
	Batch   uint64     `json:"batch"`
	Results []OpResult `json:"results"`
	// Heads is the feed head of each flight the device serves, as of this
	// answer: the device may call itself synced only once its cursors
	// reach them, since changes may be on their way that it has not seen.
	Heads map[string]uint64 `json:"heads,omitempty"`
	// Stored is the highest place in the log of the ops of this batch the
	// ground stored (applied or duplicate), for the device's next Hello.
	Stored *LogMark `json:"stored,omitempty"`
}

// Changes carries ops of one flight, in server order. Cursor is the server
// sequence the device may store as its cursor once it has stored Ops.
type Changes struct {
	Flight string `json:"flight"`
	// Ops travel in the binary encoding after the JSON of the other
	// fields (see AppendOps).
	Ops    []Op   `json:"-"`
	Cursor uint64 `json:"cursor"`
	// CursorOp is the op at sequence Cursor in the ground's log: the
	// device keeps it with the cursor and sends it back as its checkpoint.
	CursorOp uuid.UUID `json:"cursor_op"`
	// More is true while the server has more catch-up pages for the flight.
	More bool `json:"more,omitempty"`
	// Heads, on the last page of a flight (More false) of a session serving
	// several, is the feed head of each of its other flights: pages of
	// those may still be waiting for the window, so the device may call
	// itself synced only once its cursors reach them.
	Heads map[string]uint64 `json:"heads,omitempty"`
}

func (c *Changes) opList() *[]Op { return &c.Ops }

// ChangesAck acknowledges Changes after the device stored them and the
// cursor in one transaction.
type ChangesAck struct {
	Flight string `json:"flight"`
	Cursor uint64 `json:"cursor"`
}

// Ready tells the device its catch-up is complete: from now on Changes are
// live.
type Ready struct {
	Cursors map[string]uint64 `json:"cursors"`
}

// Heartbeat keeps the connection alive and carries the device's state (from
// the device) or the server's clock (from the server).
type Heartbeat struct {
	State *DeviceState `json:"state,omitempty"`
	Clock int64        `json:"clock,omitempty"`
	HLC   HLC          `json:"hlc,omitempty"`
}

// Subscribe replaces the set of flights the device serves mid-session.
type Subscribe struct {
	Flights map[string]uint64 `json:"flights"`
	// Purges are purge receipts made during the session (a flight that
	// was purged also leaves Flights).
	Purges []PurgeReceipt `json:"purges,omitempty"`
}

// Protocol timing defaults. The server announces its heartbeat in Welcome.
const (
	DefaultHeartbeat = 10 * time.Second
	HelloTimeout     = 10 * time.Second
	DefaultMaxFrame  = 4 << 20 // bytes, compressed and decompressed alike
	DefaultMaxBatch  = 1000    // ops per Push or Changes frame: large enough for zstd to find the repeats
)
