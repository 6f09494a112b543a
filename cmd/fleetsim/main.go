// Command fleetsim runs a simulated fleet of cabin tablets against a ground
// server and prints what it measured. By default it starts the ground
// server as a child process (this same binary, "fleetsim serve-ground"), so
// the server's memory is measured on its own; --ground targets a running
// one instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cabincare/cabincare/flagenv"
	"github.com/cabincare/cabincare/fleetsim"
	"github.com/cabincare/cabincare/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "serve-ground" {
		err = serveGround(ctx, os.Args[2:])
	} else {
		err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "fleetsim:", err)
		os.Exit(1)
	}
}

// serveGround is the child mode: a plain ground server.
func serveGround(ctx context.Context, args []string) error {
	cfg := server.DefaultConfig()
	fs := flag.NewFlagSet("serve-ground", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data folder")
	fs.StringVar(&cfg.AdminToken, "admin-token", "", "admin token")
	fs.BoolVar(&cfg.Hub.Compress, "compress", true, "zstd frames")
	fs.DurationVar(&cfg.Hub.Heartbeat, "heartbeat", cfg.Hub.Heartbeat, "heartbeat interval")
	level := fs.String("log-level", "error", "log level")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this loopback address (for profiling a scenario)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pprofAddr != "" {
		// The default mux holds only pprof's handlers here: this child
		// serves the ground on its own echo router.
		ps := &http.Server{Addr: *pprofAddr, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = ps.ListenAndServe() }()
		defer ps.Close()
	}
	var err error
	if cfg.Log, err = flagenv.Logger(os.Stderr, *level, "text"); err != nil {
		return err
	}
	srv := server.New(cfg)
	if err := srv.Open(); err != nil {
		return err
	}
	return srv.Run(ctx)
}

type options struct {
	scenario  string
	devices   int
	ground    string
	token     string
	data      string
	compress  bool
	json      bool
	rate      float64
	duration  time.Duration
	per       int
	batch     int
	push      int
	pull      int
	file      string
	edits     int
	heartbeat time.Duration
	pprof     string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := options{}
	fs := flag.NewFlagSet("fleetsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.scenario, "scenario", "hold", "hold, fanout, ingest, storm, wire or couch")
	fs.IntVar(&o.devices, "devices", 100, "simulated devices")
	fs.StringVar(&o.ground, "ground", "", "target a running ground server at this URL instead of starting one")
	fs.StringVar(&o.token, "admin-token", "", "admin token of the --ground server")
	fs.StringVar(&o.data, "data", "", "data folder for the started ground server (default: temporary)")
	fs.BoolVar(&o.compress, "compress", true, "zstd frames (wire and couch measure both settings)")
	fs.BoolVar(&o.json, "json", false, "print results as JSON lines")
	fs.Float64Var(&o.rate, "rate", 50, "fanout: assignments per second")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "fanout and ingest: how long to run")
	fs.IntVar(&o.per, "per", 50, "ingest: enquiries per device")
	fs.IntVar(&o.batch, "batch", 500, "ingest: ops per push")
	fs.IntVar(&o.push, "push", 100, "storm: ops each device pushes")
	fs.IntVar(&o.pull, "pull", 100, "storm: ops each device pulls")
	fs.StringVar(&o.file, "file", "", "wire and couch: enquiries NDJSON (default testdata/enquiries.ndjson; couch: ../shared/peers/couch/enquiries-10k.ndjson)")
	fs.IntVar(&o.edits, "edits", 1000, "wire and couch: offline edits pushed")
	fs.DurationVar(&o.heartbeat, "heartbeat", 10*time.Second, "heartbeat of the started ground server")
	fs.StringVar(&o.pprof, "pprof", "", "serve the started ground server's net/http/pprof on this address, e.g. 127.0.0.1:6060")
	err := flagenv.Parse(fs, args, map[string]string{"ground": "CABINCARE_GROUND_URL", "admin-token": "CABINCARE_ADMIN_TOKEN"}, os.LookupEnv)
	if err != nil {
		return err
	}
	env := &fleetsim.Env{Compress: o.compress, Progress: stderr}
	mkGround := func(compress bool) (*fleetsim.Ground, func(), error) {
		if o.ground != "" {
			return fleetsim.Remote(o.ground, o.token), func() {}, nil
		}
		exe, err := os.Executable()
		if err != nil {
			return nil, nil, err
		}
		dir := o.data
		cleanup := func() {}
		if dir == "" {
			if dir, err = os.MkdirTemp("", "fleetsim-"); err != nil {
				return nil, nil, err
			}
			cleanup = func() { os.RemoveAll(dir) }
		}
		g, err := fleetsim.StartChild(ctx, fleetsim.ChildArgs{Exe: exe, DataDir: dir, Compress: compress, Heartbeat: o.heartbeat, Pprof: o.pprof})
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		return g, func() { g.Stop(); cleanup() }, nil
	}
	emit := func(r *fleetsim.Result) error {
		if o.json {
			return r.WriteJSON(stdout)
		}
		r.WriteTable(stdout)
		return nil
	}
	once := func(compress bool, fn func() (*fleetsim.Result, error)) error {
		g, stop, err := mkGround(compress)
		if err != nil {
			return err
		}
		defer stop()
		env.Ground, env.Compress = g, compress
		r, err := fn()
		if err != nil {
			return err
		}
		return emit(r)
	}
	switch o.scenario {
	case "hold":
		return once(o.compress, func() (*fleetsim.Result, error) { return fleetsim.Hold(ctx, env, o.devices) })
	case "fanout":
		return once(o.compress, func() (*fleetsim.Result, error) { return fleetsim.Fanout(ctx, env, o.devices, o.rate, o.duration) })
	case "ingest":
		return once(o.compress, func() (*fleetsim.Result, error) {
			return fleetsim.Ingest(ctx, env, o.devices, o.per, o.batch, o.duration)
		})
	case "storm":
		return once(o.compress, func() (*fleetsim.Result, error) { return fleetsim.Storm(ctx, env, o.devices, o.push, o.pull) })
	case "wire", "couch":
		file := o.file
		if file == "" {
			file = "testdata/enquiries.ndjson"
			if o.scenario == "couch" {
				file = "../shared/peers/couch/enquiries-10k.ndjson"
			}
		}
		es, err := fleetsim.LoadNDJSON(file)
		if err != nil {
			return err
		}
		for _, compress := range []bool{true, false} {
			err := once(compress, func() (*fleetsim.Result, error) {
				return fleetsim.Replication(ctx, env, o.scenario, es, o.edits)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown scenario %q: use hold, fanout, ingest, storm, wire or couch", o.scenario)
}
