// Package syncsim checks the sync invariants with randomised, reproducible
// schedules: one ground store and several tablet stores (the real
// server/store and device/store on real bbolt files) exchange the real
// protocol messages (Hello, Welcome, Push, PushAck, Changes, ChangesAck,
// Ready, Subscribe, Error), encoded with the real codec, through a network
// the simulation controls. The two ends of a session are modelled on
// server/hub/session.go and device/syncclient/client.go, step for step.
//
// A schedule is a list of events drawn from a seed: agents create, assign,
// recall, note and close enquiries on the ground; crew open flights and
// acknowledge, note and resolve on their tablets; messages are delivered
// one at a time from any queue (each connection is FIFO both ways, as TCP
// is, and everything else interleaves freely); connections are cut with
// part of what was in flight still reaching the ground afterwards;
// messages are duplicated inside a connection; tablets are partitioned
// and reconnected; tablets and the ground restart (close and reopen the
// store, losing everything in flight), and, optionally, the ground is
// restored from an older copy of its file.
//
// After the schedule, every link is healed and the system runs until it is
// quiet; then Check asserts that every replica's state for every enquiry
// equals the fold of the full op set, that no op acknowledged to a tablet
// is missing on the ground, that no op was applied twice, that nothing a
// crew member recorded was dropped without a dead letter, and that no
// tablet holds an enquiry of a flight it does not serve. A schedule that
// does not become quiet is a failure too (a stuck queue), and so is a
// tablet that marks itself synced while the ground still had changes for
// it that it had not sent (a sync status that lies).
//
// Each event draws its randomness from (seed, event index), so a schedule
// replays exactly from its seed, and Shrink can drop events from a failing
// schedule and still replay the rest, down to a minimal history.
package syncsim
