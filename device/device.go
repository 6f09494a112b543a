package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cabincare/cabincare/assets"
	"github.com/cabincare/cabincare/device/api"
	"github.com/cabincare/cabincare/device/store"
	"github.com/cabincare/cabincare/device/syncclient"
	"github.com/cabincare/cabincare/syncproto"
	"github.com/cabincare/cabincare/telemetry"
)

// Version is the app version reported to the ground.
const Version = "0.1.0"

// Config configures a cabin service.
type Config struct {
	Addr         string // local API listen address
	DataDir      string // folder for cabin.db
	Ground       string // ground server base URL
	DeviceID     string
	DeviceToken  string
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	Compress     bool
	Log          *slog.Logger
	// Now is the tablet's wall clock (time.Now if nil): it stamps crew ops
	// and the clock reported to the ground; tests shift it.
	Now func() time.Time
}

// DefaultConfig returns the defaults used by cmd/cabin.
func DefaultConfig() Config {
	return Config{
		Addr:         "127.0.0.1:8081",
		DataDir:      "data/cabin",
		Ground:       "http://127.0.0.1:8080",
		ReconnectMin: 500 * time.Millisecond,
		ReconnectMax: 30 * time.Second,
		Compress:     true,
	}
}

// Service is a cabin service.
type Service struct {
	cfg   Config
	log   *slog.Logger
	Store *store.Store
	Sync  *syncclient.Client
	// Metrics is this service's registry, served at /metrics.
	Metrics *prometheus.Registry
	echo    *echo.Echo
	ln      net.Listener
}

// New returns an unopened service.
func New(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, log: cfg.Log}
}

// Open opens the store and the listener. A corrupt store is refused (see
// store.ErrCorrupt).
func (s *Service) Open() (err error) {
	if s.cfg.DeviceID == "" || s.cfg.DeviceToken == "" {
		return errors.New("a device id and token are required (--device-id, --device-token)")
	}
	if _, err := syncclient.SyncURL(s.cfg.Ground); err != nil {
		return err
	}
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	st, err := store.Open(filepath.Join(s.cfg.DataDir, "cabin.db"))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	if err := st.SetDeviceID(s.cfg.DeviceID); err != nil {
		return err
	}
	s.Store = st
	if s.cfg.Now != nil {
		st.Clock.Now = s.cfg.Now
	}
	s.Metrics = telemetry.NewRegistry()
	syncMetrics := telemetry.NewSync(s.Metrics, "1 while this tablet has a sync session with the ground.")
	telemetry.RegisterBolt(s.Metrics, "cabin", st.DBStats)
	s.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cabincare_outbox_depth", Help: "Ops recorded on this tablet and not yet acknowledged by the ground.",
	}, func() float64 {
		status, err := st.Status()
		if err != nil {
			return -1
		}
		return float64(status.Pending)
	}))
	s.Sync = syncclient.New(syncclient.Config{
		Ground: s.cfg.Ground, DeviceID: s.cfg.DeviceID, Token: s.cfg.DeviceToken, AppVersion: Version,
		ReconnectMin: s.cfg.ReconnectMin, ReconnectMax: s.cfg.ReconnectMax, Compress: s.cfg.Compress,
		Log: s.log.With("device", s.cfg.DeviceID), Now: s.cfg.Now, Metrics: syncMetrics,
	}, st)

	ui := assets.Crew()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	ids := syncproto.NewIDs()
	if s.cfg.Now != nil {
		ids.Now = s.cfg.Now
	}
	(&api.API{Store: st, IDs: ids, Sync: s.Sync, DeviceID: s.cfg.DeviceID, UI: ui, Log: s.log, Metrics: s.Metrics}).Register(e)
	s.echo = e
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.log.Info("cabin service open", "addr", ln.Addr().String(), "device", s.cfg.DeviceID, "ground", s.cfg.Ground)
	return nil
}

// Addr is the local API's address (after Open).
func (s *Service) Addr() string { return s.ln.Addr().String() }

// URL is the local API's base URL (after Open).
func (s *Service) URL() string { return "http://" + s.Addr() }

// Run serves the local API and syncs until ctx is done, then stops both and
// closes the store.
func (s *Service) Run(ctx context.Context) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	var wg sync.WaitGroup
	var syncErr error
	wg.Add(1)
	go func() { defer wg.Done(); syncErr = s.Sync.Run(syncCtx) }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("cabin service shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	stopSync()
	wg.Wait()
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, shutErr, syncErr, s.Store.Close())
}
