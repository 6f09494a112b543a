// Package auth holds the ground's rules for people: the roles and what each
// may do, password hashing with argon2id, random tokens and their hashes,
// and the limiter that slows down password guessing. It does no I/O: the
// store keeps users, tokens and the audit log, and server/api applies these
// rules at the HTTP edge.
package auth
