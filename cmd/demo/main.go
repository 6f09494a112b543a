// Command demo runs the whole cabincare system on one machine: a ground
// server and two cabin tablets (a purser's and a crew member's) serving the
// same flight, each behind a link you can cut, loaded with the sample
// flights and enquiries from testdata/. It prints what to open and try.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cabincare/cabincare/device"
	"github.com/cabincare/cabincare/faultlink"
	"github.com/cabincare/cabincare/flagenv"
	"github.com/cabincare/cabincare/secrethash"
	"github.com/cabincare/cabincare/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type config struct {
	data       string
	groundAddr string
	cabinAddrs string
	samples    string
	token      string
	flight     string
	logLevel   string
}

// run starts everything, loads the samples and serves until ctx ends. It
// reads "off", "on" and "quit" from stdin to cut and restore the tablets'
// link. ready, if not nil, receives the running system (for tests).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, ready chan<- *system) error {
	cfg := config{}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.data, "data", "", "data folder (default: a temporary folder, removed at exit)")
	fs.StringVar(&cfg.groundAddr, "ground-addr", "127.0.0.1:8080", "ground server listen address")
	fs.StringVar(&cfg.cabinAddrs, "cabin-addrs", "127.0.0.1:8081,127.0.0.1:8082", "the two tablets' listen addresses, comma-separated")
	fs.StringVar(&cfg.samples, "samples", "testdata", "folder with flights.ndjson and demo.ndjson")
	fs.StringVar(&cfg.token, "admin-token", "", "admin token (default: a random one, printed)")
	fs.StringVar(&cfg.flight, "flight", "KL0641-2026-11-23", "the flight both tablets serve")
	fs.StringVar(&cfg.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	err := flagenv.Parse(fs, args, map[string]string{
		"data": "CABINCARE_DEMO_DATA", "ground-addr": "CABINCARE_DEMO_GROUND_ADDR", "cabin-addrs": "CABINCARE_DEMO_CABIN_ADDRS",
		"samples": "CABINCARE_DEMO_SAMPLES", "admin-token": "CABINCARE_ADMIN_TOKEN", "flight": "CABINCARE_DEMO_FLIGHT",
		"log-level": "CABINCARE_LOG_LEVEL",
	}, os.LookupEnv)
	if err != nil {
		return err
	}
	log, err := flagenv.Logger(stderr, cfg.logLevel, "text")
	if err != nil {
		return err
	}
	if cfg.token == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		cfg.token = hex.EncodeToString(b)
	}
	if cfg.data == "" {
		dir, err := os.MkdirTemp("", "cabincare-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.data = dir
	}
	cabinAddrs := strings.Split(cfg.cabinAddrs, ",")
	if len(cabinAddrs) != 2 {
		return fmt.Errorf("--cabin-addrs needs two addresses, got %q", cfg.cabinAddrs)
	}
	return start(ctx, cfg, cabinAddrs, log, stdin, stdout, ready)
}

// system is the running demo.
type system struct {
	Ground  *server.Server
	Cabins  []*device.Service
	Links   []*faultlink.Link
	Token   string
	Flight  string
	Samples summary
	// Crew are the crew members the demo put on the roster; they sign in
	// on the tablets with their staff number and PIN.
	Crew []crewMember
}

type crewMember struct {
	StaffNumber string `json:"staff_number"`
	Name        string `json:"name"`
	PIN         string `json:"pin"`
}

// demoCrew are printed in the guide: a demo has nothing to protect.
var demoCrew = []crewMember{{"10001", "Piet Purser", "1357"}, {"20002", "Carla Crew", "2468"}}

func start(ctx context.Context, cfg config, cabinAddrs []string, log *slog.Logger, stdin io.Reader, stdout io.Writer, ready chan<- *system) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	defer wg.Wait()

	g := server.New(server.Config{
		Addr: cfg.groundAddr, DataDir: cfg.data + "/ground", AdminToken: cfg.token, Log: log.With("svc", "ground"),
		// The demo's PINs are printed for all to see; cheap hashes keep
		// sign-in instant (and its test fast under -race).
		PINParams: secrethash.Params{Memory: 1024, Time: 1, Threads: 1},
	})
	if err := g.Open(); err != nil {
		return err
	}
	wg.Add(1)
	go func() { defer wg.Done(); errs <- g.Run(ctx) }()
	sys := &system{Ground: g, Token: cfg.token, Flight: cfg.flight}
	api := &client{base: g.URL(), token: cfg.token}

	sum, err := loadSamples(ctx, api, cfg.samples, cfg.flight)
	if err != nil {
		cancel()
		return err
	}
	sys.Samples = sum

	for _, m := range demoCrew {
		if _, err := api.do(ctx, "POST", "/crew", m, nil); err != nil {
			cancel()
			return err
		}
	}
	sys.Crew = demoCrew

	names := []string{"purser-tablet", "cabin-tablet"}
	for i, name := range names {
		code, err := api.newDevice(ctx, name)
		if err != nil {
			cancel()
			return err
		}
		link, err := faultlink.Listen("127.0.0.1:0", g.Addr())
		if err != nil {
			cancel()
			return err
		}
		sys.Links = append(sys.Links, link)
		defer link.Close()
		svc := device.New(device.Config{
			Addr: cabinAddrs[i], DataDir: fmt.Sprintf("%s/%s", cfg.data, name), Ground: "http://" + link.Addr(),
			// The demo's link is loopback; a real tablet reaches the ground
			// over TLS.
			EnrolCode: code, Insecure: true, ReconnectMax: 5 * time.Second, Compress: true,
			Log: log.With("svc", name),
		})
		if err := svc.Open(); err != nil {
			cancel()
			return err
		}
		if err := svc.Store.OpenFlight(cfg.flight); err != nil {
			cancel()
			return err
		}
		sys.Cabins = append(sys.Cabins, svc)
		wg.Add(1)
		go func() { defer wg.Done(); errs <- svc.Run(ctx) }()
	}

	printGuide(stdout, sys)
	if ready != nil {
		ready <- sys
	}
	go commands(ctx, stdin, stdout, sys, cancel)

	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "\nStopping the demo.")
		return nil
	case err := <-errs:
		cancel()
		return err
	}
}

// commands reads the link controls from stdin.
func commands(ctx context.Context, stdin io.Reader, stdout io.Writer, sys *system, quit context.CancelFunc) {
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		if ctx.Err() != nil {
			return
		}
		switch strings.TrimSpace(strings.ToLower(sc.Text())) {
		case "off":
			for _, l := range sys.Links {
				l.SetDown(true)
			}
			fmt.Fprintln(stdout, "Link cut: both tablets are offline. Record outcomes in the crew app, then type 'on'.")
		case "on":
			for _, l := range sys.Links {
				l.SetDown(false)
			}
			fmt.Fprintln(stdout, "Link restored: the tablets reconnect within a few seconds and send what they recorded.")
		case "quit", "exit":
			quit()
			return
		case "":
		default:
			fmt.Fprintln(stdout, "Commands: off (cut the link), on (restore it), quit.")
		}
	}
}

func printGuide(w io.Writer, sys *system) {
	fmt.Fprintf(w, `
cabincare demo is running.

  Agent console (ground):  %s/#token=%s
  Fleet dashboard:         %s/fleet.html#token=%s
  Purser's tablet:         %s/
  Cabin crew tablet:       %s/
  Admin token:             %s

Crew sign-in on the tablets (staff number / PIN): %s / %s (%s), %s / %s (%s).
A tablet locks after 10 minutes without use.

Loaded %d flights and %d enquiries from the samples; %d are assigned to
flight %s, which both tablets serve.

Try this:
  1. Open the purser's tablet and sign in: the flight's enquiries are there.
  2. Type "off" here and press Enter: both tablets lose the ground link.
  3. On a tablet, tap an enquiry, tap "Seen", record an outcome with a note.
     The tablet answers at once and shows the action waiting to be sent.
  4. Type "on": the tablet reconnects and sends it. In the agent console
     the enquiry moves to the outcome, and the other tablet shows it too.
  5. In the console, assign another enquiry to %s: it appears on
     both tablets within a second while the link is up.
  6. On the fleet dashboard, watch both tablets go offline on "off" and
     come back on "on".

Type "quit" or press Ctrl-C to stop.
`, sys.Ground.URL(), sys.Token, sys.Ground.URL(), sys.Token, sys.Cabins[0].URL(), sys.Cabins[1].URL(), sys.Token,
		sys.Crew[0].StaffNumber, sys.Crew[0].PIN, sys.Crew[0].Name, sys.Crew[1].StaffNumber, sys.Crew[1].PIN, sys.Crew[1].Name,
		sys.Samples.Flights, sys.Samples.Enquiries, sys.Samples.Assigned, sys.Flight, sys.Flight)
}
