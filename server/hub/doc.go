// Package hub serves the sync endpoint: one session per connected device
// over a WebSocket, speaking the protocol of package syncproto.
//
// Each session owns three goroutines: the reader (the connection's only
// reader, which also applies pushes), the writer (the connection's only
// writer, with a deadline on every write and a bounded queue: a device that
// does not read is disconnected, never allowed to block anyone else), and
// the streamer, which sends the device's flights' changes from its cursors
// in windowed pages and then live. The streamer is woken through a notify
// channel with a buffer of one whenever ops land on one of its flights, and
// reads what changed from the store; nothing queues per event.
//
// The hub tells an Observer (the fleet view) of every device report and
// session end, and counts sessions, ops, batches and frame bytes in its
// telemetry.Sync. Every log line of a session names its device, session
// and flights.
package hub
