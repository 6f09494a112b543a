package store

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// CloseFlight marks a flight closed (once; closing again keeps the first
// time) and returns it.
func (s *Store) CloseFlight(ctx context.Context, id string, at time.Time) (*Flight, error) {
	var f Flight
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktFlights)
		ok, err := getJSON(b, []byte(id), &f)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("flight", id)
		}
		if f.ClosedAt == nil {
			t := at.UTC()
			f.ClosedAt = &t
		}
		return putJSON(b, []byte(id), &f)
	})
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// ClosedFlights returns those of flights that are closed.
func (s *Store) ClosedFlights(ctx context.Context, flights []string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, id := range flights {
			var f Flight
			ok, err := getJSON(tx.Bucket(bktFlights), []byte(id), &f)
			if err != nil {
				return err
			}
			if ok && f.ClosedAt != nil {
				out = append(out, id)
			}
		}
		return nil
	})
	return out, err
}

// Purge is a device's receipt for a flight's data, as the ground keeps it.
type Purge struct {
	Device     string    `json:"device_id"`
	Flight     string    `json:"flight"`
	Enquiries  int       `json:"enquiries"`
	Ops        int       `json:"ops"`
	At         time.Time `json:"at"`          // when the tablet purged
	RecordedAt time.Time `json:"recorded_at"` // when the ground heard of it
}

func purgeKey(flight, device string) []byte {
	return append(append([]byte(flight), 0), device...)
}

// RecordPurge stores a device's purge receipt and reports whether it is
// new; the same receipt again changes nothing (a device repeats it until it
// sees the acknowledgement).
func (s *Store) RecordPurge(ctx context.Context, device string, r syncproto.PurgeReceipt) (bool, error) {
	if r.Flight == "" || len(r.Flight) > syncproto.MaxShortLen || r.Enquiries < 0 || r.Ops < 0 {
		return false, syncproto.Errorf(syncproto.CodeInvalid, "malformed purge receipt")
	}
	var added bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktPurges)
		k := purgeKey(r.Flight, device)
		if added = b.Get(k) == nil; !added {
			return nil
		}
		return putJSON(b, k, &Purge{Device: device, Flight: r.Flight, Enquiries: r.Enquiries, Ops: r.Ops, At: r.At.UTC(), RecordedAt: s.Now().UTC()})
	})
	return added, err
}

// Purges lists the receipts for a flight, by device.
func (s *Store) Purges(ctx context.Context, flight string) ([]Purge, error) {
	out := []Purge{}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktPurges).Cursor()
		prefix := append([]byte(flight), 0)
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var p Purge
			if _, err := getJSON(tx.Bucket(bktPurges), k, &p); err != nil {
				return err
			}
			_ = v
			out = append(out, p)
		}
		return nil
	})
	return out, err
}
