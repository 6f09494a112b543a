package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"

	"github.com/cabincare/cabincare/secrethash"
)

// Params are argon2id's cost parameters (see secrethash).
type Params = secrethash.Params

// DefaultParams are the parameters new passwords are hashed with. They
// follow OWASP's password storage advice (19 MiB, 2 passes, 1 lane): tens
// of milliseconds per login on a server, and a memory cost that makes GPU
// guessing of a stolen database expensive.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	// MinPassword is the shortest password accepted; length is what
	// makes a password hard to guess, not character classes (NIST 800-63B).
	MinPassword = 10
	// MaxPassword bounds the work one login can ask of argon2.
	MaxPassword = 256
)

// ErrMalformedHash is returned for a stored hash that cannot be read.
var ErrMalformedHash = secrethash.ErrMalformed

// HashPassword hashes pw with argon2id (secrethash.Hash).
func HashPassword(pw string, p Params) string { return secrethash.Hash(pw, p) }

// VerifyPassword reports whether pw matches the encoded hash, in constant
// time.
func VerifyPassword(encoded, pw string) (bool, error) { return secrethash.Verify(encoded, pw) }

// dummyHash is verified against when a login names an unknown user, so
// that answer takes as long as a wrong password for a real one. It is
// computed once, on first use, and never changes.
var dummyHash = sync.OnceValue(func() string { return HashPassword("no such user, no such password", DefaultParams) })

// BurnVerify spends the time of one password check with DefaultParams and
// returns false; use it when there is no hash to check against.
func BurnVerify(pw string) bool {
	_, _ = VerifyPassword(dummyHash(), pw)
	return false
}

// NewToken returns a random 256-bit token, URL-safe base64.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken hashes a random token for storage and lookup. Tokens carry 256
// random bits, so a fast hash is enough: a stolen database gives no usable
// token, and there is nothing to guess.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
