package syncsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/server/hub"
	gstore "github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// ground is the ground server: the real store, and sessions modelled on
// server/hub/session.go.
type ground struct {
	w     *world
	path  string
	st    *gstore.Store
	clock *syncproto.Clock
	// backups are copies of the store file, with the agent ops they hold.
	backups []backup
	agent   syncproto.Actor
}

type backup struct {
	path  string
	agent map[uuid.UUID]syncproto.Op
}

// session is the ground side of one connection (hub.session).
type session struct {
	deviceID string
	flights  map[string]uint64 // flight -> cursor streamed up to
	echo     map[string]bool   // flights pulled from zero: own ops included until caught up
	inflight int               // Changes frames not yet acknowledged
	ready    bool
}

func openGround(w *world, path string) (*ground, error) {
	g := &ground{w: w, path: path, agent: syncproto.Actor{Type: syncproto.ActorAgent, ID: "admin", Name: "Sanne"}}
	return g, g.open()
}

func (g *ground) open() error {
	// The hub's store projects a push in the background a moment after
	// its ack; here the schedule decides when (see settle).
	st, err := gstore.OpenWith(g.path, gstore.Options{ManualProjection: true})
	if err != nil {
		return err
	}
	st.Now = g.w.now
	g.st = st
	// As server.Open: the clock resumes from the highest stored HLC.
	g.clock = syncproto.NewClock(st.MaxHLC())
	g.clock.Now = g.w.now
	return nil
}

func (g *ground) register(d *device) error {
	return g.st.CreateDevice(context.Background(), &gstore.Device{ID: d.id, Name: d.id, TokenHash: gstore.HashToken(d.token), CreatedAt: g.w.now(), Cursors: map[string]uint64{}})
}

// apply stores ops as the API or the hub would, and wakes the sessions.
func (g *ground) apply(ops []syncproto.Op, scope gstore.Scope) ([]gstore.Result, error) {
	rs, err := g.st.Apply(context.Background(), ops, scope)
	if err != nil {
		return nil, err
	}
	for i, r := range rs {
		if r.Result == syncproto.ResultApplied {
			g.w.o.applied(g.w, ops[i])
		}
	}
	g.streamAll()
	return rs, nil
}

// agentOp builds an op as care.Service does.
func (g *ground) agentOp(enq uuid.UUID, kind syncproto.Kind, data any) syncproto.Op {
	id := g.w.newID()
	if kind == syncproto.KindCreate {
		enq = id
	}
	return syncproto.Op{ID: id, Enquiry: enq, Kind: kind, HLC: g.clock.Tick(), Actor: g.agent, Data: syncproto.MustData(data)}
}

func (g *ground) agentCreate(flight int) error {
	w := g.w
	n := len(w.o.names)
	op := g.agentOp(uuid.Nil, syncproto.KindCreate, syncproto.CreateData{
		Channel: "twitter", ExternalID: fmt.Sprintf("tw-%d", n), Handle: "@pax", Text: "My meal was cold.", Language: "en", ReceivedAt: w.now(),
	})
	w.o.name(op.Enquiry)
	rs, err := g.apply([]syncproto.Op{op}, gstore.Scope{Strict: true})
	if err != nil {
		return err
	}
	w.logf("agent creates %s: %s", w.o.name(op.Enquiry), rs[0].Result)
	if flight >= 0 {
		a := g.agentOp(op.Enquiry, syncproto.KindAssign, syncproto.AssignData{FlightID: w.flight(flight), PassengerName: "A. Pax", Seat: "12A"})
		rs, err := g.apply([]syncproto.Op{a}, gstore.Scope{Strict: true})
		if err != nil {
			return err
		}
		w.logf("agent assigns %s to %s: %s", w.o.name(op.Enquiry), w.flight(flight), result(rs[0]))
	}
	return nil
}

func result(r gstore.Result) string {
	if r.Result == syncproto.ResultRefused {
		return r.Result + " " + r.Code
	}
	return r.Result
}

// enquiries lists the ground's enquiries in id (creation) order.
func (g *ground) enquiries() ([]*syncproto.Enquiry, error) {
	list, err := g.st.Enquiries(context.Background(), gstore.Filter{})
	if err != nil {
		return nil, err
	}
	out := make([]*syncproto.Enquiry, len(list))
	for i, l := range list {
		out[i] = l.Enquiry
	}
	slices.SortFunc(out, func(a, b *syncproto.Enquiry) int { return slices.Compare(a.ID[:], b.ID[:]) })
	return out, nil
}

func (g *ground) agentAct(kind syncproto.Kind, pick, b int) error {
	w := g.w
	list, err := g.enquiries()
	if err != nil || len(list) == 0 {
		return err
	}
	e := list[pick%len(list)]
	var data any
	switch kind {
	case syncproto.KindAssign:
		data = syncproto.AssignData{FlightID: w.flight(b), PassengerName: "A. Pax", Seat: fmt.Sprintf("%dC", 1+b%30)}
	case syncproto.KindNote:
		data = syncproto.NoteData{Text: fmt.Sprintf("agent note %d", b)}
	case syncproto.KindRecall:
		data = syncproto.RecallData{Reason: "wrong flight"}
	case syncproto.KindClose:
		data = syncproto.CloseData{Force: b%2 == 1, Reason: map[bool]string{true: "customer answered"}[b%2 == 1]}
	}
	op := g.agentOp(e.ID, kind, data)
	rs, err := g.apply([]syncproto.Op{op}, gstore.Scope{Strict: true})
	if err != nil {
		return err
	}
	w.logf("agent %s %s (%s) at %s: %s", kind, w.o.name(e.ID), e.Status, op.HLC, result(rs[0]))
	return nil
}

// receive handles a frame from a device (hub session reader + handle).
func (g *ground) receive(c *conn, f frame) {
	if !c.gndLive {
		return
	}
	if err := g.settle(); err != nil {
		g.fail(c, err)
		return
	}
	if err := g.handle(c, f); err != nil {
		g.fail(c, err)
	}
}

// fail ends a session with an ERROR frame, then the close.
func (g *ground) fail(c *conn, err error) {
	g.w.stats.SessionErrors++
	g.w.logf("c%d ground ends the session: %v", c.id, err)
	c.sendDown(g.w.encode(syncproto.FrameError, &syncproto.Error{Code: syncproto.ErrorCode(err), Message: syncproto.ErrorMessage(err)}))
	c.gndLive = false
	c.up = nil
}

func (g *ground) handle(c *conn, f frame) error {
	w := g.w
	fr, err := w.codec.Decode(f.b)
	if err != nil {
		return err
	}
	if c.gs == nil {
		if fr.Type != syncproto.FrameHello {
			return syncproto.Errorf(syncproto.CodeProtocol, "expected hello, got %s", fr.Type)
		}
		var h syncproto.Hello
		if err := fr.Unmarshal(&h); err != nil {
			return err
		}
		return g.handshake(c, &h)
	}
	s := c.gs
	ctx := context.Background()
	switch fr.Type {
	case syncproto.FramePush:
		var p syncproto.Push
		if err := fr.Unmarshal(&p); err != nil {
			return err
		}
		return g.push(c, &p)
	case syncproto.FrameChangesAck:
		var a syncproto.ChangesAck
		if err := fr.Unmarshal(&a); err != nil {
			return err
		}
		sent, ok := s.flights[a.Flight]
		if !ok || a.Cursor > sent {
			return syncproto.Errorf(syncproto.CodeProtocol, "ack for flight %q at %d was never sent", a.Flight, a.Cursor)
		}
		if _, err := g.st.AckChanges(ctx, s.deviceID, a.Flight, a.Cursor); err != nil {
			return err
		}
		// The hub's streamer drains its acks channel as they come.
		s.inflight--
		g.stream(c)
		return nil
	case syncproto.FrameSubscribe:
		var sub syncproto.Subscribe
		if err := fr.Unmarshal(&sub); err != nil {
			return err
		}
		next := map[string]uint64{}
		for fl, cur := range sub.Flights {
			if have, ok := s.flights[fl]; ok {
				cur = have
			} else {
				s.echo[fl] = cur == 0
			}
			next[fl] = cur
		}
		s.flights = next
		s.ready = false // as the hub's streamer: a READY for the new subscription
		if err := g.st.UpdateDevice(ctx, s.deviceID, func(d *gstore.Device) error {
			d.Flights = mapsKeys(next)
			for fl, cur := range sub.Flights {
				if _, ok := d.Cursors[fl]; !ok {
					if d.Cursors == nil {
						d.Cursors = map[string]uint64{}
					}
					d.Cursors[fl] = cur
				}
			}
			return nil
		}); err != nil {
			return err
		}
		g.stream(c)
		return nil
	case syncproto.FrameHeartbeat:
		return nil
	case syncproto.FrameError:
		var e syncproto.Error
		_ = fr.Unmarshal(&e)
		c.gndLive = false
		c.up = nil
		return nil
	default:
		return syncproto.Errorf(syncproto.CodeProtocol, "unexpected %s frame from a device", fr.Type)
	}
}

func (g *ground) handshake(c *conn, h *syncproto.Hello) error {
	ctx := context.Background()
	if h.Protocol != syncproto.ProtocolVersion {
		return syncproto.Errorf(syncproto.CodeProtocolVersion, "protocol version %d", h.Protocol)
	}
	dev, err := g.st.Authenticate(ctx, h.DeviceID, h.Token)
	if err != nil {
		return err
	}
	_ = g.clock.Observe(h.State.HLC)
	resync, err := hub.MustResync(ctx, g.st, h)
	if err != nil {
		return err
	}
	flights := map[string]uint64{}
	for fl, cur := range h.Flights {
		if resync {
			cur = 0
		}
		flights[fl] = cur
	}
	if err := g.st.UpdateDevice(ctx, dev.ID, func(d *gstore.Device) error {
		t := g.w.now()
		d.LastSeen = &t
		d.Flights = mapsKeys(flights)
		d.Cursors = maps.Clone(flights)
		d.State = h.State
		return nil
	}); err != nil {
		return err
	}
	// hub.register: a newer session replaces the old one at once.
	for _, o := range g.w.conns {
		if o != c && o.dev == c.dev && o.gndLive && o.gs != nil {
			g.w.logf("c%d ground drops the replaced session c%d", c.id, o.id)
			o.gndLive = false
			o.up = nil
		}
	}
	echo := map[string]bool{}
	for fl, cur := range flights {
		echo[fl] = cur == 0
	}
	c.gs = &session{deviceID: dev.ID, flights: flights, echo: echo}
	if resync {
		g.w.stats.Resyncs++
	}
	c.sendDown(g.w.encode(syncproto.FrameWelcome, &syncproto.Welcome{
		Protocol: syncproto.ProtocolVersion, Epoch: g.st.Epoch(), SessionID: fmt.Sprintf("c%d", c.id),
		HLC: g.clock.Tick(), Clock: g.w.nowMs, HeartbeatMillis: 10000, MaxFrame: syncproto.DefaultMaxFrame,
		MaxBatch: g.w.cfg.MaxBatch, Resync: resync, Flights: flights,
	}))
	g.stream(c)
	return nil
}

func (g *ground) push(c *conn, p *syncproto.Push) error {
	w := g.w
	s := c.gs
	if len(p.Ops) > w.cfg.MaxBatch {
		return syncproto.Errorf(syncproto.CodeTooLarge, "push of %d ops is over the %d op limit", len(p.Ops), w.cfg.MaxBatch)
	}
	results := make([]syncproto.OpResult, len(p.Ops))
	var valid []syncproto.Op
	var idx []int
	for i := range p.Ops {
		op := &p.Ops[i]
		if err := g.clock.Observe(op.HLC); err != nil {
			results[i] = syncproto.OpResult{ID: op.ID, Result: syncproto.ResultRefused, Code: syncproto.ErrorCode(err), Message: syncproto.ErrorMessage(err)}
			continue
		}
		valid = append(valid, *op)
		idx = append(idx, i)
	}
	// As in the hub: store, then the PushAck, then the streamers (which
	// the hub wakes before it enqueues the ack, but which take longer to
	// read the store than the ack takes to queue).
	rs, err := g.st.Apply(context.Background(), valid, gstore.Scope{Device: s.deviceID, Flights: mapsKeys(s.flights)})
	if err != nil {
		return err
	}
	for j, r := range rs {
		results[idx[j]] = r.OpResult
		if r.Result == syncproto.ResultApplied {
			w.o.applied(w, valid[j])
		}
	}
	summary := map[string]int{}
	for _, r := range results {
		summary[r.Result+map[bool]string{true: " " + r.Code}[r.Code != ""]]++
	}
	w.logf("c%d ground stores push #%d of %s: %v", c.id, p.Batch, c.dev.id, summary)
	heads := map[string]uint64{}
	for _, fl := range mapsKeys(s.flights) {
		h, err := g.st.FlightHead(context.Background(), fl)
		if err != nil {
			return err
		}
		heads[fl] = h
	}
	ack := w.encode(syncproto.FramePushAck, &syncproto.PushAck{Batch: p.Batch, Results: results, Heads: heads, Stored: hub.StoredMark(rs)})
	ack.pending = g.pending(s)
	c.sendDown(ack)
	// The projection follows the ack: at once, or (half the time) only
	// before the ground's next step, so the tablets meanwhile see heads
	// and feeds without this push.
	if w.rng.IntN(2) == 0 {
		w.logf("c%d ground defers the projection of push #%d", c.id, p.Batch)
		return nil
	}
	return g.settle()
}

// settle projects the pushes the store has logged but not yet projected,
// as the hub's store does in the background, and streams what that made
// visible.
func (g *ground) settle() error {
	if g.st.Pending() == 0 {
		return nil
	}
	n := g.st.Pending()
	if err := g.st.Project(context.Background()); err != nil {
		return err
	}
	g.w.logf("ground projects %d pushed ops", n)
	g.streamAll()
	return nil
}

// pending reports whether the ground has changes for the session's device
// that it has not streamed yet.
func (g *ground) pending(s *session) bool {
	for _, fl := range mapsKeys(s.flights) {
		p, err := g.st.Changes(context.Background(), fl, s.flights[fl], 1, s.deviceID)
		if err == nil && len(p.Ops) > 0 {
			return true
		}
	}
	return false
}

func (g *ground) streamAll() {
	for _, c := range g.w.conns {
		g.stream(c)
	}
}

// stream is the hub's streamer: pages of each flight after the session's
// cursor, at most Window unacknowledged, then READY once.
func (g *ground) stream(c *conn) {
	s := c.gs
	if s == nil || !c.gndLive || !c.devLive {
		return
	}
	w := g.w
	for {
		progress, more := false, false
		for _, fl := range mapsKeys(s.flights) {
			if s.inflight >= w.cfg.Window {
				more = true
				break
			}
			cursor := s.flights[fl]
			skip := s.deviceID
			if s.echo[fl] {
				skip = ""
			}
			page, err := g.st.Changes(context.Background(), fl, cursor, w.cfg.MaxBatch, skip)
			if err != nil {
				g.fail(c, fmt.Errorf("read changes: %w", err))
				return
			}
			if page.Cursor == cursor {
				continue
			}
			s.flights[fl] = page.Cursor
			if !page.More {
				delete(s.echo, fl)
			}
			ch := &syncproto.Changes{Flight: fl, Ops: page.Ops, Cursor: page.Cursor, CursorOp: page.CursorOp, More: page.More}
			if !page.More {
				if ch.Heads, err = hub.OtherHeads(context.Background(), g.st, s.flights, fl); err != nil {
					g.fail(c, fmt.Errorf("read heads: %w", err))
					return
				}
			}
			f := w.encode(syncproto.FrameChanges, ch)
			f.pending = g.pending(s)
			c.sendDown(f)
			w.stats.Pages++
			s.inflight++
			progress = true
			more = more || page.More
		}
		if progress {
			continue
		}
		if !s.ready && !more && s.inflight == 0 {
			s.ready = true
			f := w.encode(syncproto.FrameReady, &syncproto.Ready{Cursors: maps.Clone(s.flights)})
			f.pending = g.pending(s)
			c.sendDown(f)
		}
		return
	}
}

// dropAll is the process dying: every connection goes, with everything
// in flight either way.
func (g *ground) dropAll() {
	for _, c := range g.w.conns {
		if c.dev.conn == c {
			c.dev.disconnected()
		}
		c.devLive, c.gndLive = false, false
		c.up, c.down = nil, nil
	}
	g.w.gc()
}

func (g *ground) restart(keepBackup bool) error {
	w := g.w
	w.stats.GroundRestarts++
	g.dropAll()
	if err := g.st.Close(); err != nil {
		return err
	}
	if keepBackup {
		b := backup{path: fmt.Sprintf("%s.backup-%d", g.path, len(g.backups)), agent: maps.Clone(w.o.agent)}
		if err := copyFile(g.path, b.path); err != nil {
			return err
		}
		g.backups = append(g.backups, b)
	}
	w.logf("ground restarts (kill -9)%s", map[bool]string{true: fmt.Sprintf(", backup %d kept", len(g.backups)-1)}[keepBackup])
	return g.open()
}

// restore puts an older copy of the file back. A restore tool gives it a
// new epoch; a raw copy keeps the old one.
func (g *ground) restore(pick int) error {
	w := g.w
	if len(g.backups) == 0 {
		return nil
	}
	b := g.backups[pick%len(g.backups)]
	w.stats.Restores++
	g.dropAll()
	if err := g.st.Close(); err != nil {
		return err
	}
	if err := copyFile(b.path, g.path); err != nil {
		return err
	}
	if !w.cfg.RawRestore {
		if err := setEpoch(g.path, w.newID().String()); err != nil {
			return err
		}
	}
	w.o.restore(b.agent)
	w.logf("ground RESTORED from backup %d (%s)", pick%len(g.backups), map[bool]string{true: "raw copy, same epoch", false: "new epoch"}[w.cfg.RawRestore])
	return g.open()
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// setEpoch writes a new epoch into a closed ground file, as a restore tool
// would.
func setEpoch(path, epoch string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("meta"))
		if b == nil {
			return errors.New("no meta bucket")
		}
		return b.Put([]byte("epoch"), []byte(epoch))
	})
	return errors.Join(err, db.Close())
}
