// Command cabin runs the cabincare tablet service: the crew app and its
// local API on a local store, and a sync client that reaches the ground
// whenever a link exists.
package main

import (
	"context"
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
	fs.StringVar(&cfg.DeviceID, "device-id", "", "this tablet's device id (from POST /api/v1/devices)")
	fs.StringVar(&cfg.DeviceToken, "device-token", "", "this tablet's device token")
	fs.DurationVar(&cfg.ReconnectMin, "reconnect-min", cfg.ReconnectMin, "first retry delay after a lost link")
	fs.DurationVar(&cfg.ReconnectMax, "reconnect-max", cfg.ReconnectMax, "longest retry delay (backoff doubles up to this, with jitter)")
	fs.BoolVar(&cfg.Compress, "compress", cfg.Compress, "zstd-compress sync frames")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	err := flagenv.Parse(fs, args, map[string]string{
		"addr": "CABINCARE_CABIN_ADDR", "data": "CABINCARE_CABIN_DATA", "ground": "CABINCARE_GROUND_URL",
		"device-id": "CABINCARE_DEVICE_ID", "device-token": "CABINCARE_DEVICE_TOKEN",
		"reconnect-min": "CABINCARE_RECONNECT_MIN", "reconnect-max": "CABINCARE_RECONNECT_MAX", "compress": "CABINCARE_COMPRESS",
		"log-level": "CABINCARE_LOG_LEVEL", "log-format": "CABINCARE_LOG_FORMAT",
	}, os.LookupEnv)
	if err != nil {
		return err
	}
	if cfg.Log, err = flagenv.Logger(stderr, *logLevel, *logFormat); err != nil {
		return err
	}
	svc := device.New(cfg)
	if err := svc.Open(); err != nil {
		return err
	}
	return svc.Run(ctx)
}
