// Package auth holds the ground's rules for people: the roles and what each
// may do, password hashing (argon2id, through secrethash), and random
// tokens and their hashes. It does no I/O: the store keeps users, tokens
// and the audit log, server/api applies these rules at the HTTP edge, and
// the attempts package limits guessing.
package auth
