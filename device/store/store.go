package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

var (
	bktMeta      = []byte("meta")
	bktFlights   = []byte("flights")
	bktOps       = []byte("ops")
	bktEnqOps    = []byte("enqops")
	bktEnquiries = []byte("enquiries")
	bktOutbox    = []byte("outbox")
	bktOutboxIdx = []byte("outboxidx")
	bktDead      = []byte("dead")
	// bktStray holds the ids of enquiries that left the tablet's flights
	// but whose ops are kept until it is next caught up (see refoldAll).
	bktStray = []byte("stray")

	allBuckets = [][]byte{bktMeta, bktFlights, bktOps, bktEnqOps, bktEnquiries, bktOutbox, bktOutboxIdx, bktDead, bktList, bktStray}

	keyDeviceID      = []byte("device_id")
	keyDeviceToken   = []byte("device_token")
	keyEpoch         = []byte("epoch")
	keyHLC           = []byte("hlc")
	keyCurrentFlight = []byte("current_flight")
	keyLastSync      = []byte("last_sync")
	keyLastPush      = []byte("last_push")
	keyLastPull      = []byte("last_pull")
	keyPushed        = []byte("pushed")
)

// Store is the device store.
type Store struct {
	db *bolt.DB
	// Clock stamps crew ops; its last value is persisted with each write.
	Clock *syncproto.Clock
	Now   func() time.Time
}

// ErrCorrupt is wrapped by Open's error when the file exists but is not a
// healthy store; the device must not start on it (nor replace it).
var ErrCorrupt = errors.New("store file is corrupt")

// Open opens the store at path, creating it if it does not exist. A file
// that exists but is unreadable or fails the integrity check is refused
// with an error wrapping ErrCorrupt: starting empty would silently lose
// the crew's unsent work.
func Open(path string) (st *Store, err error) {
	defer func() {
		// bbolt can panic on pages it cannot make sense of; a device must
		// refuse with a message instead.
		if r := recover(); r != nil {
			st, err = nil, fmt.Errorf("open device store %s: %w: %v", path, ErrCorrupt, r)
		}
	}()
	if err := precheck(path); err != nil {
		return nil, fmt.Errorf("open device store %s: %w: %v", path, ErrCorrupt, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if isCorrupt(err) {
			return nil, fmt.Errorf("open device store %s: %w: %v", path, ErrCorrupt, err)
		}
		return nil, fmt.Errorf("open device store %s: %w", path, err)
	}
	s := &Store{db: db, Now: time.Now}
	if err := s.check(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open device store %s: %w: %v", path, ErrCorrupt, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		newList := tx.Bucket(bktList) == nil
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if newList {
			return rebuildList(tx)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise device store %s: %w", path, err)
	}
	var last syncproto.HLC
	_ = db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bktMeta).Get(keyHLC); len(v) == 8 {
			last = syncproto.HLC(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	s.Clock = syncproto.NewClock(last)
	return s, nil
}

// isCorrupt tells an error of bolt.Open about the file's content from one
// about using it (held by another process, no permission, an I/O error).
// bbolt reports some damage, such as a file truncated to less than two
// pages ("file size too small"), with unexported errors only, so anything
// that is not a lock timeout or an OS error counts as corrupt.
func isCorrupt(err error) bool {
	if errors.Is(err, bolt.ErrInvalid) || errors.Is(err, bolt.ErrChecksum) || errors.Is(err, bolt.ErrVersionMismatch) {
		return true
	}
	var pathErr *fs.PathError
	var errno syscall.Errno
	return !errors.Is(err, bolt.ErrTimeout) && !errors.As(err, &pathErr) && !errors.As(err, &errno)
}

func (s *Store) check() error {
	return s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Size is the store file's size in bytes.
func (s *Store) Size() int64 {
	fi, err := os.Stat(s.db.Path())
	if err != nil {
		return 0
	}
	return fi.Size()
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func getTime(b *bolt.Bucket, k []byte) *time.Time {
	v := b.Get(k)
	if len(v) != 8 {
		return nil
	}
	t := time.UnixMilli(int64(binary.BigEndian.Uint64(v))).UTC()
	return &t
}

func putTime(b *bolt.Bucket, k []byte, t time.Time) error {
	return b.Put(k, u64(uint64(t.UnixMilli())))
}

func putHLC(tx *bolt.Tx, h syncproto.HLC) error {
	meta := tx.Bucket(bktMeta)
	if v := meta.Get(keyHLC); len(v) == 8 && syncproto.HLC(binary.BigEndian.Uint64(v)) >= h {
		return nil
	}
	return meta.Put(keyHLC, u64(uint64(h)))
}

// Identity returns the device id and the server epoch the store last
// synced with.
func (s *Store) Identity() (deviceID, epoch string, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		deviceID, epoch = string(m.Get(keyDeviceID)), string(m.Get(keyEpoch))
		return nil
	})
	return
}

// SetDeviceID binds the store to a device id. A store written by another
// device is refused: two devices must never share one outbox.
func (s *Store) SetDeviceID(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		if have := m.Get(keyDeviceID); have != nil && string(have) != id {
			return fmt.Errorf("this store belongs to device %s, not %s", have, id)
		}
		return m.Put(keyDeviceID, []byte(id))
	})
}

// SetCredential stores the device's credential from its enrolment, so
// later starts need no secret on the command line. A store that belongs to
// another device is refused: its outbox is that device's work.
//
// IMPORTANT: the token is kept as is (the tablet must present it); the
// store file is readable by whoever holds the tablet, which is why a lost
// tablet is revoked on the ground (see SECURITY.md).
func (s *Store) SetCredential(id, token string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		if have := m.Get(keyDeviceID); have != nil && string(have) != id {
			return fmt.Errorf("this store belongs to device %s, not %s", have, id)
		}
		if err := m.Put(keyDeviceID, []byte(id)); err != nil {
			return err
		}
		return m.Put(keyDeviceToken, []byte(token))
	})
}

// Credential returns the stored device id and token ("" if not enrolled).
func (s *Store) Credential() (id, token string) {
	_ = s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		id, token = string(m.Get(keyDeviceID)), string(m.Get(keyDeviceToken))
		return nil
	})
	return id, token
}

// OpenFlight makes flight the tablet's current flight and adds it to the
// flights it serves (with cursor 0 if new). Flights served before stay
// served, so their unsent work still syncs.
func (s *Store) OpenFlight(flight string) error {
	if flight == "" || len(flight) > syncproto.MaxShortLen {
		return syncproto.Errorf(syncproto.CodeInvalid, "flight_id is required")
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		fl := tx.Bucket(bktFlights)
		if fl.Get([]byte(flight)) == nil {
			if err := fl.Put([]byte(flight), u64(0)); err != nil {
				return err
			}
		}
		return tx.Bucket(bktMeta).Put(keyCurrentFlight, []byte(flight))
	})
}

// CurrentFlight is the flight the crew opened last ("" if none).
func (s *Store) CurrentFlight() string {
	var f string
	_ = s.db.View(func(tx *bolt.Tx) error {
		f = string(tx.Bucket(bktMeta).Get(keyCurrentFlight))
		return nil
	})
	return f
}

// Cursors returns the cursor of every served flight.
func (s *Store) Cursors() (map[string]uint64, error) {
	out := map[string]uint64{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktFlights).ForEach(func(k, v []byte) error {
			out[string(k)] = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	return out, err
}

// Record performs a crew action: it checks the op against the enquiry's
// current state, then writes the op, its outbox entry and the new state in
// one transaction. It never touches the network.
func (s *Store) Record(ctx context.Context, op syncproto.Op) (*syncproto.Enquiry, error) {
	if err := op.Validate(); err != nil {
		return nil, err
	}
	var after syncproto.Enquiry
	err := s.db.Update(func(tx *bolt.Tx) error {
		before, err := loadEnquiry(tx, op.Enquiry)
		if err != nil {
			return err
		}
		if before == nil {
			return syncproto.Errorf(syncproto.CodeNotFound, "enquiry %s is not on this tablet", op.Enquiry)
		}
		if err := before.Check(&op); err != nil {
			return err
		}
		if err := putOp(tx, &op); err != nil {
			return err
		}
		if err := enqueue(tx, op.ID); err != nil {
			return err
		}
		if err := putHLC(tx, op.HLC); err != nil {
			return err
		}
		a, err := refold(tx, before, &op)
		if err != nil {
			return err
		}
		after = *a
		return putEnquiry(tx, before, a)
	})
	if err != nil {
		return nil, err
	}
	return &after, nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, raw)
}

func putOp(tx *bolt.Tx, op *syncproto.Op) error {
	raw, err := json.Marshal(op)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bktOps).Put(op.ID[:], raw); err != nil {
		return err
	}
	return tx.Bucket(bktEnqOps).Put(slices.Concat(op.Enquiry[:], op.ID[:]), nil)
}

func enqueue(tx *bolt.Tx, id uuid.UUID) error {
	idx := tx.Bucket(bktOutboxIdx)
	if idx.Get(id[:]) != nil {
		return nil
	}
	ob := tx.Bucket(bktOutbox)
	seq, err := ob.NextSequence()
	if err != nil {
		return err
	}
	if err := ob.Put(u64(seq), id[:]); err != nil {
		return err
	}
	return idx.Put(id[:], u64(seq))
}

func loadEnquiry(tx *bolt.Tx, id uuid.UUID) (*syncproto.Enquiry, error) {
	raw := tx.Bucket(bktEnquiries).Get(id[:])
	if raw == nil {
		return nil, nil
	}
	var e syncproto.Enquiry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("decode enquiry %s: %w", id, err)
	}
	return &e, nil
}

func enquiryOps(tx *bolt.Tx, id uuid.UUID) ([]syncproto.Op, error) {
	var ops []syncproto.Op
	c := tx.Bucket(bktEnqOps).Cursor()
	ob := tx.Bucket(bktOps)
	for k, _ := c.Seek(id[:]); k != nil && bytes.HasPrefix(k, id[:]); k, _ = c.Next() {
		var op syncproto.Op
		if err := json.Unmarshal(ob.Get(k[16:]), &op); err != nil {
			return nil, fmt.Errorf("decode op %x: %w", k[16:], err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// refold computes the state after op (already stored): incrementally when op
// sorts last, from every stored op otherwise.
func refold(tx *bolt.Tx, before *syncproto.Enquiry, op *syncproto.Op) (*syncproto.Enquiry, error) {
	if before != nil && before.CanAppend(op) {
		after := before.Clone()
		after.Apply(op)
		return &after, nil
	}
	ops, err := enquiryOps(tx, op.Enquiry)
	if err != nil {
		return nil, err
	}
	e := syncproto.Fold(ops)
	return &e, nil
}

// Enquiry returns one enquiry.
func (s *Store) Enquiry(ctx context.Context, id uuid.UUID) (*syncproto.Enquiry, error) {
	var e *syncproto.Enquiry
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		e, err = loadEnquiry(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, syncproto.Errorf(syncproto.CodeNotFound, "enquiry %s is not on this tablet", id)
	}
	return e, nil
}

// Enquiries returns the enquiries of a flight, most urgent first: those the
// crew have not seen, then those seen but without an outcome, then the
// rest; oldest hand-off first within each group.
func (s *Store) Enquiries(ctx context.Context, flight string) ([]syncproto.Enquiry, error) {
	var out []syncproto.Enquiry
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktEnquiries).ForEach(func(k, v []byte) error {
			var e syncproto.Enquiry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode enquiry %x: %w", k, err)
			}
			if flight == "" || e.FlightID == flight {
				out = append(out, e)
			}
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b syncproto.Enquiry) int {
		if c := cmp.Compare(urgency(a.Status), urgency(b.Status)); c != 0 {
			return c
		}
		return cmp.Compare(a.Version, b.Version)
	})
	return out, err
}

func urgency(s syncproto.Status) int {
	switch s {
	case syncproto.StatusAssigned:
		return 0
	case syncproto.StatusAcknowledged:
		return 1
	case syncproto.StatusEscalated, syncproto.StatusNotResolved:
		return 2
	default:
		return 3
	}
}

// DBStats are bbolt's counters (transactions, write and spill times), for
// metrics.
func (s *Store) DBStats() bolt.Stats { return s.db.Stats() }
