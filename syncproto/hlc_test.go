package syncproto

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// stepClock returns a Now that answers baseMillis+steps[i] on its i-th
// call and repeats the last step after that.
func stepClock(tb testing.TB, steps ...int64) func() time.Time {
	tb.Helper()
	if len(steps) == 0 {
		tb.Fatal("stepClock needs at least one step")
	}
	i := 0
	return func() time.Time {
		ms := steps[min(i, len(steps)-1)]
		i++
		return time.UnixMilli(baseMillis + ms)
	}
}

// rel renders a timestamp as {ms after baseMillis, logical}, so that table
// failures are readable.
func rel(h HLC) [2]int64 { return [2]int64{h.Millis() - baseMillis, int64(h.Logical())} }

func TestClock_Tick(t *testing.T) {
	for _, tc := range []struct {
		name  string
		last  HLC     // the clock's persisted high-water mark
		steps []int64 // wall clock per Tick, ms after baseMillis
		want  [][2]int64
	}{
		{"Forward", 0, []int64{0, 1, 5}, [][2]int64{{0, 0}, {1, 0}, {5, 0}}},
		{"StandsStill", 0, []int64{7, 7, 7, 7}, [][2]int64{{7, 0}, {7, 1}, {7, 2}, {7, 3}}},
		{"GoesBackOneMilli", 0, []int64{10, 9, 9, 11}, [][2]int64{{10, 0}, {10, 1}, {10, 2}, {11, 0}}},
		{"GoesBackAnHour", 0, []int64{3_600_000, 0, 1, 3_600_000, 3_600_001}, [][2]int64{{3_600_000, 0}, {3_600_000, 1}, {3_600_000, 2}, {3_600_000, 3}, {3_600_001, 0}}},
		{"BehindPersistedLast", MakeHLC(baseMillis+50, 4), []int64{10, 60}, [][2]int64{{50, 5}, {60, 0}}},
		{"LogicalOverflowCarries", MakeHLC(baseMillis+5, math.MaxUint16), []int64{5, 5}, [][2]int64{{6, 0}, {6, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Clock{Now: stepClock(t, tc.steps...), last: tc.last}
			prev := tc.last
			for i, w := range tc.want {
				h := c.Tick()
				if got := rel(h); got != w {
					t.Errorf("Tick %d = %v, want %v", i, got, w)
				}
				if h <= prev {
					t.Errorf("Tick %d = %s, not after the previous %s", i, h, prev)
				}
				if got := c.Last(); got != h {
					t.Errorf("Last after Tick %d = %s, want %s", i, got, h)
				}
				prev = h
			}
		})
	}
}

// TestClock_TickRandomWalk ensures Tick is strictly increasing under any
// wall clock, including one that jumps back and forth.
func TestClock_TickRandomWalk(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	wall := int64(0)
	c := &Clock{Now: func() time.Time { return time.UnixMilli(baseMillis + wall) }}
	var prev HLC
	for i := range 100_000 {
		switch r.IntN(4) {
		case 0:
			wall -= r.Int64N(1000)
		case 1:
			wall += r.Int64N(1000)
		}
		h := c.Tick()
		if h <= prev {
			t.Fatalf("tick %d: %s is not after %s (wall %d)", i, h, prev, wall)
		}
		if h.Millis() < baseMillis+wall {
			t.Fatalf("tick %d: %s is behind the wall clock %d", i, h, baseMillis+wall)
		}
		prev = h
	}
}

// TestClock_TickConcurrent ensures concurrent Ticks never hand out the same
// timestamp.
func TestClock_TickConcurrent(t *testing.T) {
	c := &Clock{Now: func() time.Time { return time.UnixMilli(baseMillis) }}
	const workers, each = 8, 500
	var mu sync.Mutex
	seen := make(map[HLC]bool)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			got := make([]HLC, 0, each)
			for range each {
				got = append(got, c.Tick())
			}
			mu.Lock()
			defer mu.Unlock()
			for _, h := range got {
				if seen[h] {
					t.Errorf("timestamp %s issued twice", h)
				}
				seen[h] = true
			}
		})
	}
	wg.Wait()
	if got, want := len(seen), workers*each; got != want {
		t.Errorf("%d distinct timestamps, want %d", got, want)
	}
}

func TestClock_Observe(t *testing.T) {
	const now = 1000 // ms after baseMillis
	drift := MaxClockDrift.Milliseconds()
	for _, tc := range []struct {
		name     string
		last     HLC
		remote   HLC
		wantErr  bool
		wantLast HLC
		wantTick HLC // minimum for the next Tick (exclusive)
	}{
		{"OK/Ahead", 0, MakeHLC(baseMillis+5000, 3), false, MakeHLC(baseMillis+5000, 3), MakeHLC(baseMillis+5000, 3)},
		{"OK/AheadSameMilli", MakeHLC(baseMillis+now, 2), MakeHLC(baseMillis+now, 9), false, MakeHLC(baseMillis+now, 9), MakeHLC(baseMillis+now, 9)},
		{"OK/Behind", MakeHLC(baseMillis+now, 0), MakeHLC(baseMillis+10, 0), false, MakeHLC(baseMillis+now, 0), MakeHLC(baseMillis+now, 0)},
		{"OK/ExactlyMaxDrift", 0, MakeHLC(baseMillis+now+drift, 0), false, MakeHLC(baseMillis+now+drift, 0), MakeHLC(baseMillis+now+drift, 0)},
		{"OK/MaxDriftLogical", 0, MakeHLC(baseMillis+now+drift, math.MaxUint16), false, MakeHLC(baseMillis+now+drift, math.MaxUint16), MakeHLC(baseMillis+now+drift, math.MaxUint16)},
		{"ErrInvalid/PastMaxDrift", MakeHLC(baseMillis+now, 0), MakeHLC(baseMillis+now+drift+1, 0), true, MakeHLC(baseMillis+now, 0), MakeHLC(baseMillis+now, 0)},
		{"ErrInvalid/YearsAhead", 0, MakeHLC(baseMillis+10*365*24*3600*1000, 0), true, 0, MakeHLC(baseMillis+now-1, 0)},
		{"ErrInvalid/MaxHLC", 0, HLC(math.MaxUint64), true, 0, MakeHLC(baseMillis+now-1, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Clock{Now: func() time.Time { return time.UnixMilli(baseMillis + now) }, last: tc.last}
			err := c.Observe(tc.remote)
			if tc.wantErr {
				if got := ErrorCode(err); got != CodeInvalid {
					t.Fatalf("Observe = %v, want code %q", err, CodeInvalid)
				}
			} else if err != nil {
				t.Fatalf("Observe = %v, want nil", err)
			}
			if got := c.Last(); got != tc.wantLast {
				t.Errorf("Last = %s, want %s", got, tc.wantLast)
			}
			if got := c.Tick(); got <= tc.wantTick || got <= tc.last {
				t.Errorf("next Tick = %s, want after %s", got, tc.wantTick)
			}
			if !tc.wantErr {
				// Ensure the next local event sorts after the remote one.
				if got := c.Tick(); got <= tc.remote {
					t.Errorf("Tick after Observe = %s, want after the remote %s", got, tc.remote)
				}
			}
		})
	}
}

func TestHLC_RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ms      int64
		logical uint16
		str     string
	}{
		{0, 0, "0.0"},
		{0, 1, "0.1"},
		{1, 0, "1.0"},
		{baseMillis, 42, "1760000000000.42"},
		{baseMillis, math.MaxUint16, "1760000000000.65535"},
		{1<<48 - 1, math.MaxUint16, "281474976710655.65535"},
	} {
		h := MakeHLC(tc.ms, tc.logical)
		if got := h.Millis(); got != tc.ms {
			t.Errorf("MakeHLC(%d, %d).Millis() = %d", tc.ms, tc.logical, got)
		}
		if got := h.Logical(); got != tc.logical {
			t.Errorf("MakeHLC(%d, %d).Logical() = %d", tc.ms, tc.logical, got)
		}
		if got, want := h.Time(), time.UnixMilli(tc.ms).UTC(); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("MakeHLC(%d, %d).Time() = %v, want %v", tc.ms, tc.logical, got, want)
		}
		if got := h.String(); got != tc.str {
			t.Errorf("MakeHLC(%d, %d).String() = %q, want %q", tc.ms, tc.logical, got, tc.str)
		}
	}
}

// TestHLC_Order ensures the integer order of HLCs is the order of
// (millis, logical), which is what the fold sorts by.
func TestHLC_Order(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 10_000 {
		am, bm := baseMillis+r.Int64N(4), baseMillis+r.Int64N(4)
		al, bl := uint16(r.IntN(3)), uint16(r.IntN(3))
		a, b := MakeHLC(am, al), MakeHLC(bm, bl)
		want := am < bm || am == bm && al < bl
		if got := a < b; got != want {
			t.Fatalf("MakeHLC(%d,%d) < MakeHLC(%d,%d) = %v, want %v", am, al, bm, bl, got, want)
		}
	}
}

func TestNewClock(t *testing.T) {
	now := time.Now().UnixMilli()
	for _, tc := range []struct {
		name string
		last HLC
	}{
		{"Zero", 0},
		{"Behind", MakeHLC(now-3_600_000, 7)},
		{"AheadOfWall", MakeHLC(now+3_600_000, 7)},
		{"AheadOfWallMaxLogical", MakeHLC(now+3_600_000, math.MaxUint16)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClock(tc.last)
			if c.Now == nil {
				t.Fatal("NewClock left Now nil")
			}
			if got := c.Last(); got != tc.last {
				t.Errorf("Last = %s, want %s", got, tc.last)
			}
			prev := tc.last
			for i := range 3 {
				h := c.Tick()
				if h <= prev {
					t.Fatalf("Tick %d = %s, want after %s", i, h, prev)
				}
				if h.Millis() < now {
					t.Fatalf("Tick %d = %s, behind the wall clock %d", i, h, now)
				}
				prev = h
			}
		})
	}
}
