package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// The list bucket indexes each enquiry under its flight, in the order the
// crew see them (most urgent first), with the enquiry as the crew app lists
// it: without its history. Listing a flight is then one range scan that
// hands out stored bytes, with no decoding, which keeps the crew app's
// frequent refresh cheap on a tablet. Every state write goes through
// putEnquiry and every removal through dropEnquiry, so the index is kept in
// the same transaction as the state.
//
//	list  flight 0x00 urgency (1) version (8) enquiry id (16) -> summary JSON
var bktList = []byte("list")

func listKey(e *syncproto.Enquiry) []byte {
	k := make([]byte, 0, len(e.FlightID)+26)
	k = append(k, e.FlightID...)
	k = append(k, 0, byte(urgency(e.Status)))
	k = binary.BigEndian.AppendUint64(k, uint64(e.Version))
	return append(k, e.ID[:]...)
}

// CrewStatus is the status the crew see: an assigned enquiry on a tablet
// has, by definition, been delivered.
func CrewStatus(s syncproto.Status) syncproto.Status {
	if s == syncproto.StatusAssigned {
		return syncproto.StatusDelivered
	}
	return s
}

// summary is an enquiry as the crew app lists it.
type summary struct {
	*syncproto.Enquiry
	Status syncproto.Status `json:"status"`
}

// putEnquiry writes an enquiry's state and its list entry, replacing the
// entry of its previous state (before may be nil).
func putEnquiry(tx *bolt.Tx, before, after *syncproto.Enquiry) error {
	if before != nil {
		if err := tx.Bucket(bktList).Delete(listKey(before)); err != nil {
			return err
		}
	}
	if err := putJSON(tx.Bucket(bktEnquiries), after.ID[:], after); err != nil {
		return err
	}
	if after.FlightID == "" {
		return nil
	}
	short := *after
	short.History = nil
	return putJSON(tx.Bucket(bktList), listKey(after), summary{Enquiry: &short, Status: CrewStatus(after.Status)})
}

// dropEnquiry removes an enquiry's state and its list entry.
func dropEnquiry(tx *bolt.Tx, id uuid.UUID) error {
	e, err := loadEnquiry(tx, id)
	if err != nil || e == nil {
		return err
	}
	if err := tx.Bucket(bktList).Delete(listKey(e)); err != nil {
		return err
	}
	return tx.Bucket(bktEnquiries).Delete(id[:])
}

// rebuildList fills the list index from the stored states, for a store
// written before the index existed.
func rebuildList(tx *bolt.Tx) error {
	c := tx.Bucket(bktEnquiries).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var e syncproto.Enquiry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		if e.FlightID == "" {
			continue
		}
		short := e
		short.History = nil
		if err := putJSON(tx.Bucket(bktList), listKey(&e), summary{Enquiry: &short, Status: CrewStatus(e.Status)}); err != nil {
			return err
		}
	}
	return nil
}

// List returns the enquiries of a flight as the crew app lists them (JSON,
// without history), most urgent first: not yet seen, then seen without an
// outcome, then escalated or not resolved, then the rest; oldest first
// within each group.
func (s *Store) List(ctx context.Context, flight string) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := append([]byte(flight), 0)
		c := tx.Bucket(bktList).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			out = append(out, append(json.RawMessage(nil), v...))
		}
		return nil
	})
	return out, err
}
