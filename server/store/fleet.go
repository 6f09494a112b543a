package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// HistoryWindow is how far back a device's samples are kept: enough to
// draw its last 24 hours.
const HistoryWindow = 24 * time.Hour

// Sample is one point of a device's history: at most one per minute, so a
// device has at most 1,440 of them.
type Sample struct {
	At          time.Time `json:"at"`
	Online      bool      `json:"online"`
	Outbox      int       `json:"outbox"`
	OldestMs    int64     `json:"oldest_pending_ms,omitempty"`
	CursorLag   int       `json:"cursor_lag"`
	SkewMs      int64     `json:"skew_ms"`
	StoreBytes  int64     `json:"store_bytes,omitempty"`
	DeadLetters int       `json:"dead_letters,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
}

func histKey(id string, at time.Time) []byte {
	k := make([]byte, 0, len(id)+9)
	k = append(append(k, id...), 0)
	return binary.BigEndian.AppendUint64(k, uint64(at.Truncate(time.Minute).UnixMilli()))
}

// RecordSample stores a device's sample for the minute of s.At (a later
// sample of the same minute replaces it) and drops the device's samples
// older than HistoryWindow, so the history stays bounded.
func (s *Store) RecordSample(ctx context.Context, id string, smp Sample) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		if tx.Bucket(bktDevices).Get([]byte(id)) == nil {
			return notFound("device", id) // forgotten meanwhile
		}
		b := tx.Bucket(bktDevHist)
		if err := putJSON(b, histKey(id, smp.At), &smp); err != nil {
			return err
		}
		prefix := []byte(id + "\x00")
		cut := histKey(id, smp.At.Add(-HistoryWindow))
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix) && string(k) <= string(cut); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// History returns a device's samples since since, oldest first.
func (s *Store) History(ctx context.Context, id string, since time.Time) ([]Sample, error) {
	out := []Sample{}
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(id + "\x00")
		c := tx.Bucket(bktDevHist).Cursor()
		for k, v := c.Seek(histKey(id, since)); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			var smp Sample
			if err := json.Unmarshal(v, &smp); err != nil {
				return fmt.Errorf("decode sample %x: %w", k, err)
			}
			out = append(out, smp)
		}
		return nil
	})
	return out, err
}

// ForgetDevice deletes a device and its history: the end of a
// decommission. Its delivery receipts stay, since they are facts about
// enquiries.
func (s *Store) ForgetDevice(ctx context.Context, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bktDevices).Get([]byte(id)) == nil {
			return notFound("device", id)
		}
		if err := tx.Bucket(bktDevices).Delete([]byte(id)); err != nil {
			return err
		}
		prefix := []byte(id + "\x00")
		c := tx.Bucket(bktDevHist).Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Stocked is an enquiry handed to a flight, with the feed sequence of its
// current hand-off: a device of the flight whose cursor reaches Seq has
// stored it.
type Stocked struct {
	Enquiry *syncproto.Enquiry
	Status  syncproto.Status
	Seq     uint64
}

// FlightStock lists the open enquiries handed to flight (assigned and not
// yet closed), with the sequence of each one's hand-off. It walks the
// flight's feed, not every enquiry: every enquiry handed to a flight has
// an entry there.
func (s *Store) FlightStock(ctx context.Context, flight string) ([]Stocked, error) {
	var out []Stocked
	err := s.viewProjected(ctx, func(tx *bolt.Tx) error {
		prefix := []byte(flight + "\x00")
		seen := map[uuid.UUID]bool{}
		c := tx.Bucket(bktFeed).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			if len(v) < 16 || seen[uuid.UUID(v[:16])] {
				continue
			}
			id := uuid.UUID(v[:16])
			seen[id] = true
			e, err := loadEnquiry(tx, id)
			if err != nil {
				return err
			}
			if e == nil || e.FlightID != flight || e.AssignOp == uuid.Nil || e.Status == syncproto.StatusClosed {
				continue
			}
			d, err := loadDelivery(tx, e)
			if err != nil {
				return err
			}
			st := Stocked{Enquiry: e, Status: EffectiveStatus(e, d)}
			if seq := tx.Bucket(bktOpIdx).Get(e.AssignOp[:]); len(seq) == 8 {
				st.Seq = binary.BigEndian.Uint64(seq)
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

// DBStats are bbolt's counters (transactions, write and spill times), for
// metrics.
func (s *Store) DBStats() bolt.Stats { return s.db.Stats() }
