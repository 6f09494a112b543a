// Package faultlink is a TCP relay that stands in for an aircraft's link to
// the ground: it can be cut (every connection dropped, new ones refused)
// and restored. The demo uses it to let people take a tablet offline, and
// tests use it to inject link faults between a real cabin service and a
// real ground server.
package faultlink
