package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// A device's push is acknowledged once its ops are in the log: the log is
// the durable truth, and everything else about an op (the enquiry's
// state, its care record and queue place, the flights' feeds, the op
// index per enquiry) is a projection of the log. Writing the projection
// in the same commit made a push of 1,000 crew outcomes wait for some
// 3,000 pages scattered over the B-trees to be written and flushed; the
// log and its op index are appends, a few dozen pages. So a device push
// commits the log first, and the projection follows in its own commit,
// off the push's path. Ground writes (the agents' API, intake, imports)
// are not deferred: they check against the current state and their
// callers read their own writes.
//
// The projection keeps the log's order. Every transaction that projects
// starts with what is pending, so a feed only ever grows at its end and
// a cursor never skips an entry. meta/projected is the last projected
// sequence; a crash between the two commits leaves the rest pending, and
// Open projects it before anything reads.

var keyProjected = []byte("projected")

var errClosed = errors.New("the store is closed")

// defaultMaxPending bounds how far the projection may lag the log. Beyond
// it a push waits: what a device pushed is visible to agents and other
// tablets within about a second even under a fleet-wide storm.
const defaultMaxPending = 32000

// pushesPerCommit bounds the device pushes that share a commit. A commit
// of 100 pushes of 1,000 ops inserts 100,000 keys into the op index's
// in-memory nodes, which bbolt splits only at the commit, and each insert
// moves the keys after it: a third of the ground's CPU in the ingest
// scenario. Small writes (device records, acks, audit) still share
// commits as widely as bbolt's Batch lets them: 10,000 tablets
// reconnecting update their records in a few commits, not hundreds.
const pushesPerCommit = 16

// projectChunk is the most ops one projection commit takes. Larger
// commits write each hot page once for more ops (ingest's throughput
// rises with it), but hold bbolt's one writer longer, and pushes wait
// for it.
const projectChunk = 16000

// Options tune Open.
type Options struct {
	// ManualProjection leaves deferred projection to Project calls: no
	// background goroutine. The convergence simulation steps it by seed.
	ManualProjection bool
	// MaxPending is how many pushed ops may wait for projection before a
	// push waits for room [32000].
	MaxPending int
}

// projector is the store's deferred-projection state.
type projector struct {
	// head and done mirror the log's sequence and meta/projected after
	// each commit, so waiting and kicking need no transaction.
	head, done atomic.Uint64
	hook       atomic.Pointer[func([]Result)]
	kick       chan struct{}
	stop       chan struct{}
	wg         sync.WaitGroup

	mu      sync.Mutex
	settled *sync.Cond // broadcast when done moves
	// reserved counts the ops of pushes admitted but not yet committed.
	reserved atomic.Uint64
	// admit queues pushes that wait for room, so they go on in the order
	// they came rather than whichever wakes first: without it some
	// devices' pushes starved for seconds while others went through.
	admit sync.Mutex
	// failed is the background projection's last error (nil once it
	// succeeds again): waiters get it instead of waiting for a projection
	// that cannot happen, such as on a failing disk.
	failed error // guarded by mu
	// checking keeps projection out while Check reads: bbolt's page
	// check reports pages a concurrent commit frees as still reachable.
	checking sync.RWMutex
}

func (p *projector) init() {
	p.kick = make(chan struct{}, 1)
	p.stop = make(chan struct{})
	p.settled = sync.NewCond(&p.mu)
}

// SetProjected sets the function that hears every device op once it is
// projected (the enquiry's state and the flights whose feed got it): the
// hub wakes those flights' sessions and publishes the live events. It is
// called outside any transaction, after the commit that projected them:
// in log order within a call, but two commits (the background projector's
// and a ground write's) may report in either order.
func (s *Store) SetProjected(fn func([]Result)) {
	s.proj.hook.Store(&fn)
}

func (s *Store) projected(rs []Result) {
	if len(rs) == 0 {
		return
	}
	if fn := s.proj.hook.Load(); fn != nil && *fn != nil {
		(*fn)(rs)
	}
}

// Pending is how many pushed ops are stored but not yet projected.
func (s *Store) Pending() uint64 {
	h, d := s.proj.head.Load(), s.proj.done.Load()
	if d >= h {
		return 0
	}
	return h - d
}

// Project projects every pending op now. Concurrent calls and the
// background projector serialise on bbolt's writer and never project an
// op twice: what is pending is read inside each commit.
func (s *Store) Project(ctx context.Context) error {
	for s.Pending() > 0 {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		if err := s.projectOnce(); err != nil {
			return err
		}
	}
	return nil
}

// projectOnce projects up to projectChunk pending ops in one commit.
func (s *Store) projectOnce() error {
	s.proj.checking.RLock()
	defer s.proj.checking.RUnlock()
	var rs []Result
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		rs, err = projectPending(tx, projectChunk)
		s.onCommit(tx)
		return err
	})
	s.proj.setFailed(err)
	if err != nil {
		return fmt.Errorf("project ops: %w", err)
	}
	s.projected(rs)
	return nil
}

func (p *projector) setFailed(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("the projection of pushed ops is failing: %w", err)
	}
	if err != nil || p.failed != nil {
		p.failed = err
		p.settled.Broadcast()
	}
}

// onCommit publishes the log head and projected mark once tx commits.
func (s *Store) onCommit(tx *bolt.Tx) {
	head, done := tx.Bucket(bktLog).Sequence(), projectedMark(tx)
	tx.OnCommit(func() {
		s.advance(head, done)
	})
}

func (s *Store) advance(head, done uint64) {
	p := &s.proj
	for {
		h := p.head.Load()
		if head <= h || p.head.CompareAndSwap(h, head) {
			break
		}
	}
	moved := false
	for {
		d := p.done.Load()
		if done <= d {
			break
		}
		if p.done.CompareAndSwap(d, done) {
			moved = true
			break
		}
	}
	if moved {
		p.mu.Lock()
		p.settled.Broadcast()
		p.mu.Unlock()
	}
	if p.head.Load() > p.done.Load() {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// caughtUp is the read barrier of the agents' views: it waits until
// every op logged when it was called is projected, so a console never
// shows less than a tablet was told is stored (the tablet says "synced",
// the agent sees its work). The wait is the projection of what was
// pending then: nothing when idle, about a second at most in a storm.
// With manual projection the caller steps it, so reads do not wait.
func (s *Store) caughtUp(ctx context.Context) error {
	p := &s.proj
	h := p.head.Load()
	if p.done.Load() >= h || s.manual {
		return nil
	}
	return p.waitUntil(ctx, func() bool { return p.done.Load() >= h })
}

// viewProjected is db.View behind the read barrier: for the reads of
// what the projection writes (enquiries, care records, queue, figures).
func (s *Store) viewProjected(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := s.caughtUp(ctx); err != nil {
		return err
	}
	return s.db.View(fn)
}

// waitRoom blocks a push of n ops until the ops pending projection, with
// those of the pushes admitted but not yet committed, leave room for it
// under maxPending, and reserves that room; release gives it back once
// the push has committed (or failed). Reserving makes the bound hold
// when many devices push at once: each would otherwise see room and all
// would go. A push larger than the bound goes once nothing else waits.
func (s *Store) waitRoom(ctx context.Context, n int) (release func(), err error) {
	p := &s.proj
	room := func() bool {
		used := s.Pending() + p.reserved.Load()
		return used == 0 || used+uint64(n) <= s.maxPending
	}
	p.admit.Lock()
	defer p.admit.Unlock()
	if !room() {
		if err := p.waitUntil(ctx, room); err != nil {
			return nil, err
		}
	}
	p.reserved.Add(uint64(n))
	return func() {
		p.reserved.Add(^uint64(n - 1))
		p.mu.Lock()
		p.settled.Broadcast()
		p.mu.Unlock()
	}, nil
}

// waitUntil waits until ok, which the projection's progress makes true,
// or until ctx ends or the store closes.
func (p *projector) waitUntil(ctx context.Context, ok func() bool) error {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.settled.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for !ok() {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		if p.failed != nil {
			return p.failed
		}
		select {
		case <-p.stop:
			return errClosed
		default:
		}
		p.settled.Wait()
	}
	return nil
}

// runProjector is the background projector: it projects whenever a push leaves
// ops pending, until the store closes.
func (s *Store) runProjector() {
	defer s.proj.wg.Done()
	for {
		select {
		case <-s.proj.stop:
			return
		case <-s.proj.kick:
		}
		for s.Pending() > 0 {
			select {
			case <-s.proj.stop:
				return
			default:
			}
			if err := s.projectOnce(); err != nil {
				// The ops are safe in the log; the next push, ground
				// write or restart projects them.
				s.Log.Error("deferred projection failed", "err", err)
				break
			}
		}
	}
}

func projectedMark(tx *bolt.Tx) uint64 {
	if v := tx.Bucket(bktMeta).Get(keyProjected); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// projectPending projects up to limit pending ops of the log (all of them
// for 0), in order, and returns what each did. Every write transaction
// that projects calls it first.
func projectPending(tx *bolt.Tx, limit int) ([]Result, error) {
	from, head := projectedMark(tx), tx.Bucket(bktLog).Sequence()
	if from >= head {
		return nil, nil
	}
	to := head
	if limit > 0 && head-from > uint64(limit) {
		to = from + uint64(limit)
	}
	var rs []Result
	logb := tx.Bucket(bktLog)
	// The state each op leaves is the next op's "before" on the same
	// enquiry: kept here, it is not decoded again from the page just
	// written (a chunk holds several ops of most enquiries it touches).
	states := map[uuid.UUID]*syncproto.Enquiry{}
	for seq := from + 1; seq <= to; seq++ {
		raw := logb.Get(u64(seq))
		if raw == nil {
			// A sequence NextSequence gave to a batch that then failed
			// inside a committed transaction never happens with bbolt
			// (the sequence rolls back with it), but a gap is harmless.
			continue
		}
		op, err := decodeLogOp(raw)
		if err != nil {
			return nil, fmt.Errorf("decode op at %d: %w", seq, err)
		}
		before, ok := states[op.Enquiry]
		if !ok {
			if before, err = loadEnquiry(tx, op.Enquiry); err != nil {
				return nil, err
			}
		}
		r, err := project(tx, &op, seq, before, nil)
		if err != nil {
			return nil, err
		}
		states[op.Enquiry] = r.Enquiry
		rs = append(rs, r)
	}
	return rs, tx.Bucket(bktMeta).Put(keyProjected, u64(to))
}

// markProjected records that the whole log is projected: the end of a
// ground write, which projected what was pending and then its own ops.
func markProjected(tx *bolt.Tx) error {
	head := tx.Bucket(bktLog).Sequence()
	if projectedMark(tx) == head {
		return nil
	}
	return tx.Bucket(bktMeta).Put(keyProjected, u64(head))
}
