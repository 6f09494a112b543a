package syncsim_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cabincare/cabincare/syncsim"
)

// Environment knobs, for soak runs and replays:
//
//	SIM_SCHEDULES=N    schedules to run (default 1000; 250 under -race)
//	SIM_SEED=S         run only seed S, printing its whole history
//	SIM_BASE=B|random  first seed (default 1); "random" picks one and prints it
//	SIM_STEPS=N        random events per schedule (default 25..65, by seed)
//	SIM_DIR=path       where the bbolt files go (default /dev/shm if present)
func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err == nil {
			return n
		}
	}
	return def
}

// simDir puts the schedules' bbolt files on a RAM disk when there is one:
// they fsync on every commit, and the schedules are about the protocol,
// not the disk (the crash tests cover the disk).
func simDir(t *testing.T) string {
	if d := os.Getenv("SIM_DIR"); d != "" {
		return d
	}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "syncsim-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// config derives a schedule's shape from its seed, so that the thousand
// schedules cover one to four tablets, one to three flights, single-op to
// four-op frames and windows of one to three; one in four also restores
// the ground from older copies of its file: half of those with a new
// epoch (as a restore tool would give it), half as a plain copy of the
// file, which keeps its epoch.
func config(seed uint64, dir string) syncsim.Config {
	r := rand.New(rand.NewPCG(seed, 7))
	return syncsim.Config{
		Seed: seed, Dir: dir, Restores: seed%4 == 0, RawRestore: seed%8 == 0,
		Devices: 1 + r.IntN(4), Flights: 1 + r.IntN(3), MaxBatch: 1 + r.IntN(4), Window: 1 + r.IntN(3),
		Steps: envInt("SIM_STEPS", 25+r.IntN(41)),
	}
}

type outcome struct {
	cfg syncsim.Config
	res *syncsim.Result
	err error
}

// runMany runs schedules from base in parallel (each one is sequential and
// deterministic; most of a schedule's time is spent waiting on bbolt's
// group commit, so many run at once) and reports every failure with its
// seed and a shrunk history.
func runMany(t *testing.T, n int, base uint64) syncsim.Stats {
	start := time.Now()
	dir := simDir(t)
	jobs := make(chan uint64)
	out := make(chan outcome)
	var wg sync.WaitGroup
	for range max(16, 48*runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range jobs {
				cfg := config(seed, dir)
				res, err := syncsim.Run(cfg)
				out <- outcome{cfg, res, err}
			}
		}()
	}
	go func() {
		for i := range n {
			jobs <- base + uint64(i)
		}
		close(jobs)
		wg.Wait()
		close(out)
	}()
	var total syncsim.Stats
	var failed []outcome
	for o := range out {
		if o.err != nil {
			t.Errorf("seed %d: %v", o.cfg.Seed, o.err)
			continue
		}
		total.Add(o.res.Stats)
		if o.res.Failed() {
			failed = append(failed, o)
		}
	}
	t.Logf("%d schedules ran in %s", n, time.Since(start).Round(time.Millisecond))
	if len(failed) > 0 {
		seeds := make([]string, len(failed))
		for i, f := range failed {
			seeds[i] = strconv.FormatUint(f.cfg.Seed, 10)
		}
		t.Errorf("%d of %d schedules broke an invariant; seeds: %s", len(failed), n, strings.Join(seeds, " "))
		slices.SortFunc(failed, func(a, b outcome) int { return cmp.Compare(a.cfg.Seed, b.cfg.Seed) })
		report(t, failed[0].cfg)
	}
	return total
}

// report shrinks a failing schedule and prints the seed, the violations
// and the minimal history that still shows them.
func report(t *testing.T, cfg syncsim.Config) {
	t.Helper()
	evs := syncsim.Generate(cfg)
	small := syncsim.Shrink(cfg, evs, 200)
	cfg.History = true
	min, err := syncsim.Execute(cfg, small)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d (devices %d, flights %d, batch %d, window %d, restores %v, raw copies %v): %d events, shrunk to %d\n",
		cfg.Seed, cfg.Devices, cfg.Flights, cfg.MaxBatch, cfg.Window, cfg.Restores, cfg.RawRestore, len(evs), len(small))
	fmt.Fprintf(&b, "replay: SIM_SEED=%d go test -run '%s' ./syncsim/\n", cfg.Seed, t.Name())
	b.WriteString("violations:\n")
	for _, v := range min.Violations {
		b.WriteString("  " + v + "\n")
	}
	b.WriteString("events kept:\n")
	for _, e := range small {
		b.WriteString("  " + e.String() + "\n")
	}
	b.WriteString("history:\n")
	for _, h := range min.History {
		b.WriteString("  " + h + "\n")
	}
	t.Error(b.String())
}

func seeds(t *testing.T) (n int, base uint64) {
	n = envInt("SIM_SCHEDULES", defaultSchedules)
	base = 1
	switch v := os.Getenv("SIM_BASE"); v {
	case "":
	case "random":
		base = rand.Uint64() >> 16
		t.Logf("SIM_BASE=%d", base)
	default:
		b, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SIM_BASE=%q: %v", v, err)
		}
		base = b
	}
	return n, base
}

// replay runs the one seed of SIM_SEED and prints its history.
func replay(t *testing.T) bool {
	v := os.Getenv("SIM_SEED")
	if v == "" {
		return false
	}
	seed, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("SIM_SEED=%q: %v", v, err)
	}
	cfg := config(seed, simDir(t))
	cfg.History = true
	res, err := syncsim.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range res.History {
		t.Log(h)
	}
	if res.Failed() {
		cfg.History = false
		report(t, cfg)
	}
	t.Logf("stats: %+v", res.Stats)
	return true
}

// Ensure every invariant holds over a thousand random schedules of
// crew and agent work under partitions, cuts, duplicated frames, delayed
// and interleaved delivery, and restarts of tablets and ground.
func TestConvergence(t *testing.T) {
	t.Parallel()
	if replay(t) {
		return
	}
	n, base := seeds(t)
	start := time.Now()
	s := runMany(t, n, base)
	t.Logf("reliability: convergence schedules=%d seeds=%d..%d events=%d crew_ops=%d agent_ops=%d acked=%d messages=%d pushes=%d pages=%d cuts=%d duplicates=%d device_restarts=%d ground_restarts=%d restores=%d resyncs=%d session_errors=%d lost=%d doubled=%d status_lies=%d in %s",
		n, base, base+uint64(n)-1, s.Events, s.CrewOps, s.AgentOps, s.Acked, s.Messages, s.Pushes, s.Pages, s.Cuts, s.Duplicates,
		s.DeviceRestarts, s.GroundRestarts, s.Restores, s.Resyncs, s.SessionErrors, s.Lost, s.Doubled, s.StatusLies, time.Since(start).Round(time.Millisecond))
	if s.CrewOps == 0 || s.Acked == 0 || s.Cuts == 0 || s.GroundRestarts == 0 || s.DeviceRestarts == 0 || s.Duplicates == 0 || s.Restores == 0 || s.Resyncs == 0 {
		t.Fatalf("the schedules did not exercise the faults: %+v", s)
	}
}

// Ensure a schedule replays exactly from its seed: the same history, the
// same counts, the same verdict.
func TestScheduleReplaysFromSeed(t *testing.T) {
	t.Parallel()
	dir := simDir(t)
	for _, seed := range []uint64{3, 4, 77} {
		cfg := config(seed, dir)
		cfg.History = true
		a, err := syncsim.Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := syncsim.Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.History, b.History) || a.Stats != b.Stats || !slices.Equal(a.Violations, b.Violations) {
			for i := range min(len(a.History), len(b.History)) {
				if a.History[i] != b.History[i] {
					t.Fatalf("seed %d replays differently from line %d:\n  %s\n  %s", seed, i, a.History[i], b.History[i])
				}
			}
			t.Fatalf("seed %d replays differently: %+v vs %+v", seed, a.Stats, b.Stats)
		}
		if len(a.History) < 50 {
			t.Fatalf("seed %d: history of %d lines", seed, len(a.History))
		}
	}
}

// Ensure the checker sees a lost op and a tablet that skipped a page:
// schedules with those faults planted must fail, and shrink to a short
// history that still shows the fault.
func TestCheckerCatchesPlantedFaults(t *testing.T) {
	// Not parallel: it would starve behind TestConvergence's workers.
	dir := simDir(t)
	for _, sab := range []syncsim.Sabotage{syncsim.SabotageDropOp, syncsim.SabotageSkipPage} {
		results := make([]*syncsim.Result, 24)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cfg := config(uint64(i+1), dir)
				cfg.Restores, cfg.Sabotage = false, sab
				res, err := syncsim.Run(cfg)
				if err != nil {
					t.Error(err)
					return
				}
				results[i] = res
			}()
		}
		wg.Wait()
		planted, caught, first := 0, 0, -1
		for i, res := range results {
			if res == nil || res.Stats.Sabotaged == 0 {
				continue
			}
			planted++
			if res.Failed() {
				caught++
				if first < 0 {
					first = i
				}
			}
		}
		t.Logf("sabotage %d: planted in %d schedules, caught in %d", sab, planted, caught)
		// A skipped page can be healed by a later join that brings the
		// same ops back, so not every one is a violation by the end.
		if planted < 8 || caught < planted*3/4 {
			t.Fatalf("sabotage %d: planted in %d schedules, caught in %d", sab, planted, caught)
		}
		cfg := config(uint64(first+1), dir)
		cfg.Restores, cfg.Sabotage = false, sab
		evs := syncsim.Shrink(cfg, syncsim.Generate(cfg), 80)
		if r, err := syncsim.Execute(cfg, evs); err != nil || !r.Failed() {
			t.Errorf("sabotage %d: the shrunk schedule of %d events no longer fails", sab, len(evs))
		} else {
			t.Logf("sabotage %d: seed %d shrinks from %d to %d events", sab, cfg.Seed, len(syncsim.Generate(cfg)), len(evs))
		}
	}
}
