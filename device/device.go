package device

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
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
	Addr    string // local API listen address
	DataDir string // folder for cabin.db
	Ground  string // ground server base URL
	// DeviceID and DeviceToken, when both are set, are the credential
	// (automation); otherwise the one stored at enrolment is used.
	DeviceID    string
	DeviceToken string
	// EnrolCode is a one-time code from POST /api/v1/devices, exchanged
	// at the ground on Open for the credential, which is then stored.
	EnrolCode string
	// Insecure allows a plain http:// or ws:// ground URL. Without it the
	// sync link must be TLS: the token and passenger data cross it.
	Insecure bool
	// TLSCert and TLSKey serve the local API over HTTPS.
	TLSCert, TLSKey string
	// APIToken, if set, is a bearer token for automation on the local API,
	// besides crew sessions.
	APIToken string
	// SessionIdle locks a crew session unused this long.
	SessionIdle time.Duration
	// Retention is how long a closed flight's passenger data stays once
	// every op of it is acknowledged; PurgeInterval how often that is
	// checked (a minute if zero).
	Retention, PurgeInterval time.Duration
	// GroundCA, if set, is the pool of certificate authorities the ground's
	// certificate must chain to (a private CA); the system pool otherwise.
	GroundCA     *x509.CertPool
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
		SessionIdle:  api.DefaultSessionIdle,
		Retention:    time.Hour,
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
	if (s.cfg.DeviceID == "") != (s.cfg.DeviceToken == "") {
		return errors.New("--device-id and --device-token go together")
	}
	target, err := syncclient.SyncURL(s.cfg.Ground)
	if err != nil {
		return err
	}
	if strings.HasPrefix(target, "ws://") && !s.cfg.Insecure {
		return fmt.Errorf("ground URL %q is not TLS: use https:// (or --insecure on a trusted test network)", s.cfg.Ground)
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
	if err := s.credential(st); err != nil {
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
		Dialer: &websocket.Dialer{HandshakeTimeout: 15 * time.Second, Proxy: http.ProxyFromEnvironment, TLSClientConfig: s.tlsClient()},
	}, st)

	ui := assets.Crew()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	ids := syncproto.NewIDs()
	if s.cfg.Now != nil {
		ids.Now = s.cfg.Now
	}
	(&api.API{Store: st, IDs: ids, Sync: s.Sync, DeviceID: s.cfg.DeviceID, UI: ui, Log: s.log, Metrics: s.Metrics,
		APIToken: s.cfg.APIToken, SessionIdle: s.cfg.SessionIdle,
	}).Register(e)
	s.echo = e
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.log.Info("cabin service open", "addr", ln.Addr().String(), "device", s.cfg.DeviceID, "ground", s.cfg.Ground)
	return nil
}

func (s *Service) tlsClient() *tls.Config {
	return &tls.Config{RootCAs: s.cfg.GroundCA, MinVersion: tls.VersionTLS12}
}

// purgeLoop removes closed flights' passenger data once their retention
// has passed, and has the receipts reported (a served-flight change makes
// the sync client send a subscribe carrying them).
func (s *Service) purgeLoop(ctx context.Context) {
	every := s.cfg.PurgeInterval
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rs, err := s.Store.PurgeDue(time.Now(), s.cfg.Retention)
		if err != nil {
			s.log.Error("purge", "err", err)
			continue
		}
		for _, r := range rs {
			s.log.Info("closed flight purged", "flight", r.Flight, "enquiries", r.Enquiries, "ops", r.Ops)
		}
		if len(rs) > 0 {
			s.Sync.FlightsChanged()
		}
	}
}

// credential settles the device's identity: a new enrolment, the flags, or
// what an earlier enrolment stored, in that order.
func (s *Service) credential(st *store.Store) error {
	switch {
	case s.cfg.EnrolCode != "":
		hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, TLSClientConfig: s.tlsClient(), TLSHandshakeTimeout: 15 * time.Second,
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := syncclient.Enrol(ctx, hc, s.cfg.Ground, s.cfg.EnrolCode)
		if err != nil {
			return fmt.Errorf("enrol: %w", err)
		}
		if err := st.SetCredential(c.DeviceID, c.Token); err != nil {
			return err
		}
		s.cfg.DeviceID, s.cfg.DeviceToken = c.DeviceID, c.Token
		s.log.Info("device enrolled", "device", c.DeviceID)
	case s.cfg.DeviceID != "":
		if err := st.SetDeviceID(s.cfg.DeviceID); err != nil {
			return err
		}
	default:
		s.cfg.DeviceID, s.cfg.DeviceToken = st.Credential()
		if s.cfg.DeviceID == "" || s.cfg.DeviceToken == "" {
			return errors.New("this tablet is not enrolled: start it once with --enrol CODE (from POST /api/v1/devices), or give --device-id and --device-token")
		}
	}
	return nil
}

// Addr is the local API's address (after Open).
func (s *Service) Addr() string { return s.ln.Addr().String() }

// URL is the local API's base URL (after Open).
func (s *Service) URL() string {
	if s.cfg.TLSCert != "" {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Run serves the local API and syncs until ctx is done, then stops both and
// closes the store.
func (s *Service) Run(ctx context.Context) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	syncCtx, stopSync := context.WithCancel(ctx)
	defer stopSync()
	var wg sync.WaitGroup
	var syncErr error
	wg.Add(2)
	go func() { defer wg.Done(); syncErr = s.Sync.Run(syncCtx) }()
	go func() { defer wg.Done(); s.purgeLoop(syncCtx) }()
	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLSCert != "" {
			errc <- srv.ServeTLS(s.ln, s.cfg.TLSCert, s.cfg.TLSKey)
			return
		}
		errc <- srv.Serve(s.ln)
	}()
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
