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

// Scope says who is writing a batch of ops, and so which checks apply.
type Scope struct {
	// Device, when set, is a device pushing its ops. Each op must be for an
	// enquiry that has been on one of Flights; the fold, not the store,
	// decides what a late or concurrent op does to the status.
	Device  string
	Flights []string
	// Strict refuses an op that is illegal on the current state
	// (syncproto.Enquiry.Check). Agents' API writes are strict, so an
	// illegal change is a 409 and changes nothing.
	Strict bool
}

// Result is what Apply did with one op.
type Result struct {
	syncproto.OpResult
	Seq uint64
	// Enquiry is the compact state after the op (for a duplicate create,
	// the existing enquiry with the same channel and external id): no
	// notes, no history.
	Enquiry *syncproto.Enquiry
	// Flights are the flights whose feed got this op, for live fan-out.
	Flights []string
}

// Apply stores ops durably and answers each with applied, duplicate or
// refused. A refused op changes nothing and does not block the ops after
// it. Concurrent calls share commits. The error is for the store itself
// (I/O, a closed database), never for a single op.
func (s *Store) Apply(ctx context.Context, ops []syncproto.Op, scope Scope) ([]Result, error) {
	return s.apply(ctx, ops, scope, nil)
}

func (s *Store) apply(ctx context.Context, ops []syncproto.Op, scope Scope, care map[uuid.UUID]*Care) ([]Result, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	// A device's push is deferred: checked and logged now, projected
	// after the commit (project.go). Everything else projects what is
	// pending first, then its own ops, in one commit.
	deferred := scope.Device != ""
	if deferred {
		release, err := s.waitRoom(ctx, len(ops))
		if err != nil {
			return nil, err
		}
		// Released after the commit: by then its ops count as pending.
		defer release()
		select {
		case s.pushSlots <- struct{}{}:
			defer func() { <-s.pushSlots }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var results, late []Result
	// Batch may run the function again on its own if a batch-mate fails,
	// so it starts from scratch each time and results are used only after
	// Batch returns.
	err := s.db.Batch(func(tx *bolt.Tx) error {
		results, late = make([]Result, len(ops)), nil
		if !deferred {
			var err error
			if late, err = projectPending(tx, 0); err != nil {
				return err
			}
		}
		for i := range ops {
			r, err := applyOne(tx, &ops[i], scope, care, deferred)
			if err != nil {
				return err
			}
			results[i] = r
		}
		if !deferred {
			if err := markProjected(tx); err != nil {
				return err
			}
		}
		s.onCommit(tx)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("apply ops: %w", err)
	}
	s.projected(late)
	return results, nil
}

func refused(op *syncproto.Op, err error) Result {
	return Result{OpResult: syncproto.OpResult{ID: op.ID, Result: syncproto.ResultRefused, Code: syncproto.ErrorCode(err), Message: syncproto.ErrorMessage(err)}}
}

// applyOne checks an op and logs it; unless deferred, it projects it too.
func applyOne(tx *bolt.Tx, op *syncproto.Op, scope Scope, care map[uuid.UUID]*Care, deferred bool) (Result, error) {
	if err := op.Validate(); err != nil {
		return refused(op, err), nil
	}
	if scope.Device != "" && (op.Actor.Type != syncproto.ActorDevice || op.Actor.ID != scope.Device) {
		return refused(op, syncproto.Errorf(syncproto.CodeForbidden, "op %s is not written by this device", op.ID)), nil
	}
	if seq := tx.Bucket(bktOpIdx).Get(op.ID[:]); seq != nil {
		dup := Result{OpResult: syncproto.OpResult{ID: op.ID, Result: syncproto.ResultDuplicate}, Seq: binary.BigEndian.Uint64(seq)}
		if deferred {
			return dup, nil
		}
		e, err := loadEnquiry(tx, op.Enquiry)
		dup.Enquiry = e
		return dup, err
	}
	if deferred {
		return logDeviceOp(tx, op, scope)
	}
	before, err := loadEnquiry(tx, op.Enquiry)
	if err != nil {
		return Result{}, err
	}
	if op.Kind == syncproto.KindCreate {
		var d syncproto.CreateData
		_ = syncproto.DecodeData(op.Data, &d)
		if id := tx.Bucket(bktByExt).Get(extKey(d.Channel, d.ExternalID)); id != nil {
			// The same social message delivered twice: the intake is
			// idempotent on (channel, external_id).
			existing, err := loadEnquiry(tx, uuid.UUID(id))
			if err != nil {
				return Result{}, err
			}
			return Result{OpResult: syncproto.OpResult{ID: op.ID, Result: syncproto.ResultDuplicate}, Enquiry: existing}, nil
		}
		if before != nil {
			return refused(op, syncproto.Errorf(syncproto.CodeConflict, "enquiry %s exists already", op.Enquiry)), nil
		}
	} else if before == nil {
		return refused(op, syncproto.Errorf(syncproto.CodeUnknownEnquiry, "enquiry %s does not exist", op.Enquiry)), nil
	} else if dup, err := duplicateMessage(tx, op, before); dup != nil || err != nil {
		return *dup, err
	}
	if scope.Device != "" && !servesAny(before, scope.Flights) && !carried(tx, op.Enquiry, scope.Flights) {
		return refused(op, syncproto.Errorf(syncproto.CodeOutOfScope, "enquiry %s is not on a flight this device serves", op.Enquiry)), nil
	}
	if scope.Strict && before != nil {
		if err := before.Check(op); err != nil {
			return refused(op, err), nil
		}
	}

	seq, err := appendLog(tx, op)
	if err != nil {
		return Result{}, err
	}
	return project(tx, op, seq, before, care)
}

// logDeviceOp checks a device's op against what the store has projected
// and logs it for the projection to follow. A device writes only notes,
// acks and outcomes (Validate), none of which creates an enquiry or sends
// one to a flight its tablets were never sent, so what is still pending
// cannot change the answer. The carried index answers the scope check
// for any enquiry a feed of the device's flights has carried, without
// decoding the enquiry's state; only an op outside it reads the state,
// to refuse it with the right code.
func logDeviceOp(tx *bolt.Tx, op *syncproto.Op, scope Scope) (Result, error) {
	if !carried(tx, op.Enquiry, scope.Flights) {
		before, err := loadEnquiry(tx, op.Enquiry)
		if err != nil {
			return Result{}, err
		}
		if before == nil {
			return refused(op, syncproto.Errorf(syncproto.CodeUnknownEnquiry, "enquiry %s does not exist", op.Enquiry)), nil
		}
		if !servesAny(before, scope.Flights) {
			return refused(op, syncproto.Errorf(syncproto.CodeOutOfScope, "enquiry %s is not on a flight this device serves", op.Enquiry)), nil
		}
	}
	seq, err := appendLog(tx, op)
	if err != nil {
		return Result{}, err
	}
	return Result{OpResult: syncproto.OpResult{ID: op.ID, Result: syncproto.ResultApplied}, Seq: seq}, nil
}

// appendLog gives op the next sequence and stores it in the log and the
// op-id index: what makes it durable, and all a device's push waits for.
func appendLog(tx *bolt.Tx, op *syncproto.Op) (uint64, error) {
	logb := tx.Bucket(bktLog)
	seq, err := logb.NextSequence()
	if err != nil {
		return 0, err
	}
	// The log holds each op in the wire's binary encoding: a pull reads
	// it back without JSON, and it takes a third of the space.
	if err := logb.Put(u64(seq), syncproto.AppendOps(nil, []syncproto.Op{*op})); err != nil {
		return 0, err
	}
	if err := tx.Bucket(bktOpIdx).Put(op.ID[:], u64(seq)); err != nil {
		return 0, err
	}
	return seq, bumpHLC(tx, op.HLC)
}

// project writes what follows from a logged op: its place among its
// enquiry's ops, the enquiry's state and care record, and the feeds of
// the flights that must hear of it. before is the enquiry's state before
// the op (nil for a create).
func project(tx *bolt.Tx, op *syncproto.Op, seq uint64, before *syncproto.Enquiry, care map[uuid.UUID]*Care) (Result, error) {
	if err := tx.Bucket(bktEnqOps).Put(append(op.Enquiry[:len(op.Enquiry):len(op.Enquiry)], u64(seq)...), nil); err != nil {
		return Result{}, err
	}
	if op.Kind == syncproto.KindCreate {
		var d syncproto.CreateData
		_ = syncproto.DecodeData(op.Data, &d)
		if err := tx.Bucket(bktByExt).Put(extKey(d.Channel, d.ExternalID), op.Enquiry[:]); err != nil {
			return Result{}, err
		}
	}

	// The stored state is compact (see compact), so its cost per op does
	// not grow with the enquiry's history.
	var after syncproto.Enquiry
	rewrite, reordered := true, false
	switch {
	case before != nil && before.CanAppend(op):
		after = before.Clone()
		after.Apply(op)
	case before != nil && op.Kind == syncproto.KindNote:
		// A note that sorts before the last folded op changes only the
		// notes and the history, which the compact state leaves out: no
		// refold, and nothing to rewrite.
		after, rewrite = *before, false
	default:
		all, err := enquiryOps(tx, op.Enquiry, ^uint64(0))
		if err != nil {
			return Result{}, err
		}
		after = syncproto.Fold(all)
		reordered = before != nil
	}
	compact(&after)
	if rewrite {
		if err := putJSON(tx.Bucket(bktEnquiries), op.Enquiry[:], &after); err != nil {
			return Result{}, err
		}
		if err := updateCare(tx, before, &after, care[op.Enquiry]); err != nil {
			return Result{}, err
		}
	}
	if err := indexMessage(tx, op, &after); err != nil {
		return Result{}, err
	}

	// Index the op in the feed of every flight that must hear of it: the
	// flight it is on now, and the flight it just left (so that flight's
	// tablets drop it). Arriving on a flight is a join: the flight's
	// devices need the enquiry's earlier ops too.
	var flights []string
	prev := ""
	if before != nil {
		prev = before.FlightID
	}
	// A device's own op carries its id in the feed entry, so pages for that
	// device can leave it out without decoding the op.
	var author []byte
	if op.Actor.Type == syncproto.ActorDevice {
		author = []byte(op.Actor.ID)
	}
	if after.FlightID != "" && reachesCrew(tx, op, &after) {
		var flag byte
		if after.FlightID != prev {
			flag = feedJoin
		}
		if err := putFeed(tx, after.FlightID, seq, op.Enquiry, flag, author); err != nil {
			return Result{}, err
		}
		flights = append(flights, after.FlightID)
	}
	if prev != "" && prev != after.FlightID {
		if err := putFeed(tx, prev, seq, op.Enquiry, 0, author); err != nil {
			return Result{}, err
		}
		flights = append(flights, prev)
	}
	// An op that sorts before ops already folded (a crew outcome recorded
	// offline before an agent's recall, say) can change what those later
	// ops did: a recall now ignored, so a later assign moves the enquiry
	// off a flight it had, by the earlier fold, already left. The tablets
	// of every flight the enquiry was ever on may hold such a stale
	// reading and the later ops that correct it were never in their feed,
	// so each gets a join: the whole history again, from which a tablet
	// folds the right state or purges the enquiry. This is rare (offline
	// work racing the agent) and bounded by the enquiry's history.
	if reordered {
		for _, f := range slices.Concat(before.Flights, after.Flights) {
			if f == "" || slices.Contains(flights, f) {
				continue
			}
			if err := putFeed(tx, f, seq, op.Enquiry, feedJoin, author); err != nil {
				return Result{}, err
			}
			flights = append(flights, f)
		}
	}
	return Result{OpResult: syncproto.OpResult{ID: op.ID, Result: syncproto.ResultApplied}, Seq: seq, Enquiry: &after, Flights: flights}, nil
}

// putFeed indexes an op of enq in flight's feed, and remembers that the
// flight's tablets were sent the enquiry.
func putFeed(tx *bolt.Tx, flight string, seq uint64, enq uuid.UUID, flags byte, author []byte) error {
	if err := tx.Bucket(bktFeed).Put(feedKey(flight, seq), feedValue(enq, flags, author)); err != nil {
		return err
	}
	// Most ops are for an enquiry its flight carries already; a Put of
	// the same key would still rewrite its page.
	b, k := tx.Bucket(bktCarried), slices.Concat(enq[:], []byte(flight))
	if b.Get(k) != nil {
		return nil
	}
	return b.Put(k, nil)
}

// carried reports whether the feed of one of flights ever carried enq. The
// folded Flights is not enough to scope a device's ops: a late crew op can
// void a move in hindsight, and the tablets of the flight it was moved to,
// which were sent the enquiry and may have acted on it, must still have
// their work stored (the fold decides what it does), not refused.
func carried(tx *bolt.Tx, enq uuid.UUID, flights []string) bool {
	b := tx.Bucket(bktCarried)
	for _, f := range flights {
		if b.Get(slices.Concat(enq[:], []byte(f))) != nil {
			return true
		}
	}
	return false
}

func servesAny(e *syncproto.Enquiry, flights []string) bool {
	for _, f := range e.Flights {
		if contains(flights, f) {
			return true
		}
	}
	return false
}

func bumpHLC(tx *bolt.Tx, h syncproto.HLC) error {
	meta := tx.Bucket(bktMeta)
	if v := meta.Get(keyHLC); len(v) == 8 && syncproto.HLC(binary.BigEndian.Uint64(v)) >= h {
		return nil
	}
	return meta.Put(keyHLC, u64(uint64(h)))
}

func loadEnquiry(tx *bolt.Tx, id uuid.UUID) (*syncproto.Enquiry, error) {
	var e syncproto.Enquiry
	ok, err := getJSON(tx.Bucket(bktEnquiries), id[:], &e)
	if err != nil || !ok {
		return nil, err
	}
	return &e, nil
}

// enquiryOps returns the ops of one enquiry with a sequence up to maxSeq,
// in sequence order.
func enquiryOps(tx *bolt.Tx, id uuid.UUID, maxSeq uint64) ([]syncproto.Op, error) {
	var ops []syncproto.Op
	logb := tx.Bucket(bktLog)
	c := tx.Bucket(bktEnqOps).Cursor()
	for k, _ := c.Seek(id[:]); k != nil && hasPrefix(k, id[:]); k, _ = c.Next() {
		seq := binary.BigEndian.Uint64(k[16:])
		if seq > maxSeq {
			break
		}
		op, err := decodeLogOp(logb.Get(k[16:]))
		if err != nil {
			return nil, fmt.Errorf("decode op at %d: %w", seq, err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// compact drops the notes, the history and the customer thread (messages
// and replies) from a state before it is stored: they follow from the ops,
// and keeping them would make every op's write cost grow with the
// enquiry's history. Enquiry refolds them.
func compact(e *syncproto.Enquiry) {
	e.Notes, e.History = nil, nil
	e.Messages, e.Replies = nil, nil
}

// Enquiry returns one enquiry's full state, notes and history included
// (folded from its ops), with its delivery receipt.
func (s *Store) Enquiry(ctx context.Context, id uuid.UUID) (*syncproto.Enquiry, *Delivery, error) {
	var e *syncproto.Enquiry
	var d *Delivery
	err := s.viewProjected(ctx, func(tx *bolt.Tx) error {
		stored, err := loadEnquiry(tx, id)
		if err != nil || stored == nil {
			return err
		}
		ops, err := enquiryOps(tx, id, ^uint64(0))
		if err != nil {
			return err
		}
		full := syncproto.Fold(ops)
		e = &full
		d, err = loadDelivery(tx, e)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if e == nil {
		return nil, nil, notFound("enquiry", id.String())
	}
	return e, d, nil
}

// EnquiryOps returns every op of one enquiry, in server order.
func (s *Store) EnquiryOps(ctx context.Context, id uuid.UUID) ([]syncproto.Op, error) {
	var ops []syncproto.Op
	err := s.viewProjected(ctx, func(tx *bolt.Tx) error {
		var err error
		ops, err = enquiryOps(tx, id, ^uint64(0))
		return err
	})
	return ops, err
}

// Filter selects enquiries. Empty fields match everything.
type Filter struct {
	Status   syncproto.Status
	FlightID string
	Limit    int
}

// Listed is an enquiry with its delivery receipt.
type Listed struct {
	Enquiry  *syncproto.Enquiry
	Delivery *Delivery
}

// Enquiries lists enquiries matching f, newest first, in their compact
// state: without notes and history (Enquiry has them). Status "delivered"
// matches assigned enquiries with a delivery receipt.
func (s *Store) Enquiries(ctx context.Context, f Filter) ([]Listed, error) {
	var out []Listed
	err := s.viewProjected(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bktEnquiries).Cursor()
		// Enquiry ids are UUIDv7, so key order is creation order; walk
		// backwards for newest first.
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			var e syncproto.Enquiry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode enquiry %x: %w", k, err)
			}
			if f.FlightID != "" && e.FlightID != f.FlightID {
				continue
			}
			d, err := loadDelivery(tx, &e)
			if err != nil {
				return err
			}
			if f.Status != "" && EffectiveStatus(&e, d) != f.Status {
				continue
			}
			out = append(out, Listed{Enquiry: &e, Delivery: d})
			if f.Limit > 0 && len(out) >= f.Limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// Delivery is the receipt that a device of the enquiry's flight has stored
// its current hand-off.
type Delivery struct {
	AssignOp uuid.UUID `json:"assign_op"`
	DeviceID string    `json:"device_id"`
	At       time.Time `json:"at"`
}

// EffectiveStatus is the status agents see: the folded status, with
// "delivered" for an assigned enquiry whose current hand-off a tablet has
// stored.
func EffectiveStatus(e *syncproto.Enquiry, d *Delivery) syncproto.Status {
	if e.Status == syncproto.StatusAssigned && d != nil {
		return syncproto.StatusDelivered
	}
	return e.Status
}

func loadDelivery(tx *bolt.Tx, e *syncproto.Enquiry) (*Delivery, error) {
	var d Delivery
	ok, err := getJSON(tx.Bucket(bktDelivery), e.ID[:], &d)
	if err != nil || !ok || d.AssignOp != e.AssignOp {
		return nil, err
	}
	return &d, nil
}

// decodeLogOp decodes an op of the log: the binary encoding, or JSON in a
// database written before the log switched to it.
func decodeLogOp(raw []byte) (syncproto.Op, error) {
	var op syncproto.Op
	if len(raw) > 0 && raw[0] == '{' {
		err := json.Unmarshal(raw, &op)
		return op, err
	}
	ops, err := syncproto.DecodeOwnOps(raw, 1)
	if err != nil {
		return op, err
	}
	if len(ops) != 1 {
		return op, fmt.Errorf("log entry holds %d ops", len(ops))
	}
	return ops[0], nil
}
