package secrethash

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrMalformed is returned for a stored hash this package cannot read.
var ErrMalformed = errors.New("malformed secret hash")

// Hash hashes secret with argon2id and a random salt, in the PHC string
// format ($argon2id$v=19$m=...,t=...,p=...$salt$key).
func Hash(secret string, p Params) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+)
	key := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// MaxMemory bounds the memory a stored hash may ask of Verify (256 MiB), so
// a forged roster entry cannot make a tablet run out of memory.
const MaxMemory = 256 * 1024

// Verify reports whether secret matches the encoded hash, comparing in
// constant time.
func Verify(encoded, secret string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 || p.Memory > MaxMemory || p.Time > 64 {
		return false, ErrMalformed
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	key, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 64 {
		return false, ErrMalformed
	}
	got := argon2.IDKey([]byte(secret), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// PINParams are the parameters crew PINs are hashed with: 64 MiB and 3
// passes, a few hundred milliseconds on a tablet, which it does once per
// sign-in. The memory cost makes each guess of a stolen roster expensive,
// but a 4 to 6 digit PIN has at most a million values: SECURITY.md says
// what that means.
var PINParams = Params{Memory: 64 * 1024, Time: 3, Threads: 1}
