package fleet

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cabincare/cabincare/server/events"
	"github.com/cabincare/cabincare/server/hub"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// Store is what the fleet view needs from the ground store.
type Store interface {
	Device(ctx context.Context, id string) (*store.Device, error)
	Devices(ctx context.Context) ([]store.Device, error)
	UpdateDevice(ctx context.Context, id string, fn func(*store.Device) error) error
	ForgetDevice(ctx context.Context, id string) error
	Flight(ctx context.Context, id string) (*store.Flight, error)
	Flights(ctx context.Context) ([]store.Flight, error)
	FlightStock(ctx context.Context, flight string) ([]store.Stocked, error)
	RecordSample(ctx context.Context, id string, s store.Sample) error
	History(ctx context.Context, id string, since time.Time) ([]store.Sample, error)
}

var _ Store = (*store.Store)(nil)

// Sessions is what the fleet view needs from the sync hub.
type Sessions interface {
	Live(deviceID string) (hub.Live, bool)
	Disconnect(deviceID, code, msg string) bool
}

var _ Sessions = (*hub.Hub)(nil)

// Monitor keeps the fleet view. Set the exported fields, then use it; it
// is safe for concurrent use.
type Monitor struct {
	Store      Store
	Sessions   Sessions
	Events     *events.Broker // nil: no live events
	Auditor    Auditor        // nil: actions are only logged
	Thresholds Thresholds
	Log        *slog.Logger
	// Now is the clock of every derived figure and rule; tests inject one.
	Now func() time.Time
	// Interval is how often Run re-evaluates alerts to publish changes.
	Interval time.Duration

	mu      sync.Mutex           // guards the fields below
	sampled map[string]time.Time // device -> minute of its last stored sample
	recent  map[string][]int     // device -> outbox depth of its last samples, oldest first
	alerts  map[string]Alert     // as of the last Evaluate
	decom   map[string]bool      // decommissions waiting for a drained outbox
}

func (m *Monitor) initLocked() {
	if m.sampled == nil {
		m.sampled, m.recent, m.decom = map[string]time.Time{}, map[string][]int{}, map[string]bool{}
	}
}

const recentSamples = 8

func (m *Monitor) now() time.Time {
	if m.Now == nil {
		return time.Now()
	}
	return m.Now()
}

func (m *Monitor) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}

var _ hub.Observer = (*Monitor)(nil)

// Reported records a device report (hub.Observer): at most one sample a
// minute goes to the store, and a device whose outbox is drained finishes
// a pending decommission.
func (m *Monitor) Reported(deviceID string, st syncproto.DeviceState, at time.Time) {
	minute := at.Truncate(time.Minute)
	m.mu.Lock()
	m.initLocked()
	due := !m.sampled[deviceID].Equal(minute)
	if due {
		m.sampled[deviceID] = minute
		r := append(m.recent[deviceID], st.Outbox)
		if len(r) > recentSamples {
			r = r[len(r)-recentSamples:]
		}
		m.recent[deviceID] = r
	}
	decom := m.decom[deviceID]
	m.mu.Unlock()
	ctx := context.Background()
	if due {
		m.sample(ctx, deviceID, st, at, true)
	}
	// A pending decommission is known in memory, or (after a restart)
	// found at the next per-minute sample: no store read per heartbeat.
	if st.Outbox == 0 && (due || decom) {
		if d, err := m.Store.Device(ctx, deviceID); err == nil && d.Decommissioning != nil {
			m.finishDecommission(ctx, d)
			return
		}
	}
	m.publishDevice(ctx, deviceID)
}

// Disconnected records the end of a session (hub.Observer).
func (m *Monitor) Disconnected(deviceID string, at time.Time, err error) {
	ctx := context.Background()
	if d, derr := m.Store.Device(ctx, deviceID); derr == nil {
		m.sample(ctx, deviceID, d.State, at, false)
	}
	m.publishDevice(ctx, deviceID)
}

// sample stores one history point. A device caught up at that moment (no
// unsent ops, no changes it lacks) is synced now: LastSync moves even when
// nothing new was pulled, so a healthy idle tablet never looks stale.
func (m *Monitor) sample(ctx context.Context, id string, st syncproto.DeviceState, at time.Time, online bool) {
	d, err := m.Store.Device(ctx, id)
	if err != nil {
		return // forgotten meanwhile
	}
	smp := store.Sample{
		At: at.UTC(), Online: online, Outbox: st.Outbox, OldestMs: st.OldestMillis, CursorLag: d.CursorLag,
		SkewMs: st.Clock - at.UnixMilli(), StoreBytes: st.StoreBytes, DeadLetters: st.DeadLetters, LastError: st.LastError,
	}
	if err := m.Store.RecordSample(ctx, id, smp); err != nil && !errors.Is(err, store.ErrNotFound) {
		m.log().Error("record device sample", "device", id, "err", err)
	}
	// Write only when it moves by a minute or more: one write per device
	// per minute at most.
	if online && st.Outbox == 0 && d.CursorLag == 0 && (d.LastSync == nil || at.Sub(*d.LastSync) >= time.Minute) {
		_ = m.Store.UpdateDevice(ctx, id, func(d *store.Device) error {
			t := at.UTC()
			if d.LastSync == nil || d.LastSync.Before(t) {
				d.LastSync = &t
			}
			return nil
		})
	}
}

func (m *Monitor) publishDevice(ctx context.Context, id string) {
	if m.Events == nil || m.Events.Subscribers() == 0 {
		return
	}
	d, err := m.Store.Device(ctx, id)
	if err != nil {
		m.Events.Publish(events.TypeDevice, map[string]any{"id": id, "forgotten": true})
		return
	}
	v := m.view(d, m.flightsOf(ctx, d.Flights))
	m.Events.Publish(events.TypeDevice, v)
}

// DeviceView is a device as the fleet view shows it: what it reported and
// what the ground derives from it. Field names are a contract with the
// dashboard (README "Fleet admin").
type DeviceView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Online    bool       `json:"online"`
	Revoked   bool       `json:"revoked"`
	CreatedAt time.Time  `json:"created_at"`
	LastSeen  *time.Time `json:"last_seen"`
	LastSync  *time.Time `json:"last_sync"`
	// SinceLastSync is whole seconds since LastSync (null: never synced).
	SinceLastSync *int64            `json:"since_last_sync_s"`
	Flights       []string          `json:"flights"`
	OpenFlight    string            `json:"open_flight,omitempty"`
	Pending       int               `json:"pending"`
	OldestPending *time.Time        `json:"oldest_pending,omitempty"`
	DeadLetters   int               `json:"dead_letters"`
	CursorLag     int               `json:"cursor_lag"`
	Cursors       map[string]uint64 `json:"cursors"`
	AppVersion    string            `json:"app_version,omitempty"`
	Protocol      int               `json:"protocol"`
	// ProtocolRefused is true when the device's last hello was refused
	// for its protocol version.
	ProtocolRefused bool `json:"protocol_refused"`
	// SkewMs is the device clock minus the ground's when the report
	// arrived (null: no report yet).
	SkewMs          *int64                `json:"clock_skew_ms"`
	HLC             syncproto.HLC         `json:"hlc"`
	StoreBytes      int64                 `json:"store_bytes"`
	LastPush        *time.Time            `json:"last_push,omitempty"`
	LastPull        *time.Time            `json:"last_pull,omitempty"`
	LastError       string                `json:"last_error,omitempty"` // as the device reported it
	SyncErrors      int                   `json:"sync_errors"`
	LastSyncError   string                `json:"last_sync_error,omitempty"` // as the ground saw it
	LastSyncErrorAt *time.Time            `json:"last_sync_error_at,omitempty"`
	ReportedAt      *time.Time            `json:"reported_at,omitempty"`
	State           syncproto.DeviceState `json:"state"`
	SessionID       string                `json:"session_id,omitempty"`
	// Binding is which flights the device may serve (empty: any).
	Binding         store.Binding `json:"binding"`
	ResyncPending   bool          `json:"resync_pending"`
	Decommissioning *time.Time    `json:"decommissioning,omitempty"`
	// Problems names the rules the device breaks now; Alerts says why.
	Problems []string       `json:"problems"`
	Alerts   []Alert        `json:"alerts"`
	History  []store.Sample `json:"history,omitempty"`
}

func ms(v int64) *time.Time {
	if v == 0 {
		return nil
	}
	t := time.UnixMilli(v).UTC()
	return &t
}

func (m *Monitor) view(d *store.Device, flights map[string]store.Flight) DeviceView {
	now := m.now()
	v := DeviceView{
		ID: d.ID, Name: d.Name, Revoked: d.RevokedAt != nil, CreatedAt: d.CreatedAt,
		LastSeen: d.LastSeen, LastSync: d.LastSync, Flights: d.Flights, CursorLag: d.CursorLag,
		Cursors: d.Cursors, State: d.State, ReportedAt: d.StateAt, Protocol: d.Protocol,
		SyncErrors: d.SyncErrors, LastSyncError: d.LastSyncError, LastSyncErrorAt: d.LastSyncErrorAt,
		ResyncPending: d.Repull, Decommissioning: d.Decommissioning, ProtocolRefused: d.ProtocolRefused,
		Binding: d.Binding,
	}
	if v.Binding.Aircraft == nil {
		v.Binding.Aircraft = []string{}
	}
	if v.Binding.Flights == nil {
		v.Binding.Flights = []string{}
	}
	if live, ok := m.Sessions.Live(d.ID); ok {
		t, r := live.LastSeen.UTC(), live.ReportedAt.UTC()
		v.Online, v.SessionID, v.State, v.LastSeen, v.ReportedAt = true, live.SessionID, live.State, &t, &r
	}
	st := v.State
	v.Pending, v.DeadLetters, v.OldestPending = st.Outbox, st.DeadLetters, ms(st.OldestMillis)
	v.OpenFlight, v.AppVersion, v.HLC, v.StoreBytes, v.LastError = st.OpenFlight, st.AppVersion, st.HLC, st.StoreBytes, st.LastError
	v.LastPush, v.LastPull = ms(st.LastPush), ms(st.LastPull)
	if st.Protocol != 0 && d.Protocol == 0 {
		v.Protocol = st.Protocol
	}
	if v.ReportedAt != nil && st.Clock != 0 {
		skew := st.Clock - v.ReportedAt.UnixMilli()
		v.SkewMs = &skew
	}
	if v.LastSync != nil {
		s := int64(now.Sub(*v.LastSync) / time.Second)
		v.SinceLastSync = &s
	}
	if v.Flights == nil {
		v.Flights = []string{}
	}
	if v.Cursors == nil {
		v.Cursors = map[string]uint64{}
	}
	m.mu.Lock()
	recent := slices.Clone(m.recent[d.ID])
	m.mu.Unlock()
	v.Alerts = deviceAlerts(m.Thresholds, now, &v, flights, recent)
	if v.Alerts == nil {
		v.Alerts = []Alert{}
	}
	v.Problems = []string{}
	for _, a := range v.Alerts {
		if !slices.Contains(v.Problems, a.Rule) {
			v.Problems = append(v.Problems, a.Rule)
		}
	}
	return v
}

func (m *Monitor) flightMap(ctx context.Context) (map[string]store.Flight, error) {
	fs, err := m.Store.Flights(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.Flight, len(fs))
	for _, f := range fs {
		out[f.ID] = f
	}
	return out, nil
}

// flightsOf reads only the given flights: a single device's view must not
// cost a scan of every flight (it is built on each report while someone
// watches the event stream).
func (m *Monitor) flightsOf(ctx context.Context, ids []string) map[string]store.Flight {
	out := make(map[string]store.Flight, len(ids))
	for _, id := range ids {
		if f, err := m.Store.Flight(ctx, id); err == nil {
			out[id] = *f
		}
	}
	return out
}

// Filter selects devices. Zero values select everything.
type Filter struct {
	Flight string // serves this flight
	Online *bool  // online (true) or offline (false)
	// Problem: "any" for devices breaking any rule, "none" for healthy
	// ones, or a rule name.
	Problem string
}

// Devices lists the devices matching f, by name.
func (m *Monitor) Devices(ctx context.Context, f Filter) ([]DeviceView, error) {
	ds, err := m.Store.Devices(ctx)
	if err != nil {
		return nil, err
	}
	flights, err := m.flightMap(ctx)
	if err != nil {
		return nil, err
	}
	out := []DeviceView{}
	for i := range ds {
		if f.Flight != "" && !slices.Contains(ds[i].Flights, f.Flight) {
			continue
		}
		v := m.view(&ds[i], flights)
		if f.Online != nil && v.Online != *f.Online {
			continue
		}
		switch f.Problem {
		case "":
		case "any":
			if len(v.Problems) == 0 {
				continue
			}
		case "none":
			if len(v.Problems) > 0 {
				continue
			}
		default:
			if !slices.Contains(v.Problems, f.Problem) {
				continue
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// Device returns one device's view; with a non-zero history, its samples
// over that span too.
func (m *Monitor) Device(ctx context.Context, id string, history time.Duration) (*DeviceView, error) {
	d, err := m.Store.Device(ctx, id)
	if err != nil {
		return nil, err
	}
	v := m.view(d, m.flightsOf(ctx, d.Flights))
	if history > 0 {
		if v.History, err = m.Store.History(ctx, id, m.now().Add(-history)); err != nil {
			return nil, err
		}
	}
	return &v, nil
}

// Alerts lists every current alert, critical first: the device rules for
// each device, and readiness for each flight departing within the
// readiness window.
func (m *Monitor) Alerts(ctx context.Context) ([]Alert, error) {
	devs, err := m.Devices(ctx, Filter{})
	if err != nil {
		return nil, err
	}
	out := []Alert{}
	for _, v := range devs {
		out = append(out, v.Alerts...)
	}
	flights, err := m.Store.Flights(ctx)
	if err != nil {
		return nil, err
	}
	now := m.now()
	for _, f := range flights {
		if _, soon := departsWithin(f, now, m.Thresholds.ReadinessWindow); !soon {
			continue
		}
		r, err := m.readiness(ctx, f, devs)
		if err != nil {
			return nil, err
		}
		out = append(out, readinessAlerts(r)...)
	}
	sortAlerts(out)
	return out, nil
}

// Readiness is a flight's pre-departure check: every enquiry handed to it
// and on how many of its tablets it is stored.
type Readiness struct {
	Flight store.Flight `json:"flight"`
	// DepartsInSeconds is null for a flight without a departure time.
	DepartsInSeconds *int64 `json:"departs_in_s"`
	// Ready is true when every enquiry is on at least MinTablets tablets.
	Ready      bool           `json:"ready"`
	MinTablets int            `json:"min_tablets"`
	Devices    []ReadyDevice  `json:"devices"`
	Enquiries  []ReadyEnquiry `json:"enquiries"`
	Alerts     []Alert        `json:"alerts"`
	Counts     map[string]int `json:"counts"` // enquiries, ready, not_ready
}

// ReadyDevice is a tablet serving the flight.
type ReadyDevice struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Online   bool       `json:"online"`
	Cursor   uint64     `json:"cursor"`
	LastSync *time.Time `json:"last_sync"`
}

// ReadyEnquiry is an enquiry handed to the flight and the tablets that
// store its current hand-off (their cursor covers it: the same durable
// fact as a delivery receipt).
type ReadyEnquiry struct {
	ID            string           `json:"id"`
	Status        syncproto.Status `json:"status"`
	PassengerName string           `json:"passenger_name"`
	Seat          string           `json:"seat"`
	OnTablets     int              `json:"on_tablets"`
	Tablets       []string         `json:"tablets"`
	Ready         bool             `json:"ready"`
}

// FlightReadiness returns the readiness of one flight.
func (m *Monitor) FlightReadiness(ctx context.Context, flight string) (*Readiness, error) {
	f, err := m.Store.Flight(ctx, flight)
	if err != nil {
		return nil, err
	}
	devs, err := m.Devices(ctx, Filter{Flight: flight})
	if err != nil {
		return nil, err
	}
	r, err := m.readiness(ctx, *f, devs)
	if err != nil {
		return nil, err
	}
	if _, soon := departsWithin(*f, m.now(), m.Thresholds.ReadinessWindow); soon {
		r.Alerts = readinessAlerts(r)
	}
	return r, nil
}

func (m *Monitor) readiness(ctx context.Context, f store.Flight, devs []DeviceView) (*Readiness, error) {
	min := max(m.Thresholds.MinTablets, 1)
	r := &Readiness{Flight: f, MinTablets: min, Ready: true, Devices: []ReadyDevice{}, Enquiries: []ReadyEnquiry{}, Alerts: []Alert{}}
	if f.DepartsAt != nil {
		s := int64(f.DepartsAt.Sub(m.now()) / time.Second)
		r.DepartsInSeconds = &s
	}
	for _, d := range devs {
		if d.Revoked || !slices.Contains(d.Flights, f.ID) {
			continue
		}
		r.Devices = append(r.Devices, ReadyDevice{ID: d.ID, Name: d.Name, Online: d.Online, Cursor: d.Cursors[f.ID], LastSync: d.LastSync})
	}
	stock, err := m.Store.FlightStock(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	ready := 0
	for _, s := range stock {
		e := ReadyEnquiry{ID: s.Enquiry.ID.String(), Status: s.Status, PassengerName: s.Enquiry.PassengerName, Seat: s.Enquiry.Seat, Tablets: []string{}}
		for _, d := range r.Devices {
			if s.Seq > 0 && d.Cursor >= s.Seq {
				e.OnTablets++
				e.Tablets = append(e.Tablets, d.ID)
			}
		}
		e.Ready = e.OnTablets >= min
		if e.Ready {
			ready++
		} else {
			r.Ready = false
		}
		r.Enquiries = append(r.Enquiries, e)
	}
	sort.Slice(r.Enquiries, func(i, j int) bool {
		if r.Enquiries[i].Ready != r.Enquiries[j].Ready {
			return !r.Enquiries[i].Ready
		}
		return r.Enquiries[i].Seat < r.Enquiries[j].Seat
	})
	r.Counts = map[string]int{"enquiries": len(stock), "ready": ready, "not_ready": len(stock) - ready}
	return r, nil
}

// Evaluate computes the current alerts and publishes each one raised or
// cleared since the last evaluation as an alert event.
func (m *Monitor) Evaluate(ctx context.Context) ([]Alert, error) {
	list, err := m.Alerts(ctx)
	if err != nil {
		return nil, err
	}
	cur := make(map[string]Alert, len(list))
	for _, a := range list {
		cur[a.ID] = a
	}
	m.mu.Lock()
	prev := m.alerts
	m.alerts = cur
	m.mu.Unlock()
	if m.Events != nil {
		for _, a := range list {
			if _, ok := prev[a.ID]; !ok {
				m.Events.Publish(events.TypeAlert, AlertEvent{State: "raised", Alert: a})
			}
		}
		for id, a := range prev {
			if _, ok := cur[id]; !ok {
				m.Events.Publish(events.TypeAlert, AlertEvent{State: "cleared", Alert: a})
			}
		}
	}
	return list, nil
}

// AlertEvent is the data of an alert event.
type AlertEvent struct {
	State string `json:"state"` // raised or cleared
	Alert
}

// Run evaluates alerts every Interval (15 s if zero) until ctx is done.
func (m *Monitor) Run(ctx context.Context) {
	every := m.Interval
	if every <= 0 {
		every = 15 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := m.Evaluate(ctx); err != nil && ctx.Err() == nil {
			m.log().Error("evaluate fleet alerts", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
