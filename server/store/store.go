package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

var (
	bktMeta      = []byte("meta")
	bktLog       = []byte("log")
	bktOpIdx     = []byte("opidx")
	bktEnqOps    = []byte("enqops")
	bktEnquiries = []byte("enquiries")
	bktByExt     = []byte("byext")
	bktFeed      = []byte("feed")
	bktCarried   = []byte("carried")
	bktDelivery  = []byte("delivery")
	bktFlights   = []byte("flights")
	bktDevices   = []byte("devices")

	// Manifests (manifest.go).
	bktPax           = []byte("pax")           // flight 0x00 seat -> Passenger
	bktPaxPNR        = []byte("paxpnr")        // PNR 0x00 paxkey -> nothing
	bktPaxName       = []byte("paxname")       // normalised name 0x00 paxkey -> nothing
	bktPaxHandle     = []byte("paxhandle")     // handle 0x00 paxkey -> nothing (any channel)
	bktPaxChanHandle = []byte("paxchanhandle") // channel 0x00 handle 0x00 paxkey -> nothing
	// The care workflow (care.go, templates.go).
	bktCare       = []byte("care")       // enquiry id -> Care
	bktQueue      = []byte("queue")      // deadline ms + (max - score) + id -> nothing: open enquiries
	bktOpen       = []byte("open")       // received ms + id -> nothing: open enquiries by age
	bktThreads    = []byte("threads")    // channel 0x00 thread -> id of its open enquiry
	bktFigFirst   = []byte("figfirst")   // at ms + id -> Figure: first responses
	bktFigResolve = []byte("figresolve") // at ms + id -> Figure: resolutions
	bktFigOnboard = []byte("figonboard") // at ms + id -> Figure: crew outcomes
	bktArrivals   = []byte("arrivals")   // received ms + id -> first response time (ms, 8 bytes) or nothing yet
	bktTemplates  = []byte("templates")  // template id -> Template
	// The fleet view (fleet.go).
	bktDevHist = []byte("devhist") // device id 0x00 minute ms -> Sample: 24 h of device reports
	// People and credentials (users.go, audit.go, enrol.go).
	bktUsers  = []byte("users")  // username -> User
	bktTokens = []byte("tokens") // SHA-256 of the token -> Token
	bktAudit  = []byte("audit")  // sequence (8 bytes, big-endian) -> AuditEvent
	bktEnrol  = []byte("enrol")  // SHA-256 of the enrolment code -> Enrolment
	bktCrew   = []byte("crew")   // staff number -> syncproto.RosterEntry (crew.go)
	bktPurges = []byte("purges") // flight 0x00 device id -> Purge (closed.go)

	allBuckets = [][]byte{
		bktMeta, bktLog, bktOpIdx, bktEnqOps, bktEnquiries, bktByExt, bktFeed, bktCarried, bktDelivery, bktFlights, bktDevices,
		bktPax, bktPaxPNR, bktPaxName, bktPaxHandle, bktPaxChanHandle,
		bktCare, bktQueue, bktOpen, bktThreads, bktFigFirst, bktFigResolve, bktFigOnboard, bktArrivals, bktTemplates,
		bktDevHist, bktUsers, bktTokens, bktAudit, bktEnrol, bktCrew, bktPurges,
	}

	keyEpoch = []byte("epoch")
	keyHLC   = []byte("hlc")
)

// feed entry flag: the enquiry joined the flight at this sequence, so a
// device of the flight needs all its earlier ops too.
const feedJoin = 1

// Store is the ground store. Open it with Open; it is safe for concurrent
// use.
type Store struct {
	db    *bolt.DB
	epoch string
	// Now stamps deliveries and device records; tests inject a clock.
	Now func() time.Time
	// Log hears what goes wrong in the background (the deferred
	// projection); set it before the first write.
	Log *slog.Logger

	proj       projector
	manual     bool
	maxPending uint64
	// pushSlots bounds the device pushes in one commit (see apply).
	pushSlots chan struct{}
}

// Open opens (creating if needed) the store at path. A file that is not a
// bbolt database, or is corrupt, is refused with an error, never replaced.
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open ground store %s: %w: %w", path, ErrLocked, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open ground store %s: %w", path, err)
	}
	// Device pushes arrive concurrently; a short delay lets them share
	// one fsync without adding noticeable latency to a single write.
	db.MaxBatchDelay = 2 * time.Millisecond
	s := &Store{db: db, Now: time.Now, Log: slog.New(slog.DiscardHandler), manual: o.ManualProjection, maxPending: defaultMaxPending,
		pushSlots: make(chan struct{}, pushesPerCommit)}
	if o.MaxPending > 0 {
		s.maxPending = uint64(o.MaxPending)
	}
	s.proj.init()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bktMeta)
		if meta.Get(keyProjected) == nil {
			// A database from before deferred projection projected
			// every op as it logged it.
			if err := meta.Put(keyProjected, u64(tx.Bucket(bktLog).Sequence())); err != nil {
				return err
			}
		}
		s.onCommit(tx)
		if e := meta.Get(keyEpoch); e != nil {
			s.epoch = string(e)
			return nil
		}
		s.epoch = uuid.NewString()
		return meta.Put(keyEpoch, []byte(s.epoch))
	})
	if err == nil {
		// What a crash left pending is projected before anything reads.
		err = s.Project(context.Background())
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise ground store %s: %w", path, err)
	}
	if !s.manual {
		s.proj.wg.Add(1)
		go s.runProjector()
	}
	return s, nil
}

// Close stops the background projection and closes the database. Ops
// still pending are safe in the log; the next Open projects them.
func (s *Store) Close() error {
	select {
	case <-s.proj.stop:
	default:
		close(s.proj.stop)
	}
	s.proj.mu.Lock()
	s.proj.settled.Broadcast()
	s.proj.mu.Unlock()
	s.proj.wg.Wait()
	return s.db.Close()
}

// Epoch identifies this database. A restore or a reset gives another epoch
// (or a head behind a device's cursor), which devices detect in the
// handshake.
func (s *Store) Epoch() string { return s.epoch }

// Path is the database file.
func (s *Store) Path() string { return s.db.Path() }

// Size is the database file size in bytes.
func (s *Store) Size() int64 {
	fi, err := os.Stat(s.db.Path())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Head is the highest sequence number given to an op.
func (s *Store) Head() uint64 {
	var h uint64
	_ = s.db.View(func(tx *bolt.Tx) error {
		h = tx.Bucket(bktLog).Sequence()
		return nil
	})
	return h
}

// MaxHLC is the highest HLC of any stored op, so a restarted server's clock
// never goes backwards.
func (s *Store) MaxHLC() syncproto.HLC {
	var h syncproto.HLC
	_ = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bktMeta).Get(keyHLC); len(v) == 8 {
			h = syncproto.HLC(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	return h
}

// Ping reports whether the store answers a read: the readiness probe. It is
// cheap, unlike Check.
func (s *Store) Ping() error {
	return s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bktMeta).Get(keyEpoch) == nil {
			return errors.New("store has no epoch")
		}
		return nil
	})
}

// Check verifies the integrity of the database file's pages. It reads the
// whole file: for tests and maintenance, not for probes.
func (s *Store) Check() error {
	s.proj.checking.Lock()
	defer s.proj.checking.Unlock()
	return s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func feedKey(flight string, seq uint64) []byte {
	k := make([]byte, 0, len(flight)+9)
	k = append(k, flight...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

func extKey(channel, externalID string) []byte {
	return []byte(channel + "\x00" + externalID)
}

func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("decode %s/%x: %w", "value", key, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

// ctxErr lets long reads stop when the caller gives up.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// ErrNotFound is wrapped by errors for a missing record.
var ErrNotFound = errors.New("not found")

// ErrLocked is wrapped by Open when another process holds the database
// file: a ground server (or an import) is running on the same data folder.
var ErrLocked = errors.New("the database is in use by another process (is a ground server running on this data folder? stop it first)")

func notFound(what, id string) error {
	return fmt.Errorf("%w: %w", ErrNotFound, syncproto.Errorf(syncproto.CodeNotFound, "%s %s does not exist", what, id))
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func hasPrefix(k, p []byte) bool { return bytes.HasPrefix(k, p) }
