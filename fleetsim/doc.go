// Package fleetsim simulates a fleet of cabin tablets against a ground
// server, to measure how far one ground server goes. Each simulated tablet
// is a real WebSocket client speaking the real sync protocol, with its sync
// state in memory instead of a bbolt file, so one process can run
// thousands. Bytes are counted at the TCP level on the client's
// connections, the way the CouchDB peer's proxy counts them.
//
// The scenarios (hold, fanout, ingest, storm, wire, couch) each return a
// Result that cmd/fleetsim prints as a table or JSON.
package fleetsim
