package syncsim

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/syncproto"
)

// Config shapes a schedule.
type Config struct {
	Seed    uint64
	Steps   int // random events after the opening [120]
	Devices int // tablets [3]
	Flights int // flights [3]
	// MaxBatch is the ops per Push and per Changes page [3]: small, so
	// that pushes and pulls span several frames.
	MaxBatch int
	// Window is the Changes frames in flight before an ack [2].
	Window int
	// Restores lets the schedule restore the ground from an older copy of
	// its file. A restore tool gives the restored file a new epoch unless
	// RawRestore is set, in which case the file is copied as it is and
	// devices can only tell by a cursor ahead of the head.
	Restores   bool
	RawRestore bool
	// Dir holds the bbolt files; each run makes its own folder in it.
	Dir string
	// History records a line per event and message in Result.History.
	// It costs a decode per message, so runs that only count leave it off
	// and a failing seed is replayed with it.
	History bool
	// Sabotage breaks an invariant on purpose, to prove the checker sees
	// it (tests only).
	Sabotage Sabotage
}

// Sabotage names a deliberate fault the checker must report.
type Sabotage int

// Sabotages.
const (
	NoSabotage       Sabotage = iota
	SabotageDropOp            // a tablet drops an op from its outbox without sending it
	SabotageSkipPage          // a tablet stores a page's cursor without its ops
)

func (c *Config) defaults() {
	if c.Steps <= 0 {
		c.Steps = 120
	}
	if c.Devices <= 0 {
		c.Devices = 3
	}
	if c.Flights <= 0 {
		c.Flights = 3
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 3
	}
	if c.Window <= 0 {
		c.Window = 2
	}
	if c.Dir == "" {
		c.Dir = os.TempDir()
	}
}

// Stats counts what a run did.
type Stats struct {
	Events         int
	AgentOps       int // agent ops stored
	CrewOps        int // crew ops recorded on tablets
	Acked          int // crew ops acknowledged to their tablet
	Messages       int // messages delivered
	Pushes         int
	Pages          int
	Cuts           int // connections cut (including by partitions and restarts)
	Duplicates     int // messages delivered twice
	DeviceRestarts int
	GroundRestarts int
	Restores       int
	Resyncs        int
	SessionErrors  int // sessions ended by a protocol error
	StatusLies     int // tablet marked itself synced while the ground had unsent changes for it
	Sabotaged      int // deliberate faults injected (Config.Sabotage)
	Lost           int // ops acknowledged or recorded but missing (invariant: 0)
	Doubled        int // ops applied twice on one ground timeline (invariant: 0)
}

// Add sums counts.
func (s *Stats) Add(o Stats) {
	s.Events += o.Events
	s.AgentOps += o.AgentOps
	s.CrewOps += o.CrewOps
	s.Acked += o.Acked
	s.Messages += o.Messages
	s.Pushes += o.Pushes
	s.Pages += o.Pages
	s.Cuts += o.Cuts
	s.Duplicates += o.Duplicates
	s.DeviceRestarts += o.DeviceRestarts
	s.GroundRestarts += o.GroundRestarts
	s.Restores += o.Restores
	s.Resyncs += o.Resyncs
	s.SessionErrors += o.SessionErrors
	s.StatusLies += o.StatusLies
	s.Sabotaged += o.Sabotaged
	s.Lost += o.Lost
	s.Doubled += o.Doubled
}

// Result is what a run found.
type Result struct {
	Stats   Stats
	History []string
	// Violations lists every invariant that did not hold; empty is a pass.
	Violations []string
}

// Failed reports whether an invariant did not hold.
func (r *Result) Failed() bool { return len(r.Violations) > 0 }

// Run draws the schedule of cfg.Seed and executes it.
func Run(cfg Config) (*Result, error) {
	return Execute(cfg, Generate(cfg))
}

// world is one run: a ground, devices, the network and the oracle.
type world struct {
	cfg   Config
	dir   string
	nowMs int64
	rng   *rand.Rand // of the current event
	codec *syncproto.Codec

	ground  *ground
	devices []*device
	conns   []*conn
	nconn   int

	o     oracle
	stats Stats
	hist  []string
}

const simEpochMs = 1795420800000 // 2026-11-23T08:00:00Z

// codec is shared by every run: it is safe for concurrent use, and costly
// to make.
var codec = syncproto.NewCodec(syncproto.DefaultMaxFrame, false)

// Execute runs a schedule, heals every link, lets the system quiesce and
// checks the invariants. The error is for the run itself (a store that
// cannot be opened); violations are in the Result.
func Execute(cfg Config, evs []Event) (res *Result, err error) {
	cfg.defaults()
	dir, err := os.MkdirTemp(cfg.Dir, "syncsim-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	w := &world{cfg: cfg, dir: dir, nowMs: simEpochMs, codec: codec}
	w.o.init()
	w.rng = rand.New(rand.NewPCG(cfg.Seed, 1<<40))
	if err := w.setup(); err != nil {
		return nil, err
	}
	defer w.closeAll()
	for _, e := range evs {
		w.nowMs += int64(e.Dt)
		w.rng = rand.New(rand.NewPCG(cfg.Seed, uint64(e.Seq)))
		if err := w.step(e); err != nil {
			return nil, fmt.Errorf("event %s: %w", e, err)
		}
		w.stats.Events++
	}
	w.rng = rand.New(rand.NewPCG(cfg.Seed, 1<<41))
	res = &Result{}
	if err := w.heal(); err != nil {
		res.Violations = append(res.Violations, err.Error())
	} else if err := w.check(); err != nil {
		res.Violations = append(res.Violations, strings.Split(err.Error(), "\n")...)
	}
	if w.stats.StatusLies > 0 {
		res.Violations = append(res.Violations, fmt.Sprintf("a tablet marked itself synced %d times while the ground had changes for it that it had not sent", w.stats.StatusLies))
	}
	res.Stats, res.History = w.stats, w.hist
	return res, nil
}

func (w *world) now() time.Time { return time.UnixMilli(w.nowMs).UTC() }

func (w *world) logf(format string, args ...any) {
	if !w.cfg.History {
		return
	}
	w.hist = append(w.hist, fmt.Sprintf("%7d  ", w.nowMs-simEpochMs)+fmt.Sprintf(format, args...))
}

// newID makes a UUIDv7 from the simulated clock and the event's random
// source, so that op ids, and with them the fold order of equal HLCs,
// replay exactly.
func (w *world) newID() uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[0:8], uint64(w.nowMs)<<16|uint64(w.rng.Uint32()&0xffff))
	binary.BigEndian.PutUint64(u[8:16], w.rng.Uint64())
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	return u
}

func (w *world) flight(i int) string {
	return fmt.Sprintf("KL%04d-2026-11-23", 641+i%w.cfg.Flights)
}

func (w *world) setup() error {
	g, err := openGround(w, filepath.Join(w.dir, "ground.db"))
	if err != nil {
		return err
	}
	w.ground = g
	for i := range w.cfg.Devices {
		d := &device{w: w, idx: i, id: fmt.Sprintf("tablet-%d", i), token: fmt.Sprintf("token-%d-%d", w.cfg.Seed, i),
			path: filepath.Join(w.dir, fmt.Sprintf("cabin-%d.db", i)),
			skew: time.Duration(w.rng.IntN(60*60*1000)-30*60*1000) * time.Millisecond}
		if err := g.register(d); err != nil {
			return err
		}
		if err := d.open(); err != nil {
			return err
		}
		w.devices = append(w.devices, d)
	}
	if w.cfg.Restores {
		// The first backup: the registered fleet, before any work.
		return g.restart(true)
	}
	return nil
}

func (w *world) closeAll() {
	for _, d := range w.devices {
		if d.st != nil {
			d.st.Close()
		}
	}
	if w.ground != nil && w.ground.st != nil {
		w.ground.st.Close()
	}
}

func (w *world) step(e Event) error {
	d := w.devices[e.D%len(w.devices)]
	switch e.Kind {
	case EvDeliver:
		w.deliverOne(e.A, false)
	case EvDuplicate:
		w.deliverOne(e.A, true)
	case EvAgentCreate:
		return w.ground.agentCreate(e.B)
	case EvAgentAssign:
		return w.ground.agentAct(syncproto.KindAssign, e.A, e.B)
	case EvAgentNote:
		return w.ground.agentAct(syncproto.KindNote, e.A, e.B)
	case EvAgentRecall:
		return w.ground.agentAct(syncproto.KindRecall, e.A, e.B)
	case EvAgentClose:
		return w.ground.agentAct(syncproto.KindClose, e.A, e.B)
	case EvCrew:
		return d.crew(e.A, e.B)
	case EvOpenFlight:
		return d.openFlight(w.flight(e.B))
	case EvConnect:
		d.connect()
	case EvTimer:
		d.pump()
	case EvCut:
		if d.conn != nil {
			w.logf("cut %s's connection c%d (%d messages up still arrive)", d.id, d.conn.id, e.B)
			w.cut(d.conn, e.B)
		}
	case EvPartition:
		down := e.B%2 == 1
		if down != d.linkDown {
			w.logf("link of %s %s", d.id, map[bool]string{true: "DOWN", false: "up"}[down])
			d.linkDown = down
			if down && d.conn != nil {
				w.cut(d.conn, 0)
			}
		}
	case EvRestartDevice:
		return d.restart(e.B)
	case EvRestartGround:
		return w.ground.restart(e.B%2 == 1)
	case EvRestoreGround:
		return w.ground.restore(e.A)
	default:
		return fmt.Errorf("unknown event kind %d", e.Kind)
	}
	return nil
}

// heal restores every link and runs the system until it is quiet: no
// message in flight, every tablet connected, caught up, with an empty
// outbox and nothing in flight. A system that does not get there within
// a generous bound is stuck, which is a failure.
func (w *world) heal() error {
	w.logf("-- heal: every link up, run until quiet")
	for _, d := range w.devices {
		d.linkDown = false
	}
	for round := range 200 {
		for _, d := range w.devices {
			if d.conn == nil {
				d.connect()
			}
		}
		for w.inFlight() > 0 {
			w.deliverOne(round, false)
		}
		for _, d := range w.devices {
			d.pump()
		}
		if err := w.ground.settle(); err != nil {
			return err
		}
		if w.inFlight() > 0 {
			continue
		}
		quiet, why := w.quiet()
		if quiet {
			return nil
		}
		if round == 199 {
			return fmt.Errorf("liveness: not quiet after healing: %s", why)
		}
	}
	return nil
}

func (w *world) quiet() (bool, string) {
	if n := w.ground.st.Pending(); n > 0 {
		return false, fmt.Sprintf("the ground has %d pushed ops to project", n)
	}
	for _, d := range w.devices {
		if d.conn == nil || !d.welcomed {
			return false, d.id + " is not connected"
		}
		if !d.caughtUp {
			return false, d.id + " has not caught up"
		}
		if d.pushing != 0 {
			return false, d.id + " has a push in flight"
		}
		st, err := d.st.Status()
		if err != nil {
			return false, err.Error()
		}
		if st.Pending > 0 {
			return false, fmt.Sprintf("%s has %d ops in its outbox", d.id, st.Pending)
		}
		for _, f := range mapsKeys(st.Cursors) {
			head, err := w.ground.st.FlightHead(context.Background(), f)
			if err != nil {
				return false, err.Error()
			}
			if st.Cursors[f] != head {
				return false, fmt.Sprintf("%s is at %d on %s, the ground's head is %d", d.id, st.Cursors[f], f, head)
			}
		}
	}
	return true, ""
}
