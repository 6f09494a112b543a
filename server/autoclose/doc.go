// Package autoclose closes flights a set time after they arrive, so the
// tablets that served them purge their passenger data without a
// supervisor having to remember each flight. A closed flight's sessions
// are disconnected, as with a manual close, so each tablet learns it in
// the next handshake; every automatic close is in the audit log.
package autoclose
