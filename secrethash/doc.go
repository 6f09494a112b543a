// Package secrethash hashes secrets people choose (ground passwords, crew
// PINs) with argon2id, in the PHC string format, so the cost parameters
// travel with each hash. The ground hashes; the ground and the tablets
// verify (a tablet checks a crew PIN offline against the roster it
// received in sync).
package secrethash
