package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cabincare/cabincare/flagenv"
	"github.com/cabincare/cabincare/server/care"
	"github.com/cabincare/cabincare/server/importer"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

const importUsage = `usage: ground import [flags] FILE...

Loads flights, passenger manifests and enquiries from NDJSON or CSV files
straight into the ground store, through the same validation and triage as
the REST API. Load flights before the manifests that name them. The ground
server must not be running on the same data folder.

`

// runImport is "ground import": it opens the store itself, so it refuses to
// run while a server holds the data folder.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer, isTerminal bool) error {
	fs := flag.NewFlagSet("ground import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, importUsage)
		fs.PrintDefaults()
	}
	dataDir := fs.String("data", "data/ground", "data folder (holds ground.db)")
	kindFlag := fs.String("kind", "", "what the files hold: flights, manifests or enquiries (default: from each file name)")
	formatFlag := fs.String("format", "", "ndjson or csv (default: from each file's extension)")
	sla := fs.Duration("sla", care.DefaultSLA, "response promise used to set the imported enquiries' deadlines")
	batch := fs.Int("batch", 500, "records per write")
	maxShown := fs.Int("show-rejections", 20, "rejected lines to list per file (all are counted)")
	err := flagenv.Parse(fs, args, map[string]string{"data": "CABINCARE_GROUND_DATA", "sla": "CABINCARE_SLA"}, os.LookupEnv)
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no file to import")
	}
	if *sla <= 0 {
		return errors.New("--sla must be positive")
	}
	type job struct {
		path   string
		kind   importer.Kind
		format importer.Format
	}
	var jobs []job
	for _, path := range fs.Args() {
		j := job{path: path, kind: importer.Kind(*kindFlag), format: importer.Format(*formatFlag)}
		if j.kind == "" {
			if j.kind, err = importer.DetectKind(path); err != nil {
				return err
			}
		} else if !isKind(j.kind) {
			return fmt.Errorf("--kind %q is not flights, manifests or enquiries", j.kind)
		}
		if j.format == "" {
			if j.format, err = importer.DetectFormat(path); err != nil {
				return err
			}
		} else if j.format != importer.NDJSON && j.format != importer.CSV {
			return fmt.Errorf("--format %q is not ndjson or csv", j.format)
		}
		jobs = append(jobs, j)
	}

	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	st, err := store.Open(filepath.Join(*dataDir, "ground.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	clock := syncproto.NewClock(st.MaxHLC())
	svc := &care.Service{Store: st, Clock: clock, IDs: syncproto.NewIDs(), Log: slog.New(slog.DiscardHandler), Now: time.Now, SLA: *sla}
	actor := syncproto.Actor{Type: syncproto.ActorSystem, ID: "import"}

	failed := false
	for _, j := range jobs {
		sum, err := importFile(ctx, svc, actor, j.path, j.kind, j.format, *batch, stderr, isTerminal)
		if sum != nil {
			printSummary(stdout, sum, *maxShown)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", j.path, err)
		}
		failed = failed || sum.Rejected > 0
	}
	if failed {
		return errRejected
	}
	return nil
}

// errRejected makes the exit status 1 when lines were rejected, after the
// summary was printed.
var errRejected = errors.New("some lines were rejected (see the summary)")

func isKind(k importer.Kind) bool {
	for _, x := range importer.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

func importFile(ctx context.Context, svc *care.Service, actor syncproto.Actor, path string, kind importer.Kind, format importer.Format, batch int, stderr io.Writer, isTerminal bool) (*importer.Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	bar := &progressBar{w: stderr, label: fmt.Sprintf("%s (%s)", filepath.Base(path), kind), total: size, terminal: isTerminal, now: time.Now}
	im := &importer.Importer{Care: svc, Actor: actor, BatchSize: batch, Progress: bar.update}
	sum, err := im.Import(ctx, kind, format, f)
	bar.done()
	if sum != nil {
		sum.File = path
	}
	return sum, err
}

func printSummary(w io.Writer, s *importer.Summary, maxShown int) {
	joined := ""
	if s.Joined > 0 {
		joined = fmt.Sprintf(", %d joined an open enquiry", s.Joined)
	}
	fmt.Fprintf(w, "%s (%s): %d lines: %d created%s, %d skipped (already there), %d rejected\n", s.File, s.Kind, s.Lines, s.Created, joined, s.Skipped, s.Rejected)
	for i, r := range s.Rejections {
		if i == maxShown {
			fmt.Fprintf(w, "  ... and %d more rejected lines\n", len(s.Rejections)-maxShown)
			break
		}
		fmt.Fprintf(w, "  line %d: %s\n", r.Line, r.Reason)
	}
}

// progressBar draws import progress on stderr: a bar redrawn in place on a
// terminal, a line every 10% (or every 10 s) otherwise.
type progressBar struct {
	w        io.Writer
	label    string
	total    int64
	terminal bool
	now      func() time.Time

	lastPct  int
	lastLine time.Time
	drawn    bool
	lines    int
}

const barWidth = 30

func (p *progressBar) update(read int64, lines int) {
	p.lines = lines
	pct := 100
	if p.total > 0 {
		pct = int(min(read*100/p.total, 100))
	}
	if p.terminal {
		filled := pct * barWidth / 100
		fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %d lines", p.label, strings.Repeat("=", filled), strings.Repeat(" ", barWidth-filled), pct, lines)
		p.drawn = true
		return
	}
	now := p.now()
	if pct/10 > p.lastPct/10 || now.Sub(p.lastLine) >= 10*time.Second {
		fmt.Fprintf(p.w, "%s: %d%% (%d lines)\n", p.label, pct, lines)
		p.lastPct, p.lastLine = pct, now
	}
}

func (p *progressBar) done() {
	if p.terminal && p.drawn {
		fmt.Fprintln(p.w)
	}
}

// stderrIsTerminal reports whether stderr is a terminal (a character
// device), so the progress bar can redraw itself.
func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
