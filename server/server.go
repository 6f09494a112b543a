package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cabincare/cabincare/assets"
	"github.com/cabincare/cabincare/secrethash"
	"github.com/cabincare/cabincare/server/api"
	"github.com/cabincare/cabincare/server/autoclose"
	"github.com/cabincare/cabincare/server/care"
	"github.com/cabincare/cabincare/server/events"
	"github.com/cabincare/cabincare/server/fleet"
	"github.com/cabincare/cabincare/server/hub"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
	"github.com/cabincare/cabincare/telemetry"
)

// Config configures a ground server. DefaultConfig gives working values.
type Config struct {
	Addr       string // listen address, host:port (port 0 picks one)
	DataDir    string // folder for ground.db
	AdminToken string // bootstrap bearer token for /api/
	Hub        hub.Config
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration
	// SLA is the care team's response promise (60 minutes by default).
	SLA time.Duration
	// WebhookSecret signs the channel webhooks (HMAC-SHA256); empty
	// disables them. WebhookVerifyToken answers Meta's subscription
	// handshake.
	WebhookSecret      string
	WebhookVerifyToken string
	// Health tunes the fleet's health rules (fleet.DefaultThresholds()
	// when zero); AlertInterval is how often alerts are re-evaluated for
	// the live event stream.
	Health        fleet.Thresholds
	AlertInterval time.Duration
	// TLSCert and TLSKey (PEM files) serve HTTPS and wss:// sync; both or
	// neither.
	TLSCert, TLSKey string
	// PINParams are the argon2id costs of crew PIN hashes
	// (secrethash.PINParams if zero; tests and the demo lower them).
	PINParams secrethash.Params
	// SessionTTL bounds a web login; EnrolTTL a device enrolment code.
	SessionTTL, EnrolTTL time.Duration
	// CloseAfter closes each flight this long after its scheduled arrival,
	// so its tablets purge its passenger data (0: only by hand);
	// CloseInterval is how often flights are checked [1m].
	CloseAfter, CloseInterval time.Duration
	Log                       *slog.Logger
	Now                       func() time.Time
}

// DefaultConfig returns the defaults used by cmd/ground.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         "data/ground",
		Hub:             hub.Config{Heartbeat: syncproto.DefaultHeartbeat, MaxFrame: syncproto.DefaultMaxFrame, Compress: true},
		ShutdownTimeout: 10 * time.Second,
		SLA:             care.DefaultSLA,
		Health:          fleet.DefaultThresholds(),
		AlertInterval:   15 * time.Second,
	}
}

// Server is a running ground server.
type Server struct {
	cfg   Config
	log   *slog.Logger
	Store *store.Store
	Hub   *hub.Hub
	Care  *care.Service
	Fleet *fleet.Monitor
	// Closer closes flights after their arrival (Config.CloseAfter).
	Closer *autoclose.Closer
	// Events is the live event stream (GET /api/v1/events).
	Events  *events.Broker
	Metrics *prometheus.Registry
	API     *api.API
	echo    *echo.Echo
	ln      net.Listener
}

// New returns an unopened server.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Health == (fleet.Thresholds{}) {
		cfg.Health = fleet.DefaultThresholds()
	}
	return &Server{cfg: cfg, log: cfg.Log}
}

// Open opens the store and the listener. On error, everything opened so far
// is closed again.
func (s *Server) Open() (err error) {
	if s.cfg.AdminToken == "" {
		return errors.New("an admin token is required (--admin-token or CABINCARE_ADMIN_TOKEN)")
	}
	if (s.cfg.TLSCert == "") != (s.cfg.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if s.cfg.TLSCert != "" {
		// Fail at start, not at the first handshake.
		if _, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey); err != nil {
			return fmt.Errorf("load TLS key pair: %w", err)
		}
	}
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	st, err := store.Open(filepath.Join(s.cfg.DataDir, "ground.db"))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	st.Now, st.Log = s.cfg.Now, s.log
	s.Store = st
	clock := syncproto.NewClock(st.MaxHLC())
	clock.Now = s.cfg.Now
	s.Hub = hub.New(s.cfg.Hub, st, clock, s.log)
	ids := syncproto.NewIDs()
	ids.Now = s.cfg.Now
	s.Care = &care.Service{Store: st, Clock: clock, IDs: ids, Notify: s.Hub.Notify, Log: s.log, Now: s.cfg.Now, SLA: s.cfg.SLA}

	// Observability and the fleet view: one registry per server (no
	// global state), one event broker fed by the hub, the care workflow
	// and the fleet monitor.
	s.Metrics = telemetry.NewRegistry()
	s.Hub.SetMetrics(telemetry.NewSync(s.Metrics, "Devices connected now."))
	telemetry.RegisterBolt(s.Metrics, "ground", st.DBStats)
	telemetry.RegisterProjection(s.Metrics, st.Pending)
	s.Events = events.New(256, s.cfg.Now)
	s.Fleet = &fleet.Monitor{
		Store: st, Sessions: s.Hub, Events: s.Events, Thresholds: s.cfg.Health, Log: s.log, Now: s.cfg.Now,
		Interval: s.cfg.AlertInterval, Auditor: &fleet.StoreAuditor{Store: st, Now: s.cfg.Now, Log: s.log},
	}
	s.Hub.Observer, s.Hub.Now = s.Fleet, s.cfg.Now
	interval := s.cfg.CloseInterval
	if interval <= 0 {
		interval = time.Minute
	}
	s.Closer = &autoclose.Closer{Store: st, Disconnect: s.Hub.FlightClosed, After: s.cfg.CloseAfter, Interval: interval, Now: s.cfg.Now, Log: s.log}
	enquiryEvents := func(rs []store.Result) {
		for _, r := range rs {
			if r.Result == syncproto.ResultApplied && r.Enquiry != nil {
				s.Events.Publish(events.TypeEnquiry, map[string]any{"id": r.Enquiry.ID, "op": r.ID, "seq": r.Seq, "status": r.Enquiry.Status, "flight_id": r.Enquiry.FlightID})
			}
		}
	}
	s.Hub.OnApplied, s.Care.OnApplied = enquiryEvents, enquiryEvents
	s.Hub.OnDelivered = func(device, flight string, ids []uuid.UUID) {
		for _, id := range ids {
			s.Events.Publish(events.TypeEnquiry, map[string]any{"id": id, "status": syncproto.StatusDelivered, "flight_id": flight, "device_id": device})
		}
	}

	ui := assets.Console()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s.API = &api.API{
		Store: st, Care: s.Care, Hub: s.Hub, Fleet: s.Fleet, Events: s.Events, Metrics: s.Metrics, AdminToken: s.cfg.AdminToken, UI: ui, Log: s.log, Now: s.cfg.Now,
		WebhookSecret: s.cfg.WebhookSecret, WebhookVerifyToken: s.cfg.WebhookVerifyToken,
		SessionTTL: s.cfg.SessionTTL, EnrolTTL: s.cfg.EnrolTTL, PINParams: s.cfg.PINParams,
	}
	s.API.Register(e)
	s.echo = e

	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.log.Info("ground server open", "addr", ln.Addr().String(), "data", s.cfg.DataDir, "epoch", st.Epoch(), "head", st.Head())
	return nil
}

// Routes is echo's route table (after Open); tests walk it.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

// Addr is the address the server listens on (after Open).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the server's base URL (after Open).
func (s *Server) URL() string {
	if s.cfg.TLSCert != "" {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Run serves until ctx is done, then shuts down gracefully: HTTP first,
// then every sync session (Shutdown does not wait for hijacked
// connections), then the store.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		// Every phase has a limit: headers, a whole request (bodies are at
		// most 1 MiB; the sync socket sets its own deadlines once
		// upgraded), and an idle keep-alive.
		ReadTimeout: 60 * time.Second,
		IdleTimeout: 120 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLSCert != "" {
			errc <- srv.ServeTLS(s.ln, s.cfg.TLSCert, s.cfg.TLSKey)
			return
		}
		errc <- srv.Serve(s.ln)
	}()
	monCtx, stopMon := context.WithCancel(ctx)
	monDone := make(chan struct{})
	go func() { defer close(monDone); s.Fleet.Run(monCtx) }()
	closerDone := make(chan struct{})
	go func() { defer close(closerDone); s.Closer.Run(monCtx) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("ground server shutting down")
	stopMon()
	<-monDone
	<-closerDone
	// End the event streams, which Shutdown would otherwise wait for.
	s.Events.Close()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	// Stop accepting first, so no new session starts while the hub closes
	// the ones it has (Shutdown does not wait for hijacked connections).
	err := srv.Shutdown(sctx)
	s.Hub.Close()
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, err, s.Store.Close())
}
