// Package faultlink is a TCP relay that stands in for an aircraft's link to
// the ground. It can be cut (every connection dropped, new ones refused)
// and restored, and it can inject the faults of a real satellite link into
// every relayed connection: one-way latency, a bandwidth cap, a connection
// cut after a number of bytes (in the middle of a frame), and a stall that
// keeps connections open but forwards nothing (a half-open link). It counts
// the bytes it forwards each way, so tests can tell a resumed transfer from
// one that started again. The demo uses it to let people take a tablet
// offline, and tests use it between a real cabin service and a real ground
// server.
package faultlink
