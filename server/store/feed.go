package store

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// Page is a slice of one flight's feed.
type Page struct {
	Ops []syncproto.Op
	// Cursor is the sequence of the last feed entry covered; a device that
	// stored Ops may resume after it.
	Cursor uint64
	// More is true when the feed has entries after Cursor.
	More bool
	// CursorOp is the op at sequence Cursor (see syncproto.Changes).
	CursorOp uuid.UUID
}

// feedValue is a feed entry: the enquiry id, the flags, and the authoring
// device's id for a device's op.
func feedValue(enq uuid.UUID, flags byte, author []byte) []byte {
	return append(append(enq[:len(enq):len(enq)], flags), author...)
}

// Changes returns the ops of flight's feed after cursor, at most about
// limit ops (a join entry brings the enquiry's whole earlier history and is
// never split). skipDevice, when set, leaves out that device's own ops
// except inside a join, where the device may have purged them.
func (s *Store) Changes(ctx context.Context, flight string, cursor uint64, limit int, skipDevice string) (Page, error) {
	p := Page{Cursor: cursor}
	err := s.db.View(func(tx *bolt.Tx) error {
		p.Ops = nil // View does not retry, but keep the function idempotent
		logb := tx.Bucket(bktLog)
		prefix := feedKey(flight, 0)[:len(flight)+1]
		c := tx.Bucket(bktFeed).Cursor()
		seen := map[uint64]bool{} // by sequence: a join may repeat ops already in the page
		add := func(seq uint64, raw []byte) error {
			if seen[seq] {
				return nil
			}
			seen[seq] = true
			// decodeLogOp copies: bbolt's bytes are valid only inside the
			// transaction.
			op, err := decodeLogOp(raw)
			if err != nil {
				return fmt.Errorf("decode op at %d: %w", seq, err)
			}
			p.Ops = append(p.Ops, op)
			return nil
		}
		for k, v := c.Seek(feedKey(flight, cursor+1)); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			if len(p.Ops) >= limit {
				p.More = true
				break
			}
			if err := ctxErr(ctx); err != nil {
				return err
			}
			seq := binary.BigEndian.Uint64(k[len(prefix):])
			if len(v) < 17 {
				return fmt.Errorf("feed entry %s/%d is corrupt", flight, seq)
			}
			if v[16]&feedJoin != 0 {
				id := v[:16]
				ec := tx.Bucket(bktEnqOps).Cursor()
				for ek, _ := ec.Seek(id); ek != nil && hasPrefix(ek, id); ek, _ = ec.Next() {
					opSeq := binary.BigEndian.Uint64(ek[16:])
					if opSeq > seq {
						break
					}
					if err := add(opSeq, logb.Get(ek[16:])); err != nil {
						return err
					}
				}
			} else if skipDevice == "" || string(v[17:]) != skipDevice {
				if err := add(seq, logb.Get(k[len(prefix):])); err != nil {
					return err
				}
			}
			p.Cursor = seq
		}
		if p.Cursor > cursor {
			id, err := opIDAt(tx, p.Cursor)
			if err != nil {
				return err
			}
			p.CursorOp = id
		}
		return nil
	})
	return p, err
}

// opIDAt returns the id of the op at sequence seq of the log (uuid.Nil if
// there is none).
func opIDAt(tx *bolt.Tx, seq uint64) (uuid.UUID, error) {
	raw := tx.Bucket(bktLog).Get(u64(seq))
	if raw == nil {
		return uuid.Nil, nil
	}
	op, err := decodeLogOp(raw)
	if err != nil {
		return uuid.Nil, fmt.Errorf("decode op at %d: %w", seq, err)
	}
	return op.ID, nil
}

// OpIDAt returns the id of the op at sequence seq (uuid.Nil if none): the
// check of a device's checkpoint.
func (s *Store) OpIDAt(ctx context.Context, seq uint64) (uuid.UUID, error) {
	var id uuid.UUID
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		id, err = opIDAt(tx, seq)
		return err
	})
	return id, err
}

// FlightHead is the sequence of the last entry in a flight's feed.
func (s *Store) FlightHead(ctx context.Context, flight string) (uint64, error) {
	var head uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		head = flightHead(tx, flight)
		return nil
	})
	return head, err
}

func flightHead(tx *bolt.Tx, flight string) uint64 {
	c := tx.Bucket(bktFeed).Cursor()
	k, _ := c.Seek(feedKey(flight, ^uint64(0)))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	prefix := []byte(flight + "\x00")
	if k == nil || !hasPrefix(k, prefix) || len(k) != len(prefix)+8 {
		return 0
	}
	return binary.BigEndian.Uint64(k[len(prefix):])
}

// Lag counts the feed entries of flight after cursor: how many changes a
// device at that cursor has yet to store.
func lag(tx *bolt.Tx, flight string, cursor uint64) int {
	n := 0
	prefix := []byte(flight + "\x00")
	c := tx.Bucket(bktFeed).Cursor()
	for k, _ := c.Seek(feedKey(flight, cursor+1)); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// AckChanges records that device stored flight's feed up to cursor, and
// gives a delivery receipt to each enquiry whose current hand-off to the
// flight the cursor now covers. It returns the enquiries newly delivered.
func (s *Store) AckChanges(ctx context.Context, deviceID, flight string, cursor uint64) ([]uuid.UUID, error) {
	var delivered []uuid.UUID
	err := s.db.Batch(func(tx *bolt.Tx) error {
		delivered = nil
		devs := tx.Bucket(bktDevices)
		var d Device
		ok, err := getJSON(devs, []byte(deviceID), &d)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("device", deviceID)
		}
		prev := d.Cursors[flight]
		if cursor <= prev {
			return nil
		}
		if d.Cursors == nil {
			d.Cursors = map[string]uint64{}
		}
		d.Cursors[flight] = cursor
		now := s.Now().UTC()
		d.LastSync = &now
		if err := putJSON(devs, []byte(deviceID), &d); err != nil {
			return err
		}
		prefix := []byte(flight + "\x00")
		dels := tx.Bucket(bktDelivery)
		c := tx.Bucket(bktFeed).Cursor()
		// Every entry counts, not only joins: a re-assign on the same
		// flight is a new hand-off without a join, and needs its receipt.
		seen := map[uuid.UUID]bool{}
		for k, v := c.Seek(feedKey(flight, prev+1)); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			if binary.BigEndian.Uint64(k[len(prefix):]) > cursor {
				break
			}
			if len(v) < 17 || seen[uuid.UUID(v[:16])] {
				continue
			}
			id := uuid.UUID(v[:16])
			seen[id] = true
			// Only the hand-off is read, not the whole state: a catch-up ack
			// covers hundreds of enquiries.
			var e struct {
				FlightID string    `json:"flight_id"`
				AssignOp uuid.UUID `json:"assign_op"`
			}
			ok, err := getJSON(tx.Bucket(bktEnquiries), id[:], &e)
			if err != nil {
				return err
			}
			if !ok || e.FlightID != flight {
				continue
			}
			if have, err := loadDelivery(tx, &syncproto.Enquiry{ID: id, AssignOp: e.AssignOp}); err != nil || have != nil {
				if err != nil {
					return err
				}
				continue
			}
			seq := tx.Bucket(bktOpIdx).Get(e.AssignOp[:])
			if seq == nil || binary.BigEndian.Uint64(seq) > cursor {
				continue
			}
			if err := putJSON(dels, id[:], &Delivery{AssignOp: e.AssignOp, DeviceID: deviceID, At: now}); err != nil {
				return err
			}
			delivered = append(delivered, id)
		}
		return nil
	})
	return delivered, err
}
