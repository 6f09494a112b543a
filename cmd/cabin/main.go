// Command cabin runs the cabincare tablet service: the crew app and its
// local API on a local store, and a sync client that reaches the ground
// whenever a link exists.
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cabincare/cabincare/device"
	"github.com/cabincare/cabincare/flagenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "cabin:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	cfg := device.DefaultConfig()
	fs := flag.NewFlagSet("cabin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "local API listen address (keep it on loopback or the cabin LAN)")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data folder (holds cabin.db)")
	fs.StringVar(&cfg.Ground, "ground", cfg.Ground, "ground server base URL")
	fs.StringVar(&cfg.EnrolCode, "enrol", "", "one-time enrolment code (from POST /api/v1/devices): exchanged once for the credential, which cabin.db keeps")
	fs.StringVar(&cfg.DeviceID, "device-id", "", "device id, with --device-token (automation; otherwise the enrolled credential is used)")
	fs.StringVar(&cfg.DeviceToken, "device-token", "", "device token, with --device-id")
	fs.DurationVar(&cfg.SessionIdle, "session-idle", cfg.SessionIdle, "lock a crew session (sign in again) after this long without use")
	fs.DurationVar(&cfg.Retention, "retention", cfg.Retention, "how long a closed flight's passenger data stays on the tablet once all its ops are acknowledged")
	fs.StringVar(&cfg.APIToken, "api-token", "", "bearer token for automation on the local API, besides crew sign-in (empty: none)")
	fs.BoolVar(&cfg.Insecure, "insecure", false, "allow a plain http:// or ws:// ground URL (test networks only)")
	groundCA := fs.String("ground-ca", "", "PEM file of the CA the ground's certificate chains to (default: the system's)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate (PEM) for the local API; with --tls-key")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS private key (PEM); with --tls-cert")
	fs.DurationVar(&cfg.ReconnectMin, "reconnect-min", cfg.ReconnectMin, "first retry delay after a lost link")
	fs.DurationVar(&cfg.ReconnectMax, "reconnect-max", cfg.ReconnectMax, "longest retry delay (backoff doubles up to this, with jitter)")
	fs.BoolVar(&cfg.Compress, "compress", cfg.Compress, "zstd-compress sync frames")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	err := flagenv.Parse(fs, args, map[string]string{
		"addr": "CABINCARE_CABIN_ADDR", "data": "CABINCARE_CABIN_DATA", "ground": "CABINCARE_GROUND_URL",
		"device-id": "CABINCARE_DEVICE_ID", "device-token": "CABINCARE_DEVICE_TOKEN", "enrol": "CABINCARE_ENROL",
		"session-idle": "CABINCARE_SESSION_IDLE", "retention": "CABINCARE_RETENTION", "api-token": "CABINCARE_CABIN_API_TOKEN",
		"insecure": "CABINCARE_INSECURE", "ground-ca": "CABINCARE_GROUND_CA", "tls-cert": "CABINCARE_TLS_CERT", "tls-key": "CABINCARE_TLS_KEY",
		"reconnect-min": "CABINCARE_RECONNECT_MIN", "reconnect-max": "CABINCARE_RECONNECT_MAX", "compress": "CABINCARE_COMPRESS",
		"log-level": "CABINCARE_LOG_LEVEL", "log-format": "CABINCARE_LOG_FORMAT",
	}, os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.Log, err = flagenv.Logger(stderr, *logLevel, *logFormat); err != nil {
		return err
	}
	if *groundCA != "" {
		pem, err := os.ReadFile(*groundCA)
		if err != nil {
			return fmt.Errorf("ground CA: %w", err)
		}
		cfg.GroundCA = x509.NewCertPool()
		if !cfg.GroundCA.AppendCertsFromPEM(pem) {
			return fmt.Errorf("ground CA %s holds no PEM certificate", *groundCA)
		}
	}
	svc := device.New(cfg)
	if err := svc.Open(); err != nil {
		return err
	}
	return svc.Run(ctx)
}
