package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/server/auth"
	"github.com/cabincare/cabincare/syncproto"
)

// User is a person on the ground. The password is kept only as an
// argon2id hash (auth.HashPassword).
type User struct {
	Username     string    `json:"username"`
	Role         auth.Role `json:"role"`
	PasswordHash string    `json:"password_hash"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Disabled     bool      `json:"disabled,omitempty"`
}

// Token kinds.
const (
	TokenSession = "session" // from a login; expires; the web UIs use it
	TokenAPI     = "api"     // issued by an admin for an integration
)

// Token is a bearer credential of a user, stored under the SHA-256 of its
// secret, so the database holds nothing that can be presented.
type Token struct {
	ID        string    `json:"id"` // the first 16 hex digits of the hash: names the token in lists and audit
	Kind      string    `json:"kind"`
	Username  string    `json:"username"`
	Name      string    `json:"name,omitempty"` // what an API token is for
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// CSRFHash is the SHA-256 of the session's CSRF token: a browser
	// sending the session cookie must also send that token in a header.
	CSRFHash []byte `json:"csrf_hash,omitempty"`
}

// TokenID names a token by its hash.
func TokenID(hash []byte) string { return hex.EncodeToString(hash[:8]) }

// CreateUser stores a new user; an existing username is a conflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktUsers)
		if b.Get([]byte(u.Username)) != nil {
			return syncproto.Errorf(syncproto.CodeConflict, "user %s exists already", u.Username)
		}
		return putJSON(b, []byte(u.Username), u)
	})
}

// User returns one user.
func (s *Store) User(ctx context.Context, username string) (*User, error) {
	var u User
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		ok, err = getJSON(tx.Bucket(bktUsers), []byte(username), &u)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("user", username)
	}
	return &u, nil
}

// Users lists every user by username.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	var out []User
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktUsers)
		return b.ForEach(func(k, _ []byte) error {
			var u User
			if _, err := getJSON(b, k, &u); err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// UpdateUser reads, changes and writes one user in one transaction. If
// revokeTokens is set, every token of the user goes in the same
// transaction (a password change, a role change or a disabled account
// must not leave old sessions working).
func (s *Store) UpdateUser(ctx context.Context, username string, revokeTokens bool, fn func(*User) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktUsers)
		var u User
		ok, err := getJSON(b, []byte(username), &u)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("user", username)
		}
		if err := fn(&u); err != nil {
			return err
		}
		if revokeTokens {
			if err := deleteTokens(tx, func(t *Token) bool { return t.Username == username }); err != nil {
				return err
			}
		}
		return putJSON(b, []byte(username), &u)
	})
}

// PutToken stores a token under the hash of its secret.
func (s *Store) PutToken(ctx context.Context, hash []byte, t *Token) error {
	t.ID = TokenID(hash)
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bktUsers).Get([]byte(t.Username)) == nil {
			return notFound("user", t.Username)
		}
		return putJSON(tx.Bucket(bktTokens), hash, t)
	})
}

// TokenUser returns the token stored under hash and its user. An unknown
// or expired token, or one of a disabled user, is unauthorized; an expired
// one is deleted on the way.
func (s *Store) TokenUser(ctx context.Context, hash []byte, now time.Time) (*Token, *User, error) {
	var t Token
	var u User
	var tok, uok, expired bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if tok, err = getJSON(tx.Bucket(bktTokens), hash, &t); err != nil || !tok {
			return err
		}
		expired = !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
		uok, err = getJSON(tx.Bucket(bktUsers), []byte(t.Username), &u)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if expired {
		_ = s.DeleteToken(ctx, hash)
	}
	if !tok || expired || !uok || u.Disabled {
		return nil, nil, syncproto.Errorf(syncproto.CodeUnauthorized, "the token is not valid (unknown, expired or signed out)")
	}
	return &t, &u, nil
}

// DeleteToken removes the token stored under hash; a missing one is fine.
func (s *Store) DeleteToken(ctx context.Context, hash []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bktTokens).Delete(hash) })
}

// DeleteTokenByID removes the token named id, and returns it.
func (s *Store) DeleteTokenByID(ctx context.Context, id string) (*Token, error) {
	var found *Token
	err := s.db.Update(func(tx *bolt.Tx) error {
		return deleteTokens(tx, func(t *Token) bool {
			if t.ID == id {
				found = t
				return true
			}
			return false
		})
	})
	if err == nil && found == nil {
		err = notFound("token", id)
	}
	return found, err
}

// Tokens lists the tokens of kind (all kinds if empty), newest first.
func (s *Store) Tokens(ctx context.Context, kind string) ([]Token, error) {
	var out []Token
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktTokens)
		return b.ForEach(func(k, _ []byte) error {
			var t Token
			if _, err := getJSON(b, k, &t); err != nil {
				return err
			}
			if kind == "" || t.Kind == kind {
				t.CSRFHash = nil
				out = append(out, t)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, err
}

func deleteTokens(tx *bolt.Tx, match func(*Token) bool) error {
	return deleteWhere(tx.Bucket(bktTokens), func(v []byte) (bool, error) {
		var t Token
		if err := json.Unmarshal(v, &t); err != nil {
			return false, err
		}
		return match(&t), nil
	})
}

// deleteWhere deletes the entries of b whose value match says so (keys
// are collected first: bbolt forbids deleting while iterating).
func deleteWhere(b *bolt.Bucket, match func(v []byte) (bool, error)) error {
	var del [][]byte
	err := b.ForEach(func(k, v []byte) error {
		ok, err := match(v)
		if ok {
			del = append(del, bytes.Clone(k))
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
