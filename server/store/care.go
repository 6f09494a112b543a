package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// DefaultSLA is the response target of an enquiry created without a care
// record (directly through Apply rather than the care service).
const DefaultSLA = 60 * time.Minute

// Care is the ground-only side of an enquiry: intake facts the fold does
// not carry (the channel thread, public or private, the author's reach),
// its triage, and its place in the agents' queue. Tablets never need it, so
// it does not travel as ops. The store keeps the derived fields (status,
// deadline, reply window, ...) up to date in the transaction of every op on
// the enquiry, so reads never recompute them.
type Care struct {
	ID        uuid.UUID `json:"id"`
	Channel   string    `json:"channel"`
	Language  string    `json:"language"`
	Thread    string    `json:"thread,omitempty"`
	Public    bool      `json:"public"`
	Followers int       `json:"followers"`
	Priority  Priority  `json:"priority"`
	// SLA is the response promise in force when the enquiry arrived.
	// Target is this enquiry's response target: the SLA scaled by the
	// priority level, or what an agent set (TargetSet), which a later
	// triage keeps.
	SLA       time.Duration `json:"sla"`
	Target    time.Duration `json:"target"`
	TargetSet bool          `json:"target_set,omitempty"`

	// Derived from the fold and the flight, stored with every op.
	Status     syncproto.Status `json:"status"`
	FlightID   string           `json:"flight_id,omitempty"`
	ReceivedAt time.Time        `json:"received_at"`
	Flagged    bool             `json:"flagged,omitempty"`
	// AwaitingSince is the oldest unanswered customer message (or crew
	// escalation); Deadline is AwaitingSince + Target. Both are nil when
	// nothing is owed.
	AwaitingSince *time.Time `json:"awaiting_since,omitempty"`
	Deadline      *time.Time `json:"deadline,omitempty"`
	// ReplyWindowClosesAt is when the channel stops accepting a reply (the
	// customer's last message + the channel's window), nil for channels
	// without one. LandsAt is the scheduled arrival of the enquiry's
	// flight. InterimReply is set when the window closes before the
	// flight lands: the agent should reply before it does.
	ReplyWindowClosesAt *time.Time `json:"reply_window_closes_at,omitempty"`
	LandsAt             *time.Time `json:"lands_at,omitempty"`
	InterimReply        bool       `json:"interim_reply,omitempty"`
}

// Priority is the triage of an enquiry: a score, its level, and the rules
// that gave the points.
type Priority struct {
	Score   int       `json:"score"`
	Level   string    `json:"level"`
	Reasons []Reason  `json:"reasons"`
	At      time.Time `json:"at"`
}

// Reason is one triage rule that fired.
type Reason struct {
	Rule   string `json:"rule"`
	Points int    `json:"points"`
	Detail string `json:"detail,omitempty"`
}

// Open reports whether the enquiry is still open for the agents.
func (c *Care) Open() bool { return c.Status != syncproto.StatusClosed }

// ApplyCare is Apply for ops that create enquiries with their care
// records: for each create op applied, care[op.Enquiry] is stored in the
// same transaction (a create answered duplicate stores nothing).
func (s *Store) ApplyCare(ctx context.Context, ops []syncproto.Op, scope Scope, care map[uuid.UUID]*Care) ([]Result, error) {
	return s.apply(ctx, ops, scope, care)
}

// Care returns the care record of an enquiry.
func (s *Store) Care(ctx context.Context, id uuid.UUID) (*Care, error) {
	var c *Care
	err := s.viewProjected(ctx, func(tx *bolt.Tx) error {
		var err error
		c, err = loadCare(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, notFound("enquiry", id.String())
	}
	return c, nil
}

// UpdateCare changes an enquiry's care record (its triage or its target)
// and stores the new deadline and queue position in one transaction.
func (s *Store) UpdateCare(ctx context.Context, id uuid.UUID, fn func(*Care) error) (*Care, error) {
	var out *Care
	err := s.db.Update(func(tx *bolt.Tx) error {
		e, err := loadEnquiry(tx, id)
		if err != nil {
			return err
		}
		if e == nil {
			return notFound("enquiry", id.String())
		}
		c, err := loadCare(tx, id)
		if err != nil {
			return err
		}
		if c == nil {
			c = defaultCare(e)
		}
		old := *c
		if err := fn(c); err != nil {
			return err
		}
		if err := refreshCare(tx, c, e); err != nil {
			return err
		}
		if err := reindexQueue(tx, &old, c); err != nil {
			return err
		}
		out = c
		return putJSON(tx.Bucket(bktCare), id[:], c)
	})
	return out, err
}

func loadCare(tx *bolt.Tx, id uuid.UUID) (*Care, error) {
	var c Care
	ok, err := getJSON(tx.Bucket(bktCare), id[:], &c)
	if err != nil || !ok {
		return nil, err
	}
	return &c, nil
}

func defaultCare(e *syncproto.Enquiry) *Care {
	return &Care{ID: e.ID, Channel: e.Channel, Language: e.Language, SLA: DefaultSLA, Target: DefaultSLA, Priority: Priority{Level: "normal", Reasons: []Reason{}}}
}

// refreshCare derives the stored fields of c from the folded state e and
// its flight.
func refreshCare(tx *bolt.Tx, c *Care, e *syncproto.Enquiry) error {
	c.Status, c.FlightID, c.Flagged = e.Status, e.FlightID, e.Flagged
	c.Channel, c.Language, c.ReceivedAt = e.Channel, e.Language, e.ReceivedAt
	c.AwaitingSince, c.Deadline = e.AwaitingSince, nil
	if c.Target <= 0 {
		c.Target = c.SLA
	}
	if c.AwaitingSince != nil && c.Open() {
		d := c.AwaitingSince.Add(c.Target)
		c.Deadline = &d
	}
	c.ReplyWindowClosesAt = nil
	if w := syncproto.ReplyWindow(e.Channel); w > 0 {
		last := e.LastMessageAt
		if last.IsZero() {
			last = e.ReceivedAt
		}
		t := last.Add(w)
		c.ReplyWindowClosesAt = &t
	}
	c.LandsAt = nil
	if e.FlightID != "" {
		var f Flight
		ok, err := getJSON(tx.Bucket(bktFlights), []byte(e.FlightID), &f)
		if err != nil {
			return err
		}
		if ok && f.ArrivesAt != nil {
			t := f.ArrivesAt.UTC()
			c.LandsAt = &t
		}
	}
	c.InterimReply = c.Open() && c.ReplyWindowClosesAt != nil && c.LandsAt != nil && c.ReplyWindowClosesAt.Before(*c.LandsAt)
	return nil
}

// queueKey orders the open enquiries: by deadline (none last), then by
// priority score (highest first), then by id.
func queueKey(c *Care) []byte {
	k := make([]byte, 0, 26)
	dl := uint64(math.MaxUint64)
	if c.Deadline != nil {
		dl = uint64(max(c.Deadline.UnixMilli(), 0))
	}
	k = binary.BigEndian.AppendUint64(k, dl)
	score := uint16(min(max(c.Priority.Score, 0), math.MaxUint16))
	k = binary.BigEndian.AppendUint16(k, math.MaxUint16-score)
	return append(k, c.ID[:]...)
}

// timeKey is a time index key: milliseconds (big endian) + enquiry id.
func timeKey(t time.Time, id uuid.UUID) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 24), uint64(max(t.UnixMilli(), 0)))
	return append(k, id[:]...)
}

// reindexQueue moves an enquiry's queue entry from old to c (old may be
// nil for a new enquiry); closed enquiries leave the queue.
func reindexQueue(tx *bolt.Tx, old, c *Care) error {
	q := tx.Bucket(bktQueue)
	if old != nil {
		if err := q.Delete(queueKey(old)); err != nil {
			return err
		}
	}
	if c.Open() {
		return q.Put(queueKey(c), nil)
	}
	return nil
}

// updateCare keeps the care record, the queue, the thread and open
// indexes and the response-time figures in step with an applied op.
// before is nil for a create; rec is the care record given for a create.
func updateCare(tx *bolt.Tx, before, after *syncproto.Enquiry, rec *Care) error {
	id := after.ID
	old, err := loadCare(tx, id)
	if err != nil {
		return err
	}
	c := old
	switch {
	case c != nil:
		cp := *c
		c = &cp
	case rec != nil:
		cp := *rec
		c = &cp
		c.ID = id
	default:
		c = defaultCare(after)
	}
	if err := refreshCare(tx, c, after); err != nil {
		return err
	}
	if err := reindexQueue(tx, old, c); err != nil {
		return err
	}
	if err := putJSON(tx.Bucket(bktCare), id[:], c); err != nil {
		return err
	}

	// Threads and the open set.
	wasOpen := before != nil && before.Status != syncproto.StatusClosed
	if before == nil {
		if c.Thread != "" {
			if err := tx.Bucket(bktThreads).Put(threadKey(c.Channel, c.Thread), id[:]); err != nil {
				return err
			}
		}
		if after.Status != syncproto.StatusClosed {
			if err := tx.Bucket(bktOpen).Put(timeKey(after.ReceivedAt, id), nil); err != nil {
				return err
			}
		}
	} else if wasOpen && !c.Open() {
		if c.Thread != "" {
			// The thread is free for a new enquiry; a merged-away
			// enquiry's thread goes on into the survivor.
			tk := threadKey(c.Channel, c.Thread)
			if v := tx.Bucket(bktThreads).Get(tk); v != nil && uuid.UUID(v) == id {
				var err error
				if after.MergedInto != nil {
					err = tx.Bucket(bktThreads).Put(tk, after.MergedInto[:])
				} else {
					err = tx.Bucket(bktThreads).Delete(tk)
				}
				if err != nil {
					return err
				}
			}
		}
		if err := tx.Bucket(bktOpen).Delete(timeKey(after.ReceivedAt, id)); err != nil {
			return err
		}
	}
	return updateFigures(tx, before, after)
}

func threadKey(channel, thread string) []byte { return []byte(channel + "\x00" + thread) }

// ThreadEnquiry returns the open enquiry of a channel thread, if any: the
// enquiry the thread opened, or the one that enquiry was merged into.
func (s *Store) ThreadEnquiry(ctx context.Context, channel, thread string) (uuid.UUID, bool, error) {
	var id uuid.UUID
	var ok bool
	err := s.viewProjected(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bktThreads).Get(threadKey(channel, thread))
		if len(v) != 16 {
			return nil
		}
		c, err := loadCare(tx, uuid.UUID(v))
		if err != nil || c == nil || !c.Open() {
			return err
		}
		id, ok = uuid.UUID(v), true
		return nil
	})
	return id, ok, err
}

// QueueFilter selects queue entries.
type QueueFilter struct {
	Language string
	Channel  string
	Limit    int
}

// QueueItem is one open enquiry in the queue, in its compact state.
type QueueItem struct {
	Enquiry  *syncproto.Enquiry
	Delivery *Delivery
	Care     *Care
}

// Queue lists open enquiries by deadline (earliest first, none last), then
// priority: a walk of the queue index, never of all enquiries.
func (s *Store) Queue(ctx context.Context, f QueueFilter) ([]QueueItem, error) {
	var out []QueueItem
	err := s.viewProjected(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bktQueue).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			if len(k) != 26 {
				return fmt.Errorf("queue entry %x is corrupt", k)
			}
			id := uuid.UUID(k[10:])
			cr, err := loadCare(tx, id)
			if err != nil {
				return err
			}
			if cr == nil || f.Language != "" && cr.Language != f.Language || f.Channel != "" && cr.Channel != f.Channel {
				continue
			}
			e, err := loadEnquiry(tx, id)
			if err != nil || e == nil {
				return err
			}
			d, err := loadDelivery(tx, e)
			if err != nil {
				return err
			}
			out = append(out, QueueItem{Enquiry: e, Delivery: d, Care: cr})
			if f.Limit > 0 && len(out) >= f.Limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// OpenStats counts the open enquiries and gives the arrival time of the
// oldest (zero when none is open).
func (s *Store) OpenStats(ctx context.Context) (int, time.Time, error) {
	var n int
	var oldest time.Time
	err := s.viewProjected(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bktOpen).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if n == 0 {
				oldest = time.UnixMilli(int64(binary.BigEndian.Uint64(k[:8]))).UTC()
			}
			n++
		}
		return nil
	})
	return n, oldest, err
}

// Figure kinds.
const (
	FigureFirstResponse = "first_response" // first reply sent - first message received; by the replying agent
	FigureResolution    = "resolution"     // closed - first message received; by the closing agent
	FigureOnboard       = "onboard"        // crew outcome - hand-off to the crew; by the crew member
)

// Figure is one measured duration, indexed by the time it was completed.
type Figure struct {
	Enquiry  uuid.UUID     `json:"enquiry"`
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration"`
	Channel  string        `json:"channel"`
	Language string        `json:"language"`
	By       string        `json:"by"`
}

var figureBuckets = map[string][]byte{FigureFirstResponse: bktFigFirst, FigureResolution: bktFigResolve, FigureOnboard: bktFigOnboard}

// Figures returns the figures of one kind completed in [from, to), in time
// order: a range scan of the figure's time index.
func (s *Store) Figures(ctx context.Context, kind string, from, to time.Time) ([]Figure, error) {
	bkt, ok := figureBuckets[kind]
	if !ok {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "no figure %q", kind)
	}
	var out []Figure
	err := s.viewProjected(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bkt).Cursor()
		end := timeKey(to, uuid.Nil)
		for k, v := c.Seek(timeKey(from, uuid.Nil)); k != nil && string(k) < string(end); k, v = c.Next() {
			var f Figure
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("decode figure %x: %w", k, err)
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

// updateFigures records the durations an op completed: the first response,
// the close (a merge is not a resolution), the crew's outcome (a later
// outcome replaces an earlier one).
func updateFigures(tx *bolt.Tx, before, after *syncproto.Enquiry) error {
	put := func(bkt []byte, at, from time.Time, by string) error {
		f := Figure{Enquiry: after.ID, At: at.UTC(), Duration: max(at.Sub(from), 0), Channel: after.Channel, Language: after.Language, By: by}
		return putJSON(tx.Bucket(bkt), timeKey(f.At, after.ID), &f)
	}
	var was syncproto.Enquiry
	if before != nil {
		was = *before
	}
	arrivals, arrival := tx.Bucket(bktArrivals), timeKey(after.ReceivedAt, after.ID)
	if before == nil {
		if err := arrivals.Put(arrival, nil); err != nil {
			return err
		}
	}
	if was.FirstResponse == nil && after.FirstResponse != nil {
		if err := put(bktFigFirst, after.FirstResponse.At, after.ReceivedAt, after.FirstResponse.By); err != nil {
			return err
		}
		ms := max(after.FirstResponse.At.Sub(after.ReceivedAt).Milliseconds(), 0)
		if err := arrivals.Put(arrival, binary.BigEndian.AppendUint64(nil, uint64(ms))); err != nil {
			return err
		}
	}
	if was.MergedInto == nil && after.MergedInto != nil {
		// Its messages live on in the survivor: it is not an arrival of
		// its own any more.
		if err := arrivals.Delete(arrival); err != nil {
			return err
		}
	}
	if was.Closed == nil && after.Closed != nil && after.MergedInto == nil {
		if err := put(bktFigResolve, after.Closed.At, after.ReceivedAt, after.Closed.By); err != nil {
			return err
		}
	}
	if r := after.Resolution; r != nil && (was.Resolution == nil || was.Resolution.OpID != r.OpID) {
		if was.Resolution != nil {
			if err := tx.Bucket(bktFigOnboard).Delete(timeKey(was.Resolution.At, after.ID)); err != nil {
				return err
			}
		}
		if after.AssignedAt != nil {
			if err := put(bktFigOnboard, r.At, *after.AssignedAt, r.By); err != nil {
				return err
			}
		}
	}
	return nil
}

// duplicateMessage answers a customer message delivered again (same
// channel and external id) as a duplicate of the enquiry that has it, as
// create does: the intake is idempotent on (channel, external_id).
func duplicateMessage(tx *bolt.Tx, op *syncproto.Op, e *syncproto.Enquiry) (*Result, error) {
	if op.Kind != syncproto.KindMessage {
		return nil, nil
	}
	var d syncproto.MessageData
	_ = syncproto.DecodeData(op.Data, &d)
	id := tx.Bucket(bktByExt).Get(extKey(e.Channel, d.ExternalID))
	if id == nil {
		return nil, nil
	}
	existing, err := loadEnquiry(tx, uuid.UUID(id))
	if err != nil {
		return &Result{}, err
	}
	return &Result{OpResult: syncproto.OpResult{ID: op.ID, Result: syncproto.ResultDuplicate}, Enquiry: existing}, nil
}

// indexMessage records an applied customer message's external id, so a
// second delivery of it is a duplicate.
func indexMessage(tx *bolt.Tx, op *syncproto.Op, e *syncproto.Enquiry) error {
	if op.Kind != syncproto.KindMessage {
		return nil
	}
	var d syncproto.MessageData
	_ = syncproto.DecodeData(op.Data, &d)
	return tx.Bucket(bktByExt).Put(extKey(e.Channel, d.ExternalID), op.Enquiry[:])
}

// reachesCrew reports whether an op goes to the feed of the enquiry's
// flight. Every op does, except a customer message that arrives after the
// flight's scheduled arrival: the crew can no longer act on it, and a
// closed flight's tablets should not receive more passenger data. The
// message stays in the enquiry's history (and in a later join).
func reachesCrew(tx *bolt.Tx, op *syncproto.Op, e *syncproto.Enquiry) bool {
	if op.Kind != syncproto.KindMessage {
		return true
	}
	var f Flight
	ok, err := getJSON(tx.Bucket(bktFlights), []byte(e.FlightID), &f)
	if err != nil || !ok || f.ArrivesAt == nil {
		return true
	}
	return op.HLC.Time().Before(*f.ArrivesAt)
}

// Arrival is an enquiry by the time it arrived, with its first response
// time once answered.
type Arrival struct {
	Enquiry    uuid.UUID
	ReceivedAt time.Time
	// FirstResponse is nil while the enquiry has no reply.
	FirstResponse *time.Duration
}

// Arrivals returns the enquiries received in [from, to), merged-away ones
// left out: a range scan of the arrivals index.
func (s *Store) Arrivals(ctx context.Context, from, to time.Time) ([]Arrival, error) {
	var out []Arrival
	err := s.viewProjected(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bktArrivals).Cursor()
		end := timeKey(to, uuid.Nil)
		for k, v := c.Seek(timeKey(from, uuid.Nil)); k != nil && string(k) < string(end); k, v = c.Next() {
			if len(k) != 24 {
				return fmt.Errorf("arrival %x is corrupt", k)
			}
			a := Arrival{Enquiry: uuid.UUID(k[8:]), ReceivedAt: time.UnixMilli(int64(binary.BigEndian.Uint64(k[:8]))).UTC()}
			if len(v) == 8 {
				d := time.Duration(binary.BigEndian.Uint64(v)) * time.Millisecond
				a.FirstResponse = &d
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}
