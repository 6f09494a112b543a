package telemetry

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// NewRegistry returns a registry with the Go runtime and process
// collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves reg in the Prometheus text format.
func Handler(reg *prometheus.Registry) echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
}

// Sync are the sync protocol's metrics, on either end.
type Sync struct {
	Connected   prometheus.Gauge
	Sessions    *prometheus.CounterVec // by how the session ended: ok, or the error code
	Ops         *prometheus.CounterVec // received, applied, duplicate, refused
	PushBatch   prometheus.Histogram
	PullBatch   prometheus.Histogram
	PushSeconds prometheus.Histogram
	PullSeconds prometheus.Histogram
	FrameBytes  *prometheus.CounterVec // by direction (in, out) and stage (payload, wire)
	Frames      *prometheus.CounterVec // by direction and frame type
}

// NewSync registers the sync metrics on reg. connectedHelp says what the
// connected gauge counts on this side.
func NewSync(reg prometheus.Registerer, connectedHelp string) *Sync {
	batch := prometheus.ExponentialBuckets(1, 4, 7) // 1 .. 4096 ops
	secs := prometheus.ExponentialBuckets(0.0005, 4, 10)
	s := &Sync{
		Connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cabincare_sync_connected", Help: connectedHelp}),
		Sessions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cabincare_sync_sessions_total",
			Help: "Sync sessions ended, by result: ok or the error code that ended them."}, []string{"result"}),
		Ops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cabincare_sync_ops_total",
			Help: "Pushed ops by result: received, then applied, duplicate or refused."}, []string{"result"}),
		PushBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cabincare_sync_push_batch_ops",
			Help: "Ops per push frame.", Buckets: batch}),
		PullBatch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cabincare_sync_pull_batch_ops",
			Help: "Ops per changes frame.", Buckets: batch}),
		PushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cabincare_sync_push_seconds",
			Help: "Time to answer a push durably (ground: apply; tablet: send to ack).", Buckets: secs}),
		PullSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cabincare_sync_pull_seconds",
			Help: "Time to handle a changes page (ground: read from the store; tablet: store it).", Buckets: secs}),
		FrameBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cabincare_sync_frame_bytes_total",
			Help: "Sync frame bytes by direction and stage: payload (before compression) or wire (after)."}, []string{"direction", "stage"}),
		Frames: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cabincare_sync_frames_total",
			Help: "Sync frames by direction and type."}, []string{"direction", "type"}),
	}
	reg.MustRegister(s.Connected, s.Sessions, s.Ops, s.PushBatch, s.PullBatch, s.PushSeconds, s.PullSeconds, s.FrameBytes, s.Frames)
	return s
}

// ObserveFrame counts one frame; it fits syncproto.Codec.Observe.
func (s *Sync) ObserveFrame(out bool, t syncproto.FrameType, payload, wire int) {
	if s == nil {
		return
	}
	dir := "in"
	if out {
		dir = "out"
	}
	s.FrameBytes.WithLabelValues(dir, "payload").Add(float64(payload))
	s.FrameBytes.WithLabelValues(dir, "wire").Add(float64(wire))
	s.Frames.WithLabelValues(dir, t.String()).Inc()
}

// SessionStarted counts a session in the connected gauge.
func (s *Sync) SessionStarted() {
	if s != nil {
		s.Connected.Inc()
	}
}

// SessionEnded counts a session by what ended it: "ok" (nil), the code of
// a *syncproto.Error, or "closed" for a link that just went away.
func (s *Sync) SessionEnded(err error) {
	if s == nil {
		return
	}
	s.Connected.Dec()
	result := "closed"
	var pe *syncproto.Error
	switch {
	case err == nil:
		result = "ok"
	case errors.As(err, &pe):
		result = pe.Code
	}
	s.Sessions.WithLabelValues(result).Inc()
}

// Pushed records a push batch: its size, its results and how long it took.
func (s *Sync) Pushed(results []syncproto.OpResult, took time.Duration) {
	if s == nil {
		return
	}
	s.PushBatch.Observe(float64(len(results)))
	s.PushSeconds.Observe(took.Seconds())
	s.Ops.WithLabelValues("received").Add(float64(len(results)))
	for _, r := range results {
		s.Ops.WithLabelValues(r.Result).Inc()
	}
}

// Pulled records a changes page of n ops handled in took.
func (s *Sync) Pulled(n int, took time.Duration) {
	if s == nil {
		return
	}
	s.PullBatch.Observe(float64(n))
	s.PullSeconds.Observe(took.Seconds())
}

// RegisterBolt exposes a bbolt database's transaction counters: bbolt
// keeps cumulative times per phase, which rate() turns into time spent
// committing per second.
func RegisterBolt(reg prometheus.Registerer, db string, stats func() bolt.Stats) {
	labels := prometheus.Labels{"db": db}
	counter := func(name, help string, f func(bolt.Stats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, func() float64 { return f(stats()) })
	}
	gauge := func(name, help string, f func(bolt.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, func() float64 { return f(stats()) })
	}
	reg.MustRegister(
		counter("cabincare_bbolt_read_tx_total", "Read transactions started.", func(s bolt.Stats) float64 { return float64(s.TxN) }),
		counter("cabincare_bbolt_write_tx_total", "Write transactions committed (page writes).", func(s bolt.Stats) float64 { return float64(s.TxStats.GetWrite()) }),
		counter("cabincare_bbolt_tx_write_seconds_total", "Time spent writing pages to disk in commits.", func(s bolt.Stats) float64 { return s.TxStats.GetWriteTime().Seconds() }),
		counter("cabincare_bbolt_tx_spill_seconds_total", "Time spent spilling nodes in commits.", func(s bolt.Stats) float64 { return s.TxStats.GetSpillTime().Seconds() }),
		counter("cabincare_bbolt_tx_rebalance_seconds_total", "Time spent rebalancing nodes in commits.", func(s bolt.Stats) float64 { return s.TxStats.GetRebalanceTime().Seconds() }),
		gauge("cabincare_bbolt_open_read_tx", "Read transactions open now.", func(s bolt.Stats) float64 { return float64(s.OpenTxN) }),
	)
}

// RegisterProjection exports how many pushed ops the ground has stored
// but not yet projected into its enquiries, care records and feeds: near
// zero except during a storm, when it shows how far agents' views and
// other tablets lag the acknowledged pushes.
func RegisterProjection(reg prometheus.Registerer, pending func() uint64) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cabincare_ground_projection_pending", Help: "Pushed ops stored and acknowledged but not yet projected.",
	}, func() float64 { return float64(pending()) }))
}

// HTTP returns an echo middleware that times requests by method, route
// (the pattern, so ids do not explode the label set) and status.
func HTTP(reg prometheus.Registerer) echo.MiddlewareFunc {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cabincare_http_request_seconds", Help: "HTTP request durations by method, route and status.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	}, []string{"method", "route", "status"})
	reg.MustRegister(h)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			status := c.Response().Status
			if err != nil {
				// The error handler writes the status after us; read it
				// from the error the way it will.
				status = errorStatus(err)
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			h.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
			return err
		}
	}
}

func errorStatus(err error) int {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code
	}
	if code := syncproto.ErrorCode(err); code != syncproto.CodeInternal {
		return syncproto.HTTPStatus(code)
	}
	return http.StatusInternalServerError
}
