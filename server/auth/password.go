package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. The defaults follow OWASP's
// password storage advice (19 MiB, 2 passes, 1 lane): tens of
// milliseconds per login on a server, and a memory cost that makes GPU
// guessing of a stolen database expensive.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultParams are the parameters new passwords are hashed with.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinPassword is the shortest password accepted; length is what
	// makes a password hard to guess, not character classes (NIST 800-63B).
	MinPassword = 10
	// MaxPassword bounds the work one login can ask of argon2.
	MaxPassword = 256
)

// ErrMalformedHash is returned for a stored hash this package cannot read.
var ErrMalformedHash = errors.New("malformed password hash")

// HashPassword hashes pw with argon2id and a random salt, in the PHC
// string format ($argon2id$v=19$m=...,t=...,p=...$salt$key), so the
// parameters travel with the hash and can be raised later.
func HashPassword(pw string, p Params) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+)
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// VerifyPassword reports whether pw matches the encoded hash, comparing in
// constant time.
func VerifyPassword(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformedHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, ErrMalformedHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 {
		return false, ErrMalformedHash
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	key, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false, ErrMalformedHash
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

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
