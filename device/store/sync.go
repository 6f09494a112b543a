package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// Outbox returns up to max ops waiting for the ground, oldest first,
// skipping the ids in skip (ops already in flight).
func (s *Store) Outbox(max int, skip map[uuid.UUID]bool) ([]syncproto.Op, error) {
	var ops []syncproto.Op
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktOutbox).Cursor()
		ob := tx.Bucket(bktOps)
		for k, v := c.First(); k != nil && len(ops) < max; k, v = c.Next() {
			if skip[uuid.UUID(v)] {
				continue
			}
			raw := ob.Get(v)
			if raw == nil {
				return fmt.Errorf("outbox entry %x names a missing op", v)
			}
			var op syncproto.Op
			if err := json.Unmarshal(raw, &op); err != nil {
				return fmt.Errorf("decode outbox op %x: %w", v, err)
			}
			ops = append(ops, op)
		}
		return nil
	})
	return ops, err
}

// Checkpoints returns, per served flight with one, the op at its cursor in
// the ground's log, for the hello.
func (s *Store) Checkpoints() (map[string]uuid.UUID, error) {
	out := map[string]uuid.UUID{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktFlights).ForEach(func(k, v []byte) error {
			if len(v) == 24 {
				out[string(k)] = uuid.UUID(v[8:])
			}
			return nil
		})
	})
	return out, err
}

// DeadLetter is an op the ground refused. It stays here, visible, instead
// of blocking the outbox.
type DeadLetter struct {
	Op      syncproto.Op `json:"op"`
	Code    string       `json:"code"`
	Message string       `json:"message"`
	At      time.Time    `json:"at"`
}

// CompletePush records the ground's answers to a push: applied and
// duplicate ops leave the outbox, refused ones move to the dead letters.
func (s *Store) CompletePush(results []syncproto.OpResult) error {
	return s.CompletePushAt(results, nil)
}

// CompletePushAt is CompletePush that also keeps stored, the highest place
// in the ground's log of the batch's ops, when it passes the one kept
// (see PushMark).
func (s *Store) CompletePushAt(results []syncproto.OpResult, stored *syncproto.LogMark) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if stored != nil && stored.Seq > 0 {
			m := tx.Bucket(bktMeta)
			if v := m.Get(keyPushed); len(v) != 24 || binary.BigEndian.Uint64(v) < stored.Seq {
				if err := m.Put(keyPushed, append(u64(stored.Seq), stored.Op[:]...)); err != nil {
					return err
				}
			}
		}
		now := s.Now().UTC()
		for _, r := range results {
			seq := tx.Bucket(bktOutboxIdx).Get(r.ID[:])
			if seq == nil {
				continue // answered before (a replayed ack)
			}
			if err := tx.Bucket(bktOutbox).Delete(seq); err != nil {
				return err
			}
			if err := tx.Bucket(bktOutboxIdx).Delete(r.ID[:]); err != nil {
				return err
			}
			if r.Result == syncproto.ResultRefused {
				if err := deadLetter(tx, r, now); err != nil {
					return err
				}
			}
		}
		return putTime(tx.Bucket(bktMeta), keyLastPush, now)
	})
}

// deadLetter moves a refused op out of the enquiry and into the dead
// letters: the tablet must not go on showing what the ground refused (its
// state would never converge with the ground's), and the crew and admins
// still see the op, with the reason, in the dead letters.
func deadLetter(tx *bolt.Tx, r syncproto.OpResult, now time.Time) error {
	var op syncproto.Op
	if raw := tx.Bucket(bktOps).Get(r.ID[:]); raw != nil {
		if err := json.Unmarshal(raw, &op); err != nil {
			return fmt.Errorf("decode op %x: %w", r.ID, err)
		}
	}
	if err := putJSON(tx.Bucket(bktDead), r.ID[:], &DeadLetter{Op: op, Code: r.Code, Message: r.Message, At: now}); err != nil {
		return err
	}
	if op.ID == uuid.Nil {
		return nil
	}
	if err := tx.Bucket(bktOps).Delete(op.ID[:]); err != nil {
		return err
	}
	if err := tx.Bucket(bktEnqOps).Delete(slices.Concat(op.Enquiry[:], op.ID[:])); err != nil {
		return err
	}
	if tx.Bucket(bktEnquiries).Get(op.Enquiry[:]) == nil {
		return nil
	}
	return refoldAll(tx, op.Enquiry, servedFlights(tx))
}

func servedFlights(tx *bolt.Tx) map[string]bool {
	served := map[string]bool{}
	_ = tx.Bucket(bktFlights).ForEach(func(k, _ []byte) error { served[string(k)] = true; return nil })
	return served
}

// ApplyChanges stores ops pulled for flight and advances its cursor, in one
// transaction. Enquiries that are no longer on a served flight are purged
// (their unsent ops stay, for the outbox). It returns the enquiries
// changed.
func (s *Store) ApplyChanges(ctx context.Context, flight string, ops []syncproto.Op, cursor uint64) ([]uuid.UUID, error) {
	return s.ApplyChangesAt(ctx, flight, ops, cursor, uuid.Nil)
}

// ApplyChangesAt is ApplyChanges that also keeps cursorOp, the op at the
// cursor in the ground's log, as the flight's checkpoint (see Checkpoints).
func (s *Store) ApplyChangesAt(ctx context.Context, flight string, ops []syncproto.Op, cursor uint64, cursorOp uuid.UUID) ([]uuid.UUID, error) {
	var changed []uuid.UUID
	err := s.db.Update(func(tx *bolt.Tx) error {
		changed = nil
		flights := tx.Bucket(bktFlights)
		cur := flights.Get([]byte(flight))
		if cur == nil {
			return nil // the crew closed this flight meanwhile; drop the page
		}
		if cursor <= binary.BigEndian.Uint64(cur) && len(ops) == 0 {
			return nil
		}
		served := servedFlights(tx)

		var maxHLC syncproto.HLC
		touched := map[uuid.UUID]*syncproto.Op{}
		var order []uuid.UUID
		for i := range ops {
			op := &ops[i]
			if tx.Bucket(bktOps).Get(op.ID[:]) != nil {
				// Known already; but a stray that joins one of our flights
				// again (we serve a new flight it moved to) is refolded.
				if tx.Bucket(bktStray).Get(op.Enquiry[:]) == nil {
					continue
				}
			} else {
				// One of our refused ops that the ground holds after all
				// (stored before the ground was restored to a backup that
				// lacked its enquiry, then restored again): no longer dead.
				if err := tx.Bucket(bktDead).Delete(op.ID[:]); err != nil {
					return err
				}
				if err := putOp(tx, op); err != nil {
					return err
				}
			}
			if op.HLC > maxHLC {
				maxHLC = op.HLC
			}
			if prev, ok := touched[op.Enquiry]; !ok {
				order = append(order, op.Enquiry)
				touched[op.Enquiry] = op
			} else if prev.Before(op) {
				touched[op.Enquiry] = op
			}
		}
		for _, id := range order {
			if err := refoldAll(tx, id, served); err != nil {
				return err
			}
		}
		changed = order
		if err := putHLC(tx, maxHLC); err != nil {
			return err
		}
		if cursor > binary.BigEndian.Uint64(cur) {
			// The flight's value: the cursor, then the checkpoint op id.
			v := u64(cursor)
			if cursorOp != uuid.Nil {
				v = append(v, cursorOp[:]...)
			}
			if err := flights.Put([]byte(flight), v); err != nil {
				return err
			}
		}
		return putTime(tx.Bucket(bktMeta), keyLastPull, s.Now())
	})
	if err != nil {
		return nil, err
	}
	if len(ops) > 0 {
		var maxHLC syncproto.HLC
		for i := range ops {
			maxHLC = max(maxHLC, ops[i].HLC)
		}
		_ = s.Clock.Observe(maxHLC)
	}
	return changed, nil
}

// refoldAll folds an enquiry from all its stored ops. One that is on no
// flight this tablet serves leaves the crew's view at once, but its ops
// stay as a stray until the tablet is next caught up with every flight
// until the flight's purge (dropStrays): a tablet serving two flights
// pulls their feeds at different paces, and a lagging feed, or a flight
// the crew open later, can still bring older ops of an enquiry that
// already moved on; folded without the later ops it has already seen,
// they would bring the enquiry back in a stale state.
func refoldAll(tx *bolt.Tx, id uuid.UUID, served map[string]bool) error {
	ops, err := enquiryOps(tx, id)
	if err != nil {
		return err
	}
	e := syncproto.Fold(ops)
	if e.FlightID != "" && served[e.FlightID] {
		before, err := loadEnquiry(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bktStray).Delete(id[:]); err != nil {
			return err
		}
		return putEnquiry(tx, before, &e)
	}
	if err := dropEnquiry(tx, id); err != nil {
		return err
	}
	return tx.Bucket(bktStray).Put(id[:], nil)
}

// dropStrays deletes the ops of every enquiry that left the tablet's
// flights (but its own, see ownOp), at a flight's purge: passenger data
// leaves the tablet with the flight.
func dropStrays(tx *bolt.Tx) error {
	strays := tx.Bucket(bktStray)
	var ids [][]byte
	_ = strays.ForEach(func(k, _ []byte) error { ids = append(ids, slices.Clone(k)); return nil })
	for _, id := range ids {
		if err := purge(tx, uuid.UUID(id), true); err != nil {
			return err
		}
		if err := strays.Delete(id); err != nil {
			return err
		}
	}
	return nil
}

// purge drops an enquiry and its ops; keepOwn keeps those written on this
// tablet (see ownOp), which only the flight's purge removes.
func purge(tx *bolt.Tx, id uuid.UUID, keepOwn bool) error {
	if err := dropEnquiry(tx, id); err != nil {
		return err
	}
	c := tx.Bucket(bktEnqOps).Cursor()
	self := string(tx.Bucket(bktMeta).Get(keyDeviceID))
	var keys [][]byte
	for k, _ := c.Seek(id[:]); k != nil && len(k) == 32 && uuid.UUID(k[:16]) == id; k, _ = c.Next() {
		if keepOwn {
			own, err := ownOp(tx, k[16:], self)
			if err != nil {
				return err
			}
			if own {
				continue
			}
		}
		keys = append(keys, slices.Clone(k))
	}
	return deleteOps(tx, keys)
}

// ownOp reports whether the stored op id was written on this tablet. A
// purge keeps those, sent or not: the ground leaves a tablet's own ops out
// of what it sends back to it, so an enquiry that returns to the flight
// (an outcome that outranks a recall, say) would come back without them,
// and a ground restored from a backup may have lost them, and then only
// this tablet can push them again (Resync). They go with the flight's
// purge.
func ownOp(tx *bolt.Tx, id []byte, self string) (bool, error) {
	if tx.Bucket(bktOutboxIdx).Get(id) != nil {
		return true, nil // unsent: the outbox still needs it
	}
	var op struct {
		Actor syncproto.Actor `json:"actor"`
	}
	if err := json.Unmarshal(tx.Bucket(bktOps).Get(id), &op); err != nil {
		return false, fmt.Errorf("decode op %x: %w", id, err)
	}
	return op.Actor.Type == syncproto.ActorDevice && op.Actor.ID == self, nil
}

// PushMark returns the highest place in the ground's log where the ground
// said it stored one of this device's ops, for the hello; nil before any.
func (s *Store) PushMark() (*syncproto.LogMark, error) {
	var m *syncproto.LogMark
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bktMeta).Get(keyPushed); len(v) == 24 {
			m = &syncproto.LogMark{Seq: binary.BigEndian.Uint64(v), Op: uuid.UUID(v[8:])}
		}
		return nil
	})
	return m, err
}

// Resync handles a server whose database is not the one this device synced
// with (another epoch, a head behind our cursor, or another op at it):
// every cursor goes back to zero, every op this device wrote goes back into
// the outbox, since the server may have lost it, and everything else is
// dropped to be pulled again. Nothing this device wrote is discarded.
func (s *Store) Resync(epoch, deviceID string) (requeued int, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if requeued, err = resetPulled(tx, deviceID, true); err != nil {
			return err
		}
		// The requeued ops will be stored anew, at other places.
		if err := tx.Bucket(bktMeta).Delete(keyPushed); err != nil {
			return err
		}
		return tx.Bucket(bktMeta).Put(keyEpoch, []byte(epoch))
	})
	return requeued, err
}

// Repull is an admin's forced resync against the same ground database:
// cursors go back to zero and everything pulled is dropped, to be pulled
// again. The outbox is kept as it is, and so are this device's own ops:
// the ground has every one it acknowledged, so nothing is pushed again.
func (s *Store) Repull(deviceID string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		_, err := resetPulled(tx, deviceID, false)
		return err
	})
}

// resetPulled zeroes every cursor and drops every op not written by
// deviceID, with the enquiries and lists folded from them; requeue puts
// the device's own ops not in the outbox back into it.
func resetPulled(tx *bolt.Tx, deviceID string, requeue bool) (requeued int, err error) {
	{
		fl := tx.Bucket(bktFlights)
		var flights [][]byte
		_ = fl.ForEach(func(k, _ []byte) error { flights = append(flights, slices.Clone(k)); return nil })
		for _, f := range flights {
			if err := fl.Put(f, u64(0)); err != nil {
				return 0, err
			}
		}
		// Keep only this device's own ops (all back in the outbox) and drop
		// everything it learnt from the old database: the re-pull rebuilds
		// every enquiry from what this ground holds, so the tablet cannot
		// keep showing an enquiry the ground no longer has.
		var others [][]byte
		c := tx.Bucket(bktOps).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var op syncproto.Op
			if err := json.Unmarshal(v, &op); err != nil {
				return 0, fmt.Errorf("decode op %x: %w", k, err)
			}
			if op.Actor.Type != syncproto.ActorDevice || op.Actor.ID != deviceID {
				others = append(others, slices.Concat(op.Enquiry[:], k))
				continue
			}
			if requeue && tx.Bucket(bktOutboxIdx).Get(k) == nil {
				if err := enqueue(tx, op.ID); err != nil {
					return 0, err
				}
				requeued++
			}
		}
		for _, ek := range others {
			if err := tx.Bucket(bktOps).Delete(ek[16:]); err != nil {
				return 0, err
			}
			if err := tx.Bucket(bktEnqOps).Delete(ek); err != nil {
				return 0, err
			}
		}
		for _, b := range [][]byte{bktEnquiries, bktList, bktStray} {
			if err := tx.DeleteBucket(b); err != nil {
				return 0, err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return 0, err
			}
		}
		return requeued, nil
	}
}

// SetEpoch records the server epoch after a handshake.
func (s *Store) SetEpoch(epoch string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		if string(m.Get(keyEpoch)) == epoch {
			return nil
		}
		return m.Put(keyEpoch, []byte(epoch))
	})
}

// MarkSynced records that, at t, the outbox was empty and every flight was
// caught up with the ground: the only honest meaning of "synced". It does
// nothing if the outbox is not empty.
func (s *Store) MarkSynced(t time.Time) (bool, error) {
	marked := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bktOutbox).Stats().KeyN > 0 {
			return nil
		}
		marked = true
		return putTime(tx.Bucket(bktMeta), keyLastSync, t)
	})
	return marked, err
}

// Status is the store's sync-relevant state.
type Status struct {
	DeviceID      string
	Epoch         string
	CurrentFlight string
	Cursors       map[string]uint64
	Pending       int
	OldestPending *time.Time
	DeadLetters   int
	LastSync      *time.Time
	LastPush      *time.Time
	LastPull      *time.Time
	HLC           syncproto.HLC
	Enquiries     int
}

// Status reads the store's sync state.
func (s *Store) Status() (Status, error) {
	st := Status{Cursors: map[string]uint64{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		st.DeviceID, st.Epoch, st.CurrentFlight = string(m.Get(keyDeviceID)), string(m.Get(keyEpoch)), string(m.Get(keyCurrentFlight))
		st.LastSync, st.LastPush, st.LastPull = getTime(m, keyLastSync), getTime(m, keyLastPush), getTime(m, keyLastPull)
		if v := m.Get(keyHLC); len(v) == 8 {
			st.HLC = syncproto.HLC(binary.BigEndian.Uint64(v))
		}
		_ = tx.Bucket(bktFlights).ForEach(func(k, v []byte) error {
			st.Cursors[string(k)] = binary.BigEndian.Uint64(v)
			return nil
		})
		st.Pending = tx.Bucket(bktOutbox).Stats().KeyN
		st.DeadLetters = tx.Bucket(bktDead).Stats().KeyN
		st.Enquiries = tx.Bucket(bktEnquiries).Stats().KeyN
		if _, v := tx.Bucket(bktOutbox).Cursor().First(); v != nil {
			if raw := tx.Bucket(bktOps).Get(v); raw != nil {
				var op syncproto.Op
				if json.Unmarshal(raw, &op) == nil {
					t := op.HLC.Time()
					st.OldestPending = &t
				}
			}
		}
		return nil
	})
	return st, err
}

// DeadLetters lists the ops the ground refused.
func (s *Store) DeadLetters() ([]DeadLetter, error) {
	var out []DeadLetter
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktDead).ForEach(func(k, v []byte) error {
			var d DeadLetter
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// deleteOps deletes ops by their enqops keys (enquiry id + op id).
func deleteOps(tx *bolt.Tx, keys [][]byte) error {
	for _, k := range keys {
		if err := tx.Bucket(bktEnqOps).Delete(k); err != nil {
			return err
		}
		if err := tx.Bucket(bktOps).Delete(k[16:]); err != nil {
			return err
		}
	}
	return nil
}
