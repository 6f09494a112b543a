// Command ground runs the cabincare ground server: the care workflow's REST
// API, the agent console, and the sync endpoint for cabin tablets.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cabincare/cabincare/flagenv"
	"github.com/cabincare/cabincare/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "ground:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "import" {
		return runImport(ctx, args[1:], os.Stdout, stderr, stderrIsTerminal())
	}
	if len(args) > 0 && args[0] == "admin" {
		return runAdmin(ctx, args[1:], os.Stdout, stderr)
	}
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("ground", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address host:port")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data folder (holds ground.db)")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "bootstrap bearer token for /api/ (required)")
	fs.DurationVar(&cfg.Hub.Heartbeat, "heartbeat", cfg.Hub.Heartbeat, "sync heartbeat interval; a device silent for 3 intervals is dropped")
	fs.IntVar(&cfg.Hub.MaxFrame, "max-frame", cfg.Hub.MaxFrame, "largest sync frame in bytes, compressed or not")
	fs.BoolVar(&cfg.Hub.Compress, "compress", cfg.Hub.Compress, "zstd-compress sync frames")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "graceful shutdown limit")
	fs.DurationVar(&cfg.SLA, "sla", cfg.SLA, "response promise: each enquiry's deadline is its arrival plus this, scaled by its priority")
	fs.StringVar(&cfg.WebhookSecret, "webhook-secret", "", "secret that signs the channel webhooks (HMAC-SHA256); empty disables the webhook routes")
	fs.StringVar(&cfg.WebhookVerifyToken, "webhook-verify-token", "", "token Meta sends in its webhook subscription handshake (hub.verify_token)")
	h := &cfg.Health
	fs.DurationVar(&h.NotSynced, "alert-not-synced", h.NotSynced, "alert when a device has not synced for this long while its flight departs within --alert-departure-window")
	fs.DurationVar(&h.DepartureWindow, "alert-departure-window", h.DepartureWindow, "how soon before departure a silent device is an alert")
	fs.DurationVar(&h.OutboxAge, "alert-outbox-age", h.OutboxAge, "alert when a device's oldest unsent op is older than this")
	fs.IntVar(&h.OutboxDepth, "alert-outbox-depth", h.OutboxDepth, "alert when a device has this many unsent ops")
	fs.IntVar(&h.OutboxGrowth, "alert-outbox-growth", h.OutboxGrowth, "alert when a device's outbox grew in this many per-minute samples in a row")
	fs.DurationVar(&h.ClockSkew, "alert-clock-skew", h.ClockSkew, "alert when a device clock is further than this from the ground's")
	fs.IntVar(&h.SyncErrors, "alert-sync-errors", h.SyncErrors, "alert when this many sync sessions in a row ended on an error")
	fs.IntVar(&h.MinTablets, "readiness-min-tablets", h.MinTablets, "tablets of a flight that must hold each of its enquiries before departure")
	fs.DurationVar(&h.ReadinessWindow, "readiness-window", h.ReadinessWindow, "how soon before departure an enquiry on too few tablets is an alert")
	fs.DurationVar(&cfg.AlertInterval, "alert-interval", cfg.AlertInterval, "how often alerts are re-evaluated for the live event stream")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate (PEM) for HTTPS and wss:// sync; with --tls-key")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key (PEM); with --tls-cert")
	fs.DurationVar(&cfg.SessionTTL, "session-ttl", 12*time.Hour, "how long a web login lasts")
	fs.DurationVar(&cfg.EnrolTTL, "enrol-ttl", 15*time.Minute, "how long a device enrolment code can be used")
	fs.DurationVar(&cfg.CloseAfter, "close-after", 0, "close each flight this long after its scheduled arrival (24h, say), so its tablets purge its passenger data; 0 closes flights only by hand")
	origins := fs.String("allowed-origins", "", "comma-separated browser origins, besides the server's own, allowed to open the sync WebSocket")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	err := flagenv.Parse(fs, args, map[string]string{
		"addr": "CABINCARE_GROUND_ADDR", "data": "CABINCARE_GROUND_DATA", "admin-token": "CABINCARE_ADMIN_TOKEN",
		"heartbeat": "CABINCARE_HEARTBEAT", "max-frame": "CABINCARE_MAX_FRAME", "compress": "CABINCARE_COMPRESS",
		"shutdown-timeout": "CABINCARE_SHUTDOWN_TIMEOUT", "log-level": "CABINCARE_LOG_LEVEL", "log-format": "CABINCARE_LOG_FORMAT",
		"sla": "CABINCARE_SLA", "webhook-secret": "CABINCARE_WEBHOOK_SECRET", "webhook-verify-token": "CABINCARE_WEBHOOK_VERIFY_TOKEN",
		"alert-not-synced": "CABINCARE_ALERT_NOT_SYNCED", "alert-departure-window": "CABINCARE_ALERT_DEPARTURE_WINDOW",
		"alert-outbox-age": "CABINCARE_ALERT_OUTBOX_AGE", "alert-outbox-depth": "CABINCARE_ALERT_OUTBOX_DEPTH",
		"alert-outbox-growth": "CABINCARE_ALERT_OUTBOX_GROWTH", "alert-clock-skew": "CABINCARE_ALERT_CLOCK_SKEW",
		"alert-sync-errors": "CABINCARE_ALERT_SYNC_ERRORS", "readiness-min-tablets": "CABINCARE_READINESS_MIN_TABLETS",
		"readiness-window": "CABINCARE_READINESS_WINDOW", "alert-interval": "CABINCARE_ALERT_INTERVAL",
		"tls-cert": "CABINCARE_TLS_CERT", "tls-key": "CABINCARE_TLS_KEY", "session-ttl": "CABINCARE_SESSION_TTL",
		"enrol-ttl": "CABINCARE_ENROL_TTL", "allowed-origins": "CABINCARE_ALLOWED_ORIGINS", "close-after": "CABINCARE_CLOSE_AFTER",
	}, os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.Log, err = flagenv.Logger(stderr, *logLevel, *logFormat); err != nil {
		return err
	}
	if h.NotSynced <= 0 || h.DepartureWindow <= 0 || h.OutboxAge <= 0 || h.ClockSkew <= 0 || h.ReadinessWindow <= 0 || cfg.AlertInterval <= 0 {
		return errors.New("--alert-* and --readiness-window durations must be positive")
	}
	if h.OutboxDepth < 1 || h.OutboxGrowth < 1 || h.SyncErrors < 1 || h.MinTablets < 1 {
		return errors.New("--alert-outbox-depth, --alert-outbox-growth, --alert-sync-errors and --readiness-min-tablets must be at least 1")
	}
	if cfg.CloseAfter < 0 {
		return errors.New("--close-after must not be negative")
	}
	if *origins != "" {
		cfg.Hub.AllowedOrigins = strings.Split(*origins, ",")
	}
	srv := server.New(cfg)
	if err := srv.Open(); err != nil {
		return err
	}
	return srv.Run(ctx)
}
