package store

import (
	"encoding/binary"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// The crew roster, as the ground last sent it: crew sign in against it
// with no connection. Only PIN hashes are kept.

var (
	bktRoster        = []byte("roster") // staff number -> syncproto.RosterEntry
	keyRosterVersion = []byte("roster_version")
)

// SetRoster replaces the roster and its version in one transaction.
func (s *Store) SetRoster(r syncproto.Roster) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bktRoster); err != nil && err != bolt.ErrBucketNotFound {
			return err
		}
		b, err := tx.CreateBucket(bktRoster)
		if err != nil {
			return err
		}
		for _, m := range r.Crew {
			if err := putJSON(b, []byte(m.StaffNumber), &m); err != nil {
				return err
			}
		}
		return tx.Bucket(bktMeta).Put(keyRosterVersion, binary.BigEndian.AppendUint64(nil, r.Version))
	})
}

// RosterVersion is the version of the stored roster (0: none yet).
func (s *Store) RosterVersion() uint64 {
	var v uint64
	_ = s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bktMeta).Get(keyRosterVersion); len(b) == 8 {
			v = binary.BigEndian.Uint64(b)
		}
		return nil
	})
	return v
}

// CrewMember returns the roster entry of a staff number.
func (s *Store) CrewMember(staff string) (syncproto.RosterEntry, bool, error) {
	var m syncproto.RosterEntry
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktRoster)
		if b == nil {
			return nil
		}
		raw := b.Get([]byte(staff))
		if raw == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(raw, &m)
	})
	return m, ok, err
}
