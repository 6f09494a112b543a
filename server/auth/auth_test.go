package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cabincare/cabincare/server/auth"
)

// cheap keeps the tests fast; the format and the check are the same.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

// Ensure a password verifies against its own hash only, and that two
// hashes of one password differ (salted).
func TestPassword(t *testing.T) {
	t.Parallel()
	h := auth.HashPassword("correct horse battery", cheap)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash = %s", h)
	}
	if ok, err := auth.VerifyPassword(h, "correct horse battery"); !ok || err != nil {
		t.Errorf("right password = %v, %v", ok, err)
	}
	for _, pw := range []string{"", "correct horse batter", "Correct horse battery", "correct horse battery "} {
		if ok, _ := auth.VerifyPassword(h, pw); ok {
			t.Errorf("%q verified", pw)
		}
	}
	if h2 := auth.HashPassword("correct horse battery", cheap); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	if !strings.HasPrefix(auth.HashPassword("x", auth.DefaultParams), "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Error("default parameters changed")
	}
	if auth.BurnVerify("anything") {
		t.Error("BurnVerify said yes")
	}
}

// Ensure malformed stored hashes are an error, not a match.
func TestPasswordMalformed(t *testing.T) {
	t.Parallel()
	good := auth.HashPassword("pw", cheap)
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"Empty":     "",
		"Bcrypt":    "$2a$10$abcdefghijklmnopqrstuu",
		"Argon2i":   strings.Replace(good, "argon2id", "argon2i", 1),
		"Version":   strings.Replace(good, "v=19", "v=16", 1),
		"Params":    strings.Replace(good, "m=64,t=1,p=1", "m=64,t=0,p=1", 1),
		"Salt":      strings.Join(append(parts[:4:4], "!!", parts[5]), "$"),
		"EmptyKey":  strings.Join(append(parts[:5:5], ""), "$"),
		"TooShort":  "$argon2id$v=19",
		"NotParams": strings.Replace(good, "m=64,t=1,p=1", "memory", 1),
	} {
		ok, err := auth.VerifyPassword(h, "pw")
		if ok || !errors.Is(err, auth.ErrMalformedHash) {
			t.Errorf("%s: %v, %v; want ErrMalformedHash", name, ok, err)
		}
	}
}

// Ensure the role order: each role allows itself and those below.
func TestRoles(t *testing.T) {
	t.Parallel()
	for i, r := range auth.Roles {
		for j, need := range auth.Roles {
			if got, want := r.Allows(need), i >= j; got != want {
				t.Errorf("%s allows %s = %v, want %v", r, need, got, want)
			}
		}
	}
	if auth.Role("root").Allows(auth.RoleAgent) || auth.Role("").Allows(auth.RoleAgent) {
		t.Error("an unknown role allows something")
	}
	if _, err := auth.ParseRole("Admin"); err == nil {
		t.Error("ParseRole accepted Admin")
	}
}

// Ensure tokens are long, random and hash to 32 bytes.
func TestToken(t *testing.T) {
	t.Parallel()
	a, b := auth.NewToken(), auth.NewToken()
	if a == b || len(a) != 43 || len(auth.HashToken(a)) != 32 {
		t.Errorf("tokens %q %q", a, b)
	}
}
