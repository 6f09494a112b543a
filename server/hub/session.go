package hub

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

type session struct {
	hub      *Hub
	conn     *websocket.Conn
	remote   string
	id       string
	deviceID string
	log      *slog.Logger

	send     chan []byte   // to the writer; bounded
	notify   chan struct{} // buffer of 1: the streamer has changes to read
	acks     chan syncproto.ChangesAck
	done     chan struct{} // closed when the session ends
	failOnce sync.Once
	ackers   sync.WaitGroup // the acker goroutine, while one runs
	failErr  error          // set once, before done is closed

	rosterMu sync.Mutex        // serialises sendRoster
	mu       sync.Mutex        // guards the fields below
	flights  map[string]uint64 // flight -> cursor the streamer has sent up to
	// echo holds the flights pulled from zero (a new flight, a fresh or
	// resynced store): until their catch-up ends, pages include the
	// device's own ops, which it may have lost; later pages leave them out.
	echo        map[string]bool
	resubscribe bool
	repull      bool              // this session serves an admin's forced resync
	liveRoster  bool              // the device takes ROSTER frames (Hello.LiveRoster)
	rosterAt    uint64            // the roster version the device holds
	acked       map[string]uint64 // flight -> cursor acknowledged but not yet saved
	saving      bool              // an acker goroutine is running (owned by ackers)
	state       syncproto.DeviceState
	stateAt     time.Time
	connectedAt time.Time
	lastSeen    time.Time
	exchanged   bool // a push or a changes page completed this session
}

func newSession(h *Hub, conn *websocket.Conn, remote string) *session {
	return &session{
		hub: h, conn: conn, remote: remote,
		id:     uuid.NewString(),
		log:    h.log,
		send:   make(chan []byte, h.cfg.SendQueue),
		notify: make(chan struct{}, 1),
		acks:   make(chan syncproto.ChangesAck, h.cfg.Window+1),
		done:   make(chan struct{}),
	}
}

func (s *session) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *session) flightList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.flights))
}

func (s *session) live() Live {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Live{SessionID: s.id, ConnectedAt: s.connectedAt, LastSeen: s.lastSeen, State: s.state, ReportedAt: s.stateAt, Flights: slices.Sorted(maps.Keys(s.flights))}
}

// fail ends the session: the writer sends err as an ERROR frame (if it is
// an *syncproto.Error a device should see) and closes the connection.
func (s *session) fail(err error) {
	s.failOnce.Do(func() {
		s.failErr = err
		close(s.done)
	})
}

// run drives the session: handshake, then reader, writer and streamer until
// one of them ends it.
func (s *session) run(parent context.Context) {
	defer s.conn.Close()
	// A backstop only: readFrame stops reading at MaxFrame and refuses
	// with a code before this limit is reached.
	s.conn.SetReadLimit(2*int64(s.hub.cfg.MaxFrame) + 1024)
	hello, err := s.handshake(parent)
	if err != nil {
		s.refuse(err)
		return
	}
	// Every line of a session names its device, session and flights.
	s.log = s.hub.log.With("device", s.deviceID, "session", s.id, "flights", s.flightList())
	if err := s.hub.register(s); err != nil {
		s.refuse(err)
		return
	}
	// Unregistered explicitly below, before the observer hears of the end;
	// the defer covers the early returns.
	defer s.hub.unregister(s)
	// A roster change between the welcome and the registration found no
	// session to tell.
	if roster, err := s.hub.store.Roster(parent); err != nil {
		s.refuse(err)
		return
	} else if err := s.sendRoster(&roster); err != nil {
		s.refuse(err)
		return
	}
	// A revocation that landed between the handshake's check and the
	// registration found no session to disconnect: check again now that
	// Disconnect can find this one.
	if _, err := s.hub.store.Authenticate(parent, hello.DeviceID, hello.Token); err != nil {
		s.refuse(err)
		return
	}
	s.hub.metrics.SessionStarted()
	s.log.Info("sync session started", "remote", s.remote, "app", hello.State.AppVersion, "outbox", hello.State.Outbox, "repull", s.repull)
	if o := s.hub.Observer; o != nil {
		o.Reported(s.deviceID, hello.State, s.live().ReportedAt)
	}

	ctx, cancel := context.WithCancel(parent)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.writer() }()
	go func() { defer wg.Done(); s.streamer(ctx) }()
	readErr := s.reader(ctx)
	s.fail(readErr)
	cancel()
	wg.Wait()
	s.ackers.Wait()
	// The acks the device sent are its word even though the session is
	// over: save what the ackers had not.
	flush, cancelFlush := context.WithTimeout(context.WithoutCancel(parent), 5*time.Second)
	if err := s.saveAcks(flush); err != nil {
		s.log.Warn("save acknowledged cursors at session end", "err", err)
	}
	cancelFlush()
	// Unregister before telling the observer, so the fleet view it builds
	// already shows the device offline.
	s.hub.unregister(s)

	// Persist last seen and the last report, so the fleet view knows when
	// the device left and how it was; count sessions that end on errors.
	end := s.hub.Now()
	counted := countsAsSyncError(s.failErr)
	_ = s.hub.store.UpdateDevice(context.Background(), s.deviceID, func(d *store.Device) error {
		t := end.UTC()
		d.LastSeen = &t
		s.mu.Lock()
		d.State = s.state
		at := s.stateAt.UTC()
		d.StateAt = &at
		if s.exchanged {
			d.SyncErrors = 0
		}
		s.mu.Unlock()
		if counted {
			d.SyncErrors++
			d.LastSyncError, d.LastSyncErrorAt = s.failErr.Error(), &t
		}
		return nil
	})
	var pe *syncproto.Error
	errors.As(s.failErr, &pe)
	s.hub.metrics.SessionEnded(s.failErr)
	if o := s.hub.Observer; o != nil {
		o.Disconnected(s.deviceID, end, s.failErr)
	}
	if pe != nil && pe.Code != syncproto.CodeShuttingDown {
		s.log.Warn("sync session ended", "code", pe.Code, "reason", pe.Message)
	} else {
		s.log.Info("sync session ended", "reason", errString(s.failErr))
	}
}

// countsAsSyncError reports whether a session's end is a sync problem for
// the "repeated sync errors" health rule: a protocol error, a timeout or a
// refusal, but not a shutdown on either side, a replaced session, an
// admin's resync, or a link that simply closed.
func countsAsSyncError(err error) bool {
	var pe *syncproto.Error
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case syncproto.CodeShuttingDown, syncproto.CodeConflict, syncproto.CodeResync, syncproto.CodeRevoked:
		return false
	}
	return true
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// refuse answers a failed handshake with an ERROR frame and a close.
func (s *session) refuse(err error) {
	code := syncproto.ErrorCode(err)
	if code == syncproto.CodeInternal {
		s.hub.log.Error("sync handshake failed", "remote", s.remote, "err", err)
	} else {
		s.hub.log.Warn("sync handshake refused", "remote", s.remote, "device", s.deviceID, "code", code, "reason", syncproto.ErrorMessage(err))
	}
	s.writeErrorAndClose(err)
}

func (s *session) writeErrorAndClose(err error) {
	code, msg := syncproto.ErrorCode(err), syncproto.ErrorMessage(err)
	deadline := time.Now().Add(2 * time.Second)
	if b, encErr := s.hub.codec.Encode(syncproto.FrameError, &syncproto.Error{Code: code, Message: msg}); encErr == nil {
		_ = s.conn.SetWriteDeadline(deadline)
		_ = s.conn.WriteMessage(websocket.BinaryMessage, b)
	}
	closeCode := websocket.ClosePolicyViolation
	switch code {
	case syncproto.CodeShuttingDown:
		closeCode = websocket.CloseGoingAway
	case syncproto.CodeInternal:
		closeCode = websocket.CloseInternalServerErr
	case syncproto.CodeTooLarge:
		closeCode = websocket.CloseMessageTooBig
	}
	reason := code
	_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeCode, reason), deadline)
}

// readFrame reads one frame of at most MaxFrame (plus its header), with
// the read deadline moving silence ahead as bytes arrive. An oversized
// frame is refused with our own ERROR frame before gorilla's read limit
// (a backstop) would close the connection without a code.
func (s *session) readFrame(silence time.Duration) (syncproto.Frame, error) {
	mt, data, err := syncproto.ReadMessage(s.conn, s.hub.cfg.MaxFrame+2, silence)
	if err != nil {
		if errors.Is(err, websocket.ErrReadLimit) {
			return syncproto.Frame{}, syncproto.Errorf(syncproto.CodeTooLarge, "frame over the %d byte limit", s.hub.cfg.MaxFrame)
		}
		return syncproto.Frame{}, err
	}
	if mt != websocket.BinaryMessage {
		return syncproto.Frame{}, syncproto.Errorf(syncproto.CodeBadFrame, "sync frames are binary messages")
	}
	return s.hub.codec.Decode(data)
}

func (s *session) handshake(ctx context.Context) (*syncproto.Hello, error) {
	f, err := s.readFrame(s.hub.cfg.HelloTimeout)
	if err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, syncproto.Errorf(syncproto.CodeTimeout, "no hello within %s", s.hub.cfg.HelloTimeout)
		}
		return nil, err
	}
	if f.Type != syncproto.FrameHello {
		return nil, syncproto.Errorf(syncproto.CodeProtocol, "expected hello, got %s", f.Type)
	}
	var hello syncproto.Hello
	if err := f.Unmarshal(&hello); err != nil {
		return nil, err
	}
	s.deviceID = hello.DeviceID
	dev, err := s.hub.store.Authenticate(ctx, hello.DeviceID, hello.Token)
	if hello.Protocol != syncproto.ProtocolVersion {
		perr := syncproto.Errorf(syncproto.CodeProtocolVersion, "protocol version %d is not supported; this server speaks %d", hello.Protocol, syncproto.ProtocolVersion)
		if err == nil {
			// Only an authenticated device may write its record: the
			// fleet view then shows it as outdated, not just silent.
			t := s.hub.Now().UTC()
			_ = s.hub.store.UpdateDevice(ctx, dev.ID, func(d *store.Device) error {
				d.Protocol, d.ProtocolRefused, d.State.AppVersion, d.LastSeen = hello.Protocol, true, hello.State.AppVersion, &t
				d.SyncErrors++
				d.LastSyncError, d.LastSyncErrorAt = perr.Error(), &t
				return nil
			})
		}
		return nil, perr
	}
	if err != nil {
		s.hub.auditRefusedHandshake(ctx, s.remote, hello.DeviceID, err)
		return nil, err
	}
	if len(hello.Flights) > 64 {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "a device may serve at most 64 flights")
	}
	if err := s.hub.clock.Observe(hello.State.HLC); err != nil {
		s.hub.log.Warn("device clock far ahead", "device", dev.ID, "hlc", hello.State.HLC)
	}

	// A cursor from another database (a restore, a reset) cannot be
	// trusted: stream from zero and have the device push again.
	resync, err := MustResync(ctx, s.hub.store, &hello)
	if err != nil {
		return nil, err
	}
	// An admin's forced resync: stream from zero, and the device drops
	// what it pulled (keeping its outbox) when it reads Repull.
	s.repull = dev.Repull && !resync
	flights, echo := map[string]uint64{}, map[string]bool{}
	for f, c := range hello.Flights {
		if resync || s.repull {
			c = 0
		}
		flights[f] = c
		echo[f] = c == 0
	}
	if err := s.dropOutOfScope(ctx, flights); err != nil {
		return nil, err
	}
	now := s.hub.Now()
	s.mu.Lock()
	s.flights, s.echo, s.state, s.stateAt, s.connectedAt, s.lastSeen = flights, echo, hello.State, now, now, now
	s.mu.Unlock()

	err = s.hub.store.UpdateDevice(ctx, dev.ID, func(d *store.Device) error {
		t := now.UTC()
		d.LastSeen, d.StateAt = &t, &t
		d.Flights = slices.Sorted(maps.Keys(flights))
		d.Cursors = maps.Clone(flights)
		d.State = hello.State
		d.Protocol, d.ProtocolRefused = hello.Protocol, false
		if resync || s.repull {
			d.Repull = false // served by this handshake
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	w := syncproto.Welcome{
		Protocol:        syncproto.ProtocolVersion,
		Epoch:           s.hub.store.Epoch(),
		SessionID:       s.id,
		HLC:             s.hub.clock.Tick(),
		Clock:           now.UnixMilli(),
		HeartbeatMillis: s.hub.cfg.Heartbeat.Milliseconds(),
		MaxFrame:        s.hub.cfg.MaxFrame,
		MaxBatch:        s.hub.cfg.MaxBatch,
		Resync:          resync,
		Repull:          s.repull,
		Flights:         flights,
	}
	roster, err := s.hub.store.Roster(ctx)
	if err != nil {
		return nil, err
	}
	// Another database (resync) may number its rosters from 1 again.
	if roster.Version != hello.RosterVersion || resync {
		w.Roster = &roster
	}
	s.mu.Lock()
	s.liveRoster, s.rosterAt = hello.LiveRoster, roster.Version
	s.mu.Unlock()
	if w.Closed, err = s.hub.store.ClosedFlights(ctx, slices.Sorted(maps.Keys(flights))); err != nil {
		return nil, err
	}
	if w.PurgesRecorded, err = s.recordPurges(ctx, hello.Purges); err != nil {
		return nil, err
	}
	b, err := s.hub.codec.Encode(syncproto.FrameWelcome, &w)
	if err != nil {
		return nil, err
	}
	_ = s.conn.SetWriteDeadline(now.Add(syncproto.WriteTimeout(s.hub.cfg.WriteTimeout, len(b))))
	if err := s.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
		return nil, err
	}
	return &hello, nil
}

// enqueue hands a frame to the writer. A full queue means the device does
// not read fast enough: it is disconnected rather than allowed to hold
// memory or block the hub.
func (s *session) enqueue(t syncproto.FrameType, msg any) error {
	b, err := s.hub.codec.Encode(t, msg)
	if err != nil {
		return err
	}
	select {
	case s.send <- b:
		return nil
	case <-s.done:
		return errClosed
	default:
		err := syncproto.Errorf(syncproto.CodeSlowConsumer, "send queue full")
		s.fail(err)
		return err
	}
}

// sendRoster sends roster, the ground's crew roster, if the device takes
// it live and it is newer than what the device holds. Within a session
// the ground's version only grows (each change adds one), so an older
// roster read by a slower concurrent change is never sent after a newer.
func (s *session) sendRoster(roster *syncproto.Roster) error {
	// One at a time, so the check and the send go together.
	s.rosterMu.Lock()
	defer s.rosterMu.Unlock()
	s.mu.Lock()
	live, at := s.liveRoster, s.rosterAt
	s.mu.Unlock()
	if !live || roster.Version <= at {
		return nil
	}
	s.mu.Lock()
	s.rosterAt = roster.Version
	s.mu.Unlock()
	s.log.Info("crew roster sent", "version", roster.Version, "crew", len(roster.Crew))
	return s.enqueue(syncproto.FrameRoster, roster)
}

// writer is the connection's only writer. It ends only through done, never
// on its context alone, so the reason a session ends (a timeout, a bad
// frame, shutdown) always reaches the device as an ERROR frame first.
func (s *session) writer() {
	hb := time.NewTicker(s.hub.cfg.Heartbeat)
	defer hb.Stop()
	write := func(b []byte) error {
		_ = s.conn.SetWriteDeadline(time.Now().Add(syncproto.WriteTimeout(s.hub.cfg.WriteTimeout, len(b))))
		return s.conn.WriteMessage(websocket.BinaryMessage, b)
	}
	for {
		select {
		case b := <-s.send:
			if err := write(b); err != nil {
				s.fail(err)
				return
			}
		case <-hb.C:
			b, _ := s.hub.codec.Encode(syncproto.FrameHeartbeat, &syncproto.Heartbeat{Clock: time.Now().UnixMilli(), HLC: s.hub.clock.Tick()})
			if err := write(b); err != nil {
				s.fail(err)
				return
			}
		case <-s.done:
			// Flush what is queued (a final PushAck matters), then say why.
		flush:
			for {
				select {
				case b := <-s.send:
					if write(b) != nil {
						return
					}
				default:
					break flush
				}
			}
			var pe *syncproto.Error
			if errors.As(s.failErr, &pe) {
				s.writeErrorAndClose(pe)
			} else {
				_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			}
			// Unblock the reader.
			_ = s.conn.SetReadDeadline(time.Now())
			return
		}
	}
}

func (s *session) reader(ctx context.Context) error {
	silence := 3 * s.hub.cfg.Heartbeat
	bucket := newFrameBucket(s.hub.cfg.FrameRate, s.hub.cfg.FrameBurst)
	for {
		f, err := s.readFrame(silence)
		if err == nil && !bucket.take(time.Now()) {
			return syncproto.Errorf(syncproto.CodeRateLimited, "more than %g frames a second", s.hub.cfg.FrameRate)
		}
		if err != nil {
			select {
			case <-s.done:
				return s.failErr
			default:
			}
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				return syncproto.Errorf(syncproto.CodeTimeout, "no frame for %s: connection presumed dead", silence)
			}
			return err
		}
		s.mu.Lock()
		s.lastSeen = s.hub.Now()
		s.mu.Unlock()
		if err := s.handle(ctx, f); err != nil {
			return err
		}
	}
}

func (s *session) handle(ctx context.Context, f syncproto.Frame) error {
	switch f.Type {
	case syncproto.FramePush:
		var p syncproto.Push
		if err := f.Unmarshal(&p); err != nil {
			return err
		}
		return s.handlePush(ctx, &p)
	case syncproto.FrameChangesAck:
		var a syncproto.ChangesAck
		if err := f.Unmarshal(&a); err != nil {
			return err
		}
		s.mu.Lock()
		sent, ok := s.flights[a.Flight]
		s.mu.Unlock()
		if !ok || a.Cursor > sent {
			return syncproto.Errorf(syncproto.CodeProtocol, "ack for flight %q at %d was never sent", a.Flight, a.Cursor)
		}
		// The window slot is freed now and the cursor saved by the acker:
		// waiting here for a commit per page would hold every page back
		// by a disk flush.
		s.mu.Lock()
		if a.Cursor > s.acked[a.Flight] {
			if s.acked == nil {
				s.acked = map[string]uint64{}
			}
			s.acked[a.Flight] = a.Cursor
		}
		start := !s.saving
		if start {
			s.saving = true
			s.ackers.Add(1)
		}
		s.mu.Unlock()
		if start {
			go s.acker(ctx)
		}
		s.mu.Lock()
		s.exchanged = true
		s.mu.Unlock()
		select {
		case s.acks <- a:
		default:
			return syncproto.Errorf(syncproto.CodeProtocol, "more acks than changes sent")
		}
		return nil
	case syncproto.FrameHeartbeat:
		var hb syncproto.Heartbeat
		if err := f.Unmarshal(&hb); err != nil {
			return err
		}
		if hb.State != nil {
			_ = s.hub.clock.Observe(hb.State.HLC)
			now := s.hub.Now()
			s.mu.Lock()
			s.state, s.stateAt = *hb.State, now
			s.mu.Unlock()
			if o := s.hub.Observer; o != nil {
				o.Reported(s.deviceID, *hb.State, now)
			}
		}
		return nil
	case syncproto.FrameSubscribe:
		var sub syncproto.Subscribe
		if err := f.Unmarshal(&sub); err != nil {
			return err
		}
		if len(sub.Flights) > 64 {
			return syncproto.Errorf(syncproto.CodeInvalid, "a device may serve at most 64 flights")
		}
		if err := s.dropOutOfScope(ctx, sub.Flights); err != nil {
			return err
		}
		// Acknowledged in the next handshake's welcome.
		if _, err := s.recordPurges(ctx, sub.Purges); err != nil {
			return err
		}
		s.mu.Lock()
		next := map[string]uint64{}
		for fl, c := range sub.Flights {
			if cur, ok := s.flights[fl]; ok {
				c = cur // already streaming; keep our position
			} else {
				s.echo[fl] = c == 0
			}
			next[fl] = c
		}
		s.flights, s.resubscribe = next, true
		// Read the keys under the lock: the streamer moves s.flights's
		// cursors as soon as it is unlocked.
		flights := slices.Sorted(maps.Keys(next))
		s.mu.Unlock()
		s.hub.resubscribe(s, flights)
		if err := s.hub.store.UpdateDevice(ctx, s.deviceID, func(d *store.Device) error {
			d.Flights = flights
			for fl, c := range sub.Flights {
				if _, ok := d.Cursors[fl]; !ok {
					if d.Cursors == nil {
						d.Cursors = map[string]uint64{}
					}
					d.Cursors[fl] = c
				}
			}
			return nil
		}); err != nil {
			return err
		}
		s.log.Info("device subscribed", "flights", flights)
		s.wake()
		return nil
	case syncproto.FrameError:
		var e syncproto.Error
		_ = f.Unmarshal(&e)
		return &syncproto.Error{Code: e.Code, Message: "device reported: " + e.Message}
	default:
		return syncproto.Errorf(syncproto.CodeProtocol, "unexpected %s frame from a device", f.Type)
	}
}

func (s *session) handlePush(ctx context.Context, p *syncproto.Push) error {
	if len(p.Ops) > s.hub.cfg.MaxBatch {
		return syncproto.Errorf(syncproto.CodeTooLarge, "push of %d ops is over the %d op limit", len(p.Ops), s.hub.cfg.MaxBatch)
	}
	results := make([]syncproto.OpResult, len(p.Ops))
	var valid []syncproto.Op
	var idx []int
	for i := range p.Ops {
		op := &p.Ops[i]
		if err := s.hub.clock.Observe(op.HLC); err != nil {
			results[i] = syncproto.OpResult{ID: op.ID, Result: syncproto.ResultRefused, Code: syncproto.ErrorCode(err), Message: syncproto.ErrorMessage(err)}
			continue
		}
		valid = append(valid, *op)
		idx = append(idx, i)
	}
	scope := store.Scope{Device: s.deviceID, Flights: s.flightList()}
	started := time.Now()
	stored, err := s.hub.store.Apply(ctx, valid, scope)
	if err != nil {
		return err
	}
	for j, r := range stored {
		results[idx[j]] = r.OpResult
	}
	for _, r := range results {
		if r.Result == syncproto.ResultRefused {
			s.log.Warn("op refused", "op", r.ID, "code", r.Code, "reason", r.Message)
		}
	}
	s.hub.metrics.Pushed(results, time.Since(started))
	s.mu.Lock()
	s.exchanged = true
	s.mu.Unlock()
	s.auditRefusedOps(ctx, results)
	// The other sessions hear of these ops when the store has projected
	// them (Hub.projected), a moment after this ack.
	heads := map[string]uint64{}
	for _, fl := range scope.Flights {
		h, err := s.hub.store.FlightHead(ctx, fl)
		if err != nil {
			return err
		}
		heads[fl] = h
	}
	return s.enqueue(syncproto.FramePushAck, &syncproto.PushAck{Batch: p.Batch, Results: results, Heads: heads, Stored: StoredMark(stored)})
}

// acker saves the cursors the device acknowledged (for the fleet view and
// the delivery receipts) until none is left unsaved, then ends: an idle
// connection keeps no goroutine for it. Acks that arrive while a save is
// under way are saved together in the next one, all flights in one commit,
// so a device pulling page after page costs a flush per save rather than
// per page. run saves what is left when the session ends.
func (s *session) acker(ctx context.Context) {
	defer s.ackers.Done()
	defer s.wake() // the streamer may be waiting to send Ready
	for {
		s.mu.Lock()
		if len(s.acked) == 0 {
			s.saving = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if err := s.saveAcks(ctx); err != nil {
			var pe *syncproto.Error
			switch {
			case ctx.Err() != nil:
			case errors.As(err, &pe):
				s.fail(pe) // the device was revoked or removed meanwhile
			default:
				s.log.Error("save acknowledged cursors", "err", err)
				s.fail(syncproto.Errorf(syncproto.CodeInternal, "internal error"))
			}
			s.mu.Lock()
			s.saving = false
			s.mu.Unlock()
			return
		}
	}
}

// savingAcks reports whether acknowledged cursors wait to be saved.
func (s *session) savingAcks() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saving || len(s.acked) > 0
}

// saveAcks saves the acknowledged cursors not yet saved, one flight per
// goroutine so that they share one batched commit.
func (s *session) saveAcks(ctx context.Context) error {
	s.mu.Lock()
	acked := s.acked
	s.acked = nil
	s.mu.Unlock()
	if len(acked) == 0 {
		return nil
	}
	errs := make(chan error, len(acked))
	for fl, c := range acked {
		go func() {
			delivered, err := s.hub.store.AckChanges(ctx, s.deviceID, fl, c)
			if err == nil && len(delivered) > 0 && s.hub.OnDelivered != nil {
				s.hub.OnDelivered(s.deviceID, fl, delivered)
			}
			errs <- err
		}()
	}
	var first error
	for range acked {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// streamer sends each flight's changes after the session's cursor, in pages,
// with at most Window pages unacknowledged, then waits to be woken.
func (s *session) streamer(ctx context.Context) {
	inflight := 0
	ready := false
	for {
		s.mu.Lock()
		flights, echo := maps.Clone(s.flights), maps.Clone(s.echo)
		if s.resubscribe {
			ready = false // a new subscription is caught up with its own READY
		}
		s.resubscribe = false
		s.mu.Unlock()

		progress, more := false, false
		for _, fl := range slices.Sorted(maps.Keys(flights)) {
			if inflight >= s.hub.cfg.Window {
				more = true
				break
			}
			cursor := flights[fl]
			skip := s.deviceID
			if echo[fl] {
				skip = ""
			}
			started := time.Now()
			page, err := s.hub.store.Changes(ctx, fl, cursor, s.hub.cfg.MaxBatch, skip)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("read changes", "flight", fl, "err", err)
					s.fail(syncproto.Errorf(syncproto.CodeInternal, "internal error"))
				}
				return
			}
			if page.Cursor == cursor {
				continue
			}
			s.hub.metrics.Pulled(len(page.Ops), time.Since(started))
			// Record the page as sent before the writer can send it: the
			// device's ack may arrive before enqueue returns, and the reader
			// refuses an ack past what was sent.
			s.mu.Lock()
			if _, ok := s.flights[fl]; ok && s.flights[fl] == cursor {
				s.flights[fl] = page.Cursor
				if !page.More {
					delete(s.echo, fl)
				}
			}
			s.mu.Unlock()
			ch := &syncproto.Changes{Flight: fl, Ops: page.Ops, Cursor: page.Cursor, CursorOp: page.CursorOp, More: page.More}
			if !page.More {
				if ch.Heads, err = OtherHeads(ctx, s.hub.store, flights, fl); err != nil {
					if ctx.Err() == nil {
						s.log.Error("read flight heads", "err", err)
						s.fail(syncproto.Errorf(syncproto.CodeInternal, "internal error"))
					}
					return
				}
			}
			if err := s.enqueue(syncproto.FrameChanges, ch); err != nil {
				return
			}
			inflight++
			progress = true
			more = more || page.More
		}
		if progress {
			continue
		}
		// Ready waits for the acks to be saved too: the receipts of a
		// catch-up are part of it, and a push right after must not queue
		// behind them.
		if !ready && !more && inflight == 0 && !s.savingAcks() {
			ready = true
			if err := s.enqueue(syncproto.FrameReady, &syncproto.Ready{Cursors: flights}); err != nil {
				return
			}
		}
		select {
		case <-s.notify:
		case <-s.acks:
			inflight--
			// Drain further acks without blocking.
			for drained := false; !drained; {
				select {
				case <-s.acks:
					inflight--
				default:
					drained = true
				}
			}
		case <-s.done:
			return
		case <-ctx.Done():
			return
		}
	}
}
