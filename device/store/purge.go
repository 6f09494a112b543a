package store

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// Purge after the flight: once the ground has closed a flight, every op of
// it is acknowledged, and the retention has passed, the flight's passenger
// data leaves the tablet, and a receipt waits to be reported to the ground.

var (
	bktClosed = []byte("closed") // flight -> when this tablet learnt it was closed (RFC 3339)
	bktPurged = []byte("purged") // flight -> syncproto.PurgeReceipt not yet acknowledged by the ground
)

// MarkClosed records flights the ground closed; the first time counts.
func (s *Store) MarkClosed(flights []string, now time.Time) error {
	if len(flights) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bktClosed)
		if err != nil {
			return err
		}
		for _, f := range flights {
			if b.Get([]byte(f)) == nil {
				if err := b.Put([]byte(f), []byte(now.UTC().Format(time.RFC3339Nano))); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// PurgeDue purges every closed flight whose retention has passed and whose
// enquiries have no op waiting in the outbox, each in one transaction, and
// returns their receipts. A flight with unsent work waits: nothing the crew
// recorded is lost to a purge.
func (s *Store) PurgeDue(now time.Time, retention time.Duration) ([]syncproto.PurgeReceipt, error) {
	var due []string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktClosed)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			at, err := time.Parse(time.RFC3339Nano, string(v))
			if err == nil && !now.Before(at.Add(retention)) {
				due = append(due, string(k))
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	var out []syncproto.PurgeReceipt
	for _, f := range due {
		r, ok, err := s.purgeFlight(f, now)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *Store) purgeFlight(flight string, now time.Time) (syncproto.PurgeReceipt, bool, error) {
	r := syncproto.PurgeReceipt{Flight: flight, At: now.UTC()}
	done := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		var ids []uuid.UUID
		err := tx.Bucket(bktEnquiries).ForEach(func(k, v []byte) error {
			var e struct {
				FlightID string `json:"flight_id"`
			}
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.FlightID == flight {
				ids = append(ids, uuid.UUID(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		idx, eo := tx.Bucket(bktOutboxIdx), tx.Bucket(bktEnqOps)
		ops := 0
		for _, id := range ids {
			c := eo.Cursor()
			for k, _ := c.Seek(id[:]); k != nil && len(k) == 32 && uuid.UUID(k[:16]) == id; k, _ = c.Next() {
				if idx.Get(k[16:]) != nil {
					return nil // unsent work: not yet
				}
				ops++
			}
		}
		for _, id := range ids {
			if err := purge(tx, id, false); err != nil {
				return err
			}
		}
		// The ops of enquiries that left the tablet's flights were kept,
		// hidden, against stale folds (see refoldAll), and the crew's own
		// for a restored ground (see ownOp); the flight's end is the end
		// of both.
		if err := dropStrays(tx); err != nil {
			return err
		}
		if err := dropOwnLeftovers(tx); err != nil {
			return err
		}
		// Refused ops of these enquiries carry crew notes too.
		dead := tx.Bucket(bktDead)
		var drop [][]byte
		err = dead.ForEach(func(k, v []byte) error {
			var d DeadLetter
			if json.Unmarshal(v, &d) == nil && slices.Contains(ids, d.Op.Enquiry) {
				drop = append(drop, slices.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := dead.Delete(k); err != nil {
				return err
			}
		}
		// The tablet no longer serves the flight, so it is not pulled again.
		if err := tx.Bucket(bktFlights).Delete([]byte(flight)); err != nil {
			return err
		}
		m := tx.Bucket(bktMeta)
		if string(m.Get(keyCurrentFlight)) == flight {
			if err := m.Delete(keyCurrentFlight); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bktClosed).Delete([]byte(flight)); err != nil {
			return err
		}
		r.Enquiries, r.Ops = len(ids), ops
		pb, err := tx.CreateBucketIfNotExists(bktPurged)
		if err != nil {
			return err
		}
		done = true
		return putJSON(pb, []byte(flight), &r)
	})
	return r, done, err
}

// PendingPurges are the receipts the ground has not acknowledged.
func (s *Store) PendingPurges() ([]syncproto.PurgeReceipt, error) {
	var out []syncproto.PurgeReceipt
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktPurged)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r syncproto.PurgeReceipt
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// ForgetPurges drops the receipts of flights the ground acknowledged.
func (s *Store) ForgetPurges(flights []string) error {
	if len(flights) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktPurged)
		if b == nil {
			return nil
		}
		for _, f := range flights {
			if err := b.Delete([]byte(f)); err != nil {
				return err
			}
		}
		return nil
	})
}

// dropOwnLeftovers deletes the sent ops of enquiries the tablet no longer
// holds: its own ops, kept after their enquiry left its flights.
func dropOwnLeftovers(tx *bolt.Tx) error {
	held, idx := tx.Bucket(bktEnquiries), tx.Bucket(bktOutboxIdx)
	self := string(tx.Bucket(bktMeta).Get(keyDeviceID))
	var keys [][]byte
	c := tx.Bucket(bktEnqOps).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) != 32 || held.Get(k[:16]) != nil || idx.Get(k[16:]) != nil {
			continue
		}
		// Others' ops are dropStrays' (called first).
		if own, err := ownOp(tx, k[16:], self); err != nil {
			return err
		} else if own {
			keys = append(keys, slices.Clone(k))
		}
	}
	return deleteOps(tx, keys)
}
