// Package e2e holds the end-to-end tests: a real ground server and real
// cabin services talking over loopback sockets, in-process, and the built
// binaries as subprocesses for the crash tests. It has no non-test code.
package e2e
