package hub

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/cabincare/cabincare/attempts"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
	"github.com/cabincare/cabincare/telemetry"
)

// Store is what the hub needs from the ground store.
type Store interface {
	Epoch() string
	Head() uint64
	Authenticate(ctx context.Context, id, token string) (*store.Device, error)
	UpdateDevice(ctx context.Context, id string, fn func(*store.Device) error) error
	Apply(ctx context.Context, ops []syncproto.Op, scope store.Scope) ([]store.Result, error)
	Changes(ctx context.Context, flight string, cursor uint64, limit int, skipDevice string) (store.Page, error)
	AckChanges(ctx context.Context, deviceID, flight string, cursor uint64) ([]uuid.UUID, error)
	FlightHead(ctx context.Context, flight string) (uint64, error)
	OpIDAt(ctx context.Context, seq uint64) (uuid.UUID, error)
	OutOfScope(ctx context.Context, deviceID string, flights []string) ([]string, error)
	AppendAudit(ctx context.Context, e store.AuditEvent) error
	Roster(ctx context.Context) (syncproto.Roster, error)
	ClosedFlights(ctx context.Context, flights []string) ([]string, error)
	RecordPurge(ctx context.Context, device string, r syncproto.PurgeReceipt) (bool, error)
	SetProjected(fn func([]store.Result))
}

var _ Store = (*store.Store)(nil)

// Config tunes the hub. Zero values take the defaults in brackets.
type Config struct {
	Heartbeat    time.Duration // [syncproto.DefaultHeartbeat] between heartbeats
	HelloTimeout time.Duration // [syncproto.HelloTimeout] for the first frame
	WriteTimeout time.Duration // [10s] for one frame write
	MaxFrame     int           // [syncproto.DefaultMaxFrame] bytes
	MaxBatch     int           // [syncproto.DefaultMaxBatch] ops per frame
	Window       int           // [4] Changes frames in flight before an ack
	SendQueue    int           // [64] frames queued for the writer
	Compress     bool          // zstd on outgoing frames
	// FrameRate and FrameBurst cap the frames one session may send
	// [200 per second, bursts of 2,000]; past them it is closed with
	// rate_limited.
	FrameRate  float64
	FrameBurst int
	// AllowedOrigins lists browser origins allowed to open the WebSocket;
	// requests with no Origin header (devices) are always allowed.
	AllowedOrigins []string
}

func (c *Config) defaults() {
	if c.Heartbeat <= 0 {
		c.Heartbeat = syncproto.DefaultHeartbeat
	}
	if c.HelloTimeout <= 0 {
		c.HelloTimeout = syncproto.HelloTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxFrame <= 0 {
		c.MaxFrame = syncproto.DefaultMaxFrame
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = syncproto.DefaultMaxBatch
	}
	if c.Window <= 0 {
		c.Window = 4
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 64
	}
	if c.FrameRate <= 0 {
		c.FrameRate = 200
	}
	if c.FrameBurst <= 0 {
		c.FrameBurst = 2000
	}
}

// Hub accepts device sessions and fans changes out to them.
type Hub struct {
	cfg   Config
	store Store
	clock *syncproto.Clock
	codec *syncproto.Codec
	log   *slog.Logger
	// OnApplied, if set, is called after a device's ops are stored and
	// projected (see store.SetProjected), with the results, so other parts
	// (metrics, consoles) can follow.
	OnApplied func([]store.Result)
	// OnDelivered, if set, hears the enquiries a device's ack just gave a
	// delivery receipt (the consoles' "delivered").
	OnDelivered func(deviceID, flight string, enquiries []uuid.UUID)
	// Observer, if set, hears every device report and every session end
	// (the fleet view). Set it, and Metrics, before serving.
	Observer Observer
	metrics  *telemetry.Sync
	// Now stamps device reports and last-seen times; tests inject a clock.
	Now func() time.Time
	// auditLimit caps the refused handshakes audited per address.
	auditLimit *attempts.Limiter

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	sessions map[string]*session
	byFlight map[string]map[*session]struct{}
	closed   bool
}

// New returns a hub. Close it to end every session.
func New(cfg Config, st Store, clock *syncproto.Clock, log *slog.Logger) *Hub {
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		cfg: cfg, store: st, clock: clock, log: log,
		codec:    syncproto.NewCodec(cfg.MaxFrame, cfg.Compress),
		Now:      time.Now,
		ctx:      ctx,
		cancel:   cancel,
		sessions: map[string]*session{},
		byFlight: map[string]map[*session]struct{}{},
		// 20 refused handshakes per address per 15 minutes reach the
		// audit log; the rest only the log.
		auditLimit: attempts.NewLimiter(20, 15*time.Minute),
	}
	st.SetProjected(h.projected)
	return h
}

// projected hears a device push's ops once the store has projected them
// (after the PushAck): their flights' sessions are woken to stream them,
// and OnApplied hears them.
func (h *Hub) projected(rs []store.Result) {
	var touched []string
	for _, r := range rs {
		touched = append(touched, r.Flights...)
	}
	if len(touched) > 0 {
		h.Notify(touched)
	}
	if h.OnApplied != nil {
		h.OnApplied(rs)
	}
}

// Observer hears what devices report. Its methods are called from a
// session's reader, so they must return quickly.
type Observer interface {
	// Reported is a device's report (hello or heartbeat), received at at.
	Reported(deviceID string, st syncproto.DeviceState, at time.Time)
	// Disconnected is the end of a device's session; err says why (nil or
	// a *syncproto.Error).
	Disconnected(deviceID string, at time.Time, err error)
}

// SetMetrics makes the hub count sessions, ops, batches and frame bytes in
// m. Call it before serving.
func (h *Hub) SetMetrics(m *telemetry.Sync) {
	h.metrics = m
	h.codec.Observe = m.ObserveFrame
}

// Notify wakes the sessions serving any of flights: new ops are in their
// feeds.
func (h *Hub) Notify(flights []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range flights {
		for s := range h.byFlight[f] {
			s.wake()
		}
	}
}

// RosterChanged sends the crew roster to every connected device that
// takes it live: a crew member added at the gate can sign in on a tablet
// that is online, and one removed no longer can, without a reconnect.
func (h *Hub) RosterChanged(ctx context.Context) {
	// Read once for every session: the change is one, the tablets many.
	roster, err := h.store.Roster(ctx)
	if err != nil {
		h.log.Error("read crew roster for the connected tablets", "err", err)
		return
	}
	h.mu.Lock()
	sessions := slices.Collect(maps.Values(h.sessions))
	h.mu.Unlock()
	for _, s := range sessions {
		if err := s.sendRoster(&roster); err != nil {
			s.log.Warn("send crew roster", "err", err)
		}
	}
}

// Live is what the hub knows of a connected device right now.
type Live struct {
	SessionID   string
	ConnectedAt time.Time
	LastSeen    time.Time
	State       syncproto.DeviceState
	ReportedAt  time.Time // when State arrived
	Flights     []string
}

// Live returns the live state of a connected device, or false.
func (h *Hub) Live(deviceID string) (Live, bool) {
	h.mu.Lock()
	s := h.sessions[deviceID]
	h.mu.Unlock()
	if s == nil {
		return Live{}, false
	}
	return s.live(), true
}

// Connected counts connected devices.
func (h *Hub) Connected() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// Disconnect ends a device's session with an error code (for a revoked
// device, CodeRevoked). It reports whether a session was open.
func (h *Hub) Disconnect(deviceID, code, msg string) bool {
	h.mu.Lock()
	s := h.sessions[deviceID]
	h.mu.Unlock()
	if s == nil {
		return false
	}
	s.fail(syncproto.Errorf(code, "%s", msg))
	return true
}

// FlightClosed ends the sessions serving a flight that was just closed
// (by a supervisor or after its arrival); their devices reconnect and
// learn of the close in the handshake. It returns how many it ended.
func (h *Hub) FlightClosed(flight string) int {
	h.mu.Lock()
	var ss []*session
	for s := range h.byFlight[flight] {
		ss = append(ss, s)
	}
	h.mu.Unlock()
	for _, s := range ss {
		s.fail(syncproto.Errorf(syncproto.CodeUnavailable, "flight %s closed; reconnect", flight))
	}
	return len(ss)
}

// Close ends every session with CodeShuttingDown and waits for their
// goroutines. http.Server.Shutdown does not wait for hijacked connections,
// so the server calls this.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	all := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		all = append(all, s)
	}
	h.mu.Unlock()
	for _, s := range all {
		s.fail(syncproto.Errorf(syncproto.CodeShuttingDown, "the server is shutting down"))
	}
	h.cancel()
	h.wg.Wait()
}

func (h *Hub) register(s *session) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return syncproto.Errorf(syncproto.CodeShuttingDown, "the server is shutting down")
	}
	if old := h.sessions[s.deviceID]; old != nil {
		// A device reconnecting over a new link replaces its half-open
		// old session at once instead of waiting for its timeout.
		old.fail(syncproto.Errorf(syncproto.CodeConflict, "replaced by a newer session of the same device"))
		h.unsubscribeLocked(old)
	}
	h.sessions[s.deviceID] = s
	h.subscribeLocked(s, s.flightList())
	return nil
}

func (h *Hub) unregister(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[s.deviceID] == s {
		delete(h.sessions, s.deviceID)
	}
	h.unsubscribeLocked(s)
}

func (h *Hub) resubscribe(s *session, flights []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unsubscribeLocked(s)
	if h.sessions[s.deviceID] == s {
		h.subscribeLocked(s, flights)
	}
}

func (h *Hub) subscribeLocked(s *session, flights []string) {
	for _, f := range flights {
		m := h.byFlight[f]
		if m == nil {
			m = map[*session]struct{}{}
			h.byFlight[f] = m
		}
		m[s] = struct{}{}
	}
}

func (h *Hub) unsubscribeLocked(s *session) {
	for f, m := range h.byFlight {
		if _, ok := m[s]; ok {
			delete(m, s)
			if len(m) == 0 {
				delete(h.byFlight, f)
			}
		}
	}
}

// ServeHTTP upgrades a request on the sync endpoint and runs its session
// until it ends.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		CheckOrigin:     h.checkOrigin,
	}
	// Count the session before upgrading, and only while the hub is open:
	// an Add after Close has started waiting would be a WaitGroup misuse,
	// and a session started then would outlive the shutdown.
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		http.Error(w, "the server is shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has written the HTTP error already.
		h.log.Debug("sync upgrade refused", "remote", r.RemoteAddr, "err", err)
		return
	}
	s := newSession(h, conn, r.RemoteAddr)
	s.run(h.ctx)
}

func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range h.cfg.AllowedOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

var errClosed = errors.New("session closed")
