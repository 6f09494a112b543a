package store

import (
	"context"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

var keyRosterVersion = []byte("roster_version")

// CreateCrew adds a crew member to the roster; an existing staff number is
// a conflict. Every roster change raises the roster version, so tablets
// fetch the new roster on their next handshake.
func (s *Store) CreateCrew(ctx context.Context, m syncproto.RosterEntry) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktCrew)
		if b.Get([]byte(m.StaffNumber)) != nil {
			return syncproto.Errorf(syncproto.CodeConflict, "staff number %s is on the roster already", m.StaffNumber)
		}
		if err := putJSON(b, []byte(m.StaffNumber), &m); err != nil {
			return err
		}
		return bumpRoster(tx)
	})
}

// DeleteCrew takes a crew member off the roster.
func (s *Store) DeleteCrew(ctx context.Context, staff string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktCrew)
		if b.Get([]byte(staff)) == nil {
			return notFound("crew member", staff)
		}
		if err := b.Delete([]byte(staff)); err != nil {
			return err
		}
		return bumpRoster(tx)
	})
}

func bumpRoster(tx *bolt.Tx) error {
	m := tx.Bucket(bktMeta)
	var v uint64
	if b := m.Get(keyRosterVersion); len(b) == 8 {
		v = binary.BigEndian.Uint64(b)
	}
	return m.Put(keyRosterVersion, binary.BigEndian.AppendUint64(nil, v+1))
}

// Roster returns the whole roster, by staff number, with its version.
func (s *Store) Roster(ctx context.Context) (syncproto.Roster, error) {
	r := syncproto.Roster{Crew: []syncproto.RosterEntry{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bktMeta).Get(keyRosterVersion); len(b) == 8 {
			r.Version = binary.BigEndian.Uint64(b)
		}
		b := tx.Bucket(bktCrew)
		return b.ForEach(func(k, _ []byte) error {
			var m syncproto.RosterEntry
			if _, err := getJSON(b, k, &m); err != nil {
				return err
			}
			r.Crew = append(r.Crew, m)
			return nil
		})
	})
	return r, err
}
