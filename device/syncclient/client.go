package syncclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cabincare/cabincare/device/store"
	"github.com/cabincare/cabincare/syncproto"
	"github.com/cabincare/cabincare/telemetry"
)

// Config configures a client.
type Config struct {
	// Ground is the ground server's base URL (http://, https://, ws:// or
	// wss://); the client connects to its /sync endpoint.
	Ground     string
	DeviceID   string
	Token      string
	AppVersion string
	// ReconnectMin and ReconnectMax bound the backoff between attempts.
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// RetryInterval re-reads the outbox even without a local write, so an
	// op never waits for "the next write" to be sent.
	RetryInterval time.Duration
	MaxFrame      int
	Compress      bool
	Dialer        *websocket.Dialer
	Log           *slog.Logger
	// Now is the device's wall clock, reported to the ground for skew;
	// tests inject a shifted one.
	Now func() time.Time
	// Metrics, if set, counts sessions, pushes, pulls and frame bytes.
	Metrics *telemetry.Sync
}

// Client syncs one device store with the ground.
type Client struct {
	cfg   Config
	store *store.Store
	codec *syncproto.Codec
	log   *slog.Logger

	wake      chan struct{} // buffer 1: the outbox has new ops
	resub     chan struct{} // buffer 1: the served flights changed
	connected atomic.Bool
	attempts  atomic.Int64

	mu        sync.Mutex // guards the fields below
	lastErr   string
	lastErrAt time.Time
	sessionID string
	caughtUp  bool // the ground sent Ready this session
	paging    int  // flights whose last page said more pages follow
}

// covers reports whether the stored cursors reach the ground's heads as
// of a push ack or a flight's last page.
func (c *Client) covers(heads map[string]uint64) bool {
	cur, err := c.store.Cursors()
	if err != nil {
		return false
	}
	for f, h := range heads {
		if c, ok := cur[f]; ok && c < h {
			return false
		}
	}
	return true
}

// inSync reports whether the last exchange left this tablet caught up:
// Ready received and no flight with pages still to come. Only then may an
// empty outbox be reported as synced.
func (c *Client) inSync() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.caughtUp && c.paging == 0
}

// New returns a client for st.
func New(cfg Config, st *store.Store) *Client {
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = 500 * time.Millisecond
	}
	if cfg.ReconnectMax <= 0 {
		cfg.ReconnectMax = 30 * time.Second
	}
	if cfg.ReconnectMax < cfg.ReconnectMin {
		cfg.ReconnectMin = cfg.ReconnectMax
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 5 * time.Second
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = syncproto.DefaultMaxFrame
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Dialer == nil {
		cfg.Dialer = &websocket.Dialer{HandshakeTimeout: 15 * time.Second, Proxy: http.ProxyFromEnvironment}
	}
	c := &Client{
		cfg: cfg, store: st, log: cfg.Log,
		codec: syncproto.NewCodec(cfg.MaxFrame, cfg.Compress),
		wake:  make(chan struct{}, 1),
		resub: make(chan struct{}, 1),
	}
	c.codec.Observe = cfg.Metrics.ObserveFrame
	return c
}

// Wake tells the client the outbox has new ops. It never blocks.
func (c *Client) Wake() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// FlightsChanged tells the client the crew opened another flight.
func (c *Client) FlightsChanged() {
	select {
	case c.resub <- struct{}{}:
	default:
	}
	c.Wake()
}

// Connected reports whether a sync session is up.
func (c *Client) Connected() bool { return c.connected.Load() }

// LastError returns the last sync error and when it happened.
func (c *Client) LastError() (string, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr, c.lastErrAt
}

func (c *Client) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.lastErr = ""
		return
	}
	c.lastErr, c.lastErrAt = err.Error(), c.cfg.Now()
}

// SyncURL turns the ground base URL into the sync endpoint URL.
func SyncURL(ground string) (string, error) {
	u, err := url.Parse(ground)
	if err != nil {
		return "", fmt.Errorf("ground URL %q: %w", ground, err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("ground URL %q: scheme must be http, https, ws or wss", ground)
	}
	if u.Host == "" {
		return "", fmt.Errorf("ground URL %q has no host", ground)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/sync"
	return u.String(), nil
}

// Run syncs until ctx is done, reconnecting with capped exponential backoff
// and full jitter. It returns nil when ctx ends.
func (c *Client) Run(ctx context.Context) error {
	target, err := SyncURL(c.cfg.Ground)
	if err != nil {
		return err
	}
	backoff := c.cfg.ReconnectMin
	var lastLog time.Time
	for {
		if ctx.Err() != nil {
			return nil
		}
		c.attempts.Add(1)
		started := time.Now()
		err := c.session(ctx, target)
		c.connected.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		c.setErr(err)
		if time.Since(started) > 30*time.Second || syncproto.ErrorCode(err) == syncproto.CodeResync {
			// The link held a while, or an admin asked for a resync and
			// expects it now: start over from the shortest delay.
			backoff = c.cfg.ReconnectMin
		}
		// Log at most every 30 s while the link stays down.
		if time.Since(lastLog) > 30*time.Second || syncproto.ErrorCode(err) != syncproto.CodeInternal {
			c.log.Warn("sync disconnected, retrying", "err", err, "in", backoff)
			lastLog = time.Now()
		}
		wait := time.Duration(rand.Int64N(int64(backoff))) + backoff/2
		if !sleep(ctx, wait) {
			return nil
		}
		backoff = min(backoff*2, c.cfg.ReconnectMax)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// conn is one session's connection with its single writer.
type conn struct {
	ws      *websocket.Conn
	codec   *syncproto.Codec
	send    chan []byte
	done    chan struct{}
	once    sync.Once
	err     error
	timeout time.Duration
}

func (k *conn) fail(err error) {
	k.once.Do(func() {
		k.err = err
		close(k.done)
	})
}

func (k *conn) enqueue(t syncproto.FrameType, msg any) error {
	b, err := k.codec.Encode(t, msg)
	if err != nil {
		return err
	}
	select {
	case k.send <- b:
		return nil
	case <-k.done:
		return k.err
	}
}

func (k *conn) writer() {
	for {
		select {
		case b := <-k.send:
			_ = k.ws.SetWriteDeadline(time.Now().Add(syncproto.WriteTimeout(k.timeout, len(b))))
			if err := k.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
				k.fail(err)
				return
			}
		case <-k.done:
			var pe *syncproto.Error
			if errors.As(k.err, &pe) && pe.Code != syncproto.CodeShuttingDown {
				if b, err := k.codec.Encode(syncproto.FrameError, pe); err == nil {
					_ = k.ws.SetWriteDeadline(time.Now().Add(time.Second))
					_ = k.ws.WriteMessage(websocket.BinaryMessage, b)
				}
			}
			_ = k.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			_ = k.ws.SetReadDeadline(time.Now())
			return
		}
	}
}

// read reads one frame, the deadline moving silence ahead as bytes arrive,
// so a large page over a thin link is bounded by progress, not size.
func (k *conn) read(silence time.Duration) (syncproto.Frame, error) {
	mt, data, err := syncproto.ReadMessage(k.ws, k.codec.MaxFrame+2, silence)
	if err != nil {
		return syncproto.Frame{}, err
	}
	if mt != websocket.BinaryMessage {
		return syncproto.Frame{}, syncproto.Errorf(syncproto.CodeBadFrame, "sync frames are binary messages")
	}
	return k.codec.Decode(data)
}

func (c *Client) state() syncproto.DeviceState {
	st, _ := c.store.Status()
	ds := syncproto.DeviceState{
		AppVersion: c.cfg.AppVersion, Protocol: syncproto.ProtocolVersion, OpenFlight: st.CurrentFlight,
		Outbox: st.Pending, DeadLetters: st.DeadLetters,
		HLC: c.store.Clock.Last(), Clock: c.cfg.Now().UnixMilli(), StoreBytes: c.store.Size(),
		Cursors: st.Cursors,
	}
	if st.OldestPending != nil {
		ds.OldestMillis = st.OldestPending.UnixMilli()
	}
	if st.LastPush != nil {
		ds.LastPush = st.LastPush.UnixMilli()
	}
	if st.LastPull != nil {
		ds.LastPull = st.LastPull.UnixMilli()
	}
	ds.LastError, _ = c.LastError()
	return ds
}

// session runs one connection from dial to its end.
func (c *Client) session(ctx context.Context, target string) error {
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	ws, resp, err := c.cfg.Dialer.DialContext(dctx, target, nil)
	cancel()
	if err != nil {
		if resp != nil {
			return fmt.Errorf("dial %s: %s", target, resp.Status)
		}
		return fmt.Errorf("dial %s: %w", target, err)
	}
	defer ws.Close()
	ws.SetReadLimit(int64(c.cfg.MaxFrame) + 16)
	k := &conn{ws: ws, codec: c.codec, send: make(chan []byte, 16), done: make(chan struct{}), timeout: 15 * time.Second}

	// Handshake, written and read directly: the writer is not running yet.
	st, err := c.store.Status()
	if err != nil {
		return err
	}
	pushed, err := c.store.PushMark()
	if err != nil {
		return err
	}
	checkpoints, err := c.store.Checkpoints()
	if err != nil {
		return err
	}
	purges, err := c.store.PendingPurges()
	if err != nil {
		return err
	}
	hello := syncproto.Hello{Purges: purges, Protocol: syncproto.ProtocolVersion, DeviceID: c.cfg.DeviceID, Token: c.cfg.Token, Epoch: st.Epoch, Flights: st.Cursors, Checkpoints: checkpoints, Pushed: pushed, State: c.state(),
		RosterVersion: c.store.RosterVersion(), LiveRoster: true}
	b, err := c.codec.Encode(syncproto.FrameHello, &hello)
	if err != nil {
		return err
	}
	_ = ws.SetWriteDeadline(time.Now().Add(k.timeout))
	if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	f, err := k.read(syncproto.HelloTimeout + 5*time.Second)
	if err != nil {
		return fmt.Errorf("read welcome: %w", err)
	}
	if f.Type == syncproto.FrameError {
		var e syncproto.Error
		_ = f.Unmarshal(&e)
		return &e
	}
	if f.Type != syncproto.FrameWelcome {
		return syncproto.Errorf(syncproto.CodeProtocol, "expected welcome, got %s", f.Type)
	}
	var w syncproto.Welcome
	if err := f.Unmarshal(&w); err != nil {
		return err
	}
	switch {
	case w.Resync:
		n, err := c.store.Resync(w.Epoch, c.cfg.DeviceID)
		if err != nil {
			return err
		}
		c.log.Warn("ground database changed: pulling again from zero and pushing every op this tablet wrote", "epoch", w.Epoch, "requeued", n)
	case w.Repull:
		if err := c.store.Repull(c.cfg.DeviceID); err != nil {
			return err
		}
		c.log.Warn("an admin asked for a full resync: pulling everything again, keeping the outbox", "pending", st.Pending)
	}
	if err := c.store.SetEpoch(w.Epoch); err != nil {
		return err
	}
	if err := c.store.ForgetPurges(w.PurgesRecorded); err != nil {
		return err
	}
	if err := c.store.MarkClosed(w.Closed, time.Now()); err != nil {
		return err
	}
	if w.Roster != nil {
		if err := c.store.SetRoster(*w.Roster); err != nil {
			return err
		}
		c.log.Info("crew roster updated", "version", w.Roster.Version, "crew", len(w.Roster.Crew))
	}
	_ = c.store.Clock.Observe(w.HLC)
	heartbeat := time.Duration(w.HeartbeatMillis) * time.Millisecond
	if heartbeat <= 0 {
		heartbeat = syncproto.DefaultHeartbeat
	}
	maxBatch := w.MaxBatch
	if maxBatch <= 0 || maxBatch > syncproto.DefaultMaxBatch {
		maxBatch = syncproto.DefaultMaxBatch
	}
	c.mu.Lock()
	c.sessionID, c.caughtUp, c.paging = w.SessionID, false, 0
	c.mu.Unlock()
	c.connected.Store(true)
	c.setErr(nil)
	// Every line of a session names its device (in c.log), session and
	// flights.
	log := c.log.With("session", w.SessionID, "flights", slices.Sorted(maps.Keys(w.Flights)))
	log.Info("sync connected", "ground", target, "resync", w.Resync, "repull", w.Repull)
	c.cfg.Metrics.SessionStarted()
	defer func() { c.cfg.Metrics.SessionEnded(k.err) }()

	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	acks := make(chan syncproto.PushAck, 1)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); k.writer() }()
	go func() { defer wg.Done(); c.pusher(sctx, k, acks, maxBatch, hello.Flights) }()
	go func() { defer wg.Done(); c.heartbeats(sctx, k, heartbeat) }()
	go func() {
		select {
		case <-ctx.Done():
			k.fail(syncproto.Errorf(syncproto.CodeShuttingDown, "device shutting down"))
		case <-k.done:
		}
	}()
	err = c.reader(sctx, k, acks, 3*heartbeat, log)
	k.fail(err)
	scancel()
	wg.Wait()
	if errors.Is(k.err, err) || k.err == nil {
		return err
	}
	return k.err
}

func (c *Client) reader(ctx context.Context, k *conn, acks chan<- syncproto.PushAck, silence time.Duration, log *slog.Logger) error {
	flights := map[string]bool{} // flights whose last page had More
	for {
		f, err := k.read(silence)
		if err != nil {
			select {
			case <-k.done:
				return k.err
			default:
			}
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				return syncproto.Errorf(syncproto.CodeTimeout, "no frame from the ground for %s: link presumed dead", silence)
			}
			return err
		}
		switch f.Type {
		case syncproto.FrameChanges:
			var ch syncproto.Changes
			if err := f.Unmarshal(&ch); err != nil {
				return err
			}
			started := time.Now()
			if _, err := c.store.ApplyChangesAt(ctx, ch.Flight, ch.Ops, ch.Cursor, ch.CursorOp); err != nil {
				return fmt.Errorf("store changes: %w", err)
			}
			c.cfg.Metrics.Pulled(len(ch.Ops), time.Since(started))
			if err := k.enqueue(syncproto.FrameChangesAck, &syncproto.ChangesAck{Flight: ch.Flight, Cursor: ch.Cursor}); err != nil {
				return err
			}
			if ch.More {
				flights[ch.Flight] = true
			} else {
				delete(flights, ch.Flight)
			}
			c.mu.Lock()
			c.paging = len(flights)
			c.mu.Unlock()
			if c.inSync() && c.covers(ch.Heads) {
				c.markSynced()
			}
		case syncproto.FrameReady:
			var r syncproto.Ready
			if err := f.Unmarshal(&r); err != nil {
				return err
			}
			// A READY sent before the ground read our latest SUBSCRIBE
			// does not cover the flights it added: wait for the next.
			cur, err := c.store.Cursors()
			if err != nil {
				return err
			}
			if !covered(cur, r.Cursors) {
				break
			}
			c.mu.Lock()
			c.caughtUp = true
			c.mu.Unlock()
			if c.inSync() {
				c.markSynced()
			}
			log.Info("sync caught up")
		case syncproto.FramePushAck:
			var a syncproto.PushAck
			if err := f.Unmarshal(&a); err != nil {
				return err
			}
			select {
			case acks <- a:
			default:
				return syncproto.Errorf(syncproto.CodeProtocol, "push ack %d without a push in flight", a.Batch)
			}
		case syncproto.FrameRoster:
			var r syncproto.Roster
			if err := f.Unmarshal(&r); err != nil {
				return err
			}
			if err := c.store.SetRoster(r); err != nil {
				return err
			}
			log.Info("crew roster updated", "version", r.Version, "crew", len(r.Crew))
		case syncproto.FrameHeartbeat:
			var hb syncproto.Heartbeat
			if err := f.Unmarshal(&hb); err != nil {
				return err
			}
			_ = c.store.Clock.Observe(hb.HLC)
		case syncproto.FrameError:
			var e syncproto.Error
			_ = f.Unmarshal(&e)
			return &e
		default:
			return syncproto.Errorf(syncproto.CodeProtocol, "unexpected %s frame from the ground", f.Type)
		}
	}
}

func (c *Client) markSynced() {
	if ok, err := c.store.MarkSynced(time.Now()); err != nil {
		c.log.Error("record sync time", "err", err)
	} else if ok {
		c.log.Debug("synced")
	}
}

// pusher sends the outbox, one batch in flight at a time, and applies the
// ground's answers. It wakes on local writes, on a timer, and when the
// served flights change.
//
// subscribed is the flight set the server knows (the hello's): a flight
// the crew open later is announced with a Subscribe frame.
func (c *Client) pusher(ctx context.Context, k *conn, acks <-chan syncproto.PushAck, maxBatch int, subscribed map[string]uint64) {
	retry := time.NewTicker(c.cfg.RetryInterval)
	defer retry.Stop()
	var batch uint64
	sentFlights := subscribed
	for {
		cur, err := c.store.Cursors()
		if err != nil {
			k.fail(err)
			return
		}
		if !sameKeys(cur, sentFlights) {
			purges, err := c.store.PendingPurges()
			if err != nil {
				k.fail(err)
				return
			}
			// Caught up only again once the ground has read this
			// subscription (its next READY covers the flights).
			c.mu.Lock()
			c.caughtUp = false
			c.mu.Unlock()
			if err := k.enqueue(syncproto.FrameSubscribe, &syncproto.Subscribe{Flights: cur, Purges: purges}); err != nil {
				return
			}
			sentFlights = cur
		}
		ops, err := c.store.Outbox(maxBatch, nil)
		if err != nil {
			k.fail(err)
			return
		}
		if len(ops) > 0 {
			batch++
			sent := time.Now()
			if err := k.enqueue(syncproto.FramePush, &syncproto.Push{Batch: batch, Ops: ops}); err != nil {
				return
			}
			select {
			case a := <-acks:
				if a.Batch != batch {
					k.fail(syncproto.Errorf(syncproto.CodeProtocol, "push ack for batch %d, expected %d", a.Batch, batch))
					return
				}
				if err := c.store.CompletePushAt(a.Results, a.Stored); err != nil {
					k.fail(err)
					return
				}
				c.cfg.Metrics.Pushed(a.Results, time.Since(sent))
				for _, r := range a.Results {
					if r.Result == syncproto.ResultRefused {
						c.log.Warn("ground refused an op; moved to dead letters", "op", r.ID, "code", r.Code, "reason", r.Message)
					}
				}
				if c.inSync() && c.covers(a.Heads) {
					c.markSynced()
				}
				continue
			case <-k.done:
				return
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-c.wake:
		case <-c.resub:
		case <-retry.C:
		case <-k.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// covered reports whether every flight of served is in ready.
func covered(served, ready map[string]uint64) bool {
	for f := range served {
		if _, ok := ready[f]; !ok {
			return false
		}
	}
	return true
}

func sameKeys(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func (c *Client) heartbeats(ctx context.Context, k *conn, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			st := c.state()
			if err := k.enqueue(syncproto.FrameHeartbeat, &syncproto.Heartbeat{State: &st}); err != nil {
				return
			}
		case <-k.done:
			return
		case <-ctx.Done():
			return
		}
	}
}
