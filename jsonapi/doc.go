// Package jsonapi holds the conventions of this project's JSON HTTP APIs,
// shared by the ground server and the cabin service: strict request
// decoding, and the single error handler that writes
// {"error":{"code":"...","message":"..."}} with the status of the code.
// Handlers return errors; only this package writes them.
package jsonapi
