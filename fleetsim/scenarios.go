package fleetsim

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/syncproto"
)

// Env is what every scenario gets.
type Env struct {
	Ground *Ground
	// Compress turns zstd on for the simulated devices' frames.
	Compress bool
	// Progress receives one line per step, for people watching.
	Progress io.Writer
	// Dial bounds concurrent handshakes (default 200).
	Dial int
}

func (e *Env) logf(format string, args ...any) {
	if e.Progress != nil {
		fmt.Fprintf(e.Progress, "fleetsim: "+format+"\n", args...)
	}
}

func (e *Env) codec() *syncproto.Codec {
	return syncproto.NewCodec(syncproto.DefaultMaxFrame, e.Compress)
}

// connect creates and connects one device per creds, serving flightOf(i),
// and waits until each has caught up.
func (e *Env) connect(ctx context.Context, creds []Creds, flightsOf func(i int) map[string]uint64, counter *Counter) ([]*Device, error) {
	codec := e.codec()
	devs := make([]*Device, len(creds))
	par := e.Dial
	if par <= 0 {
		par = 200
	}
	err := parallel(ctx, len(creds), par, func(i int) error {
		d := NewDevice(creds[i].ID, creds[i].Token, flightsOf(i), codec, counter)
		if err := d.Connect(ctx, e.Ground.SyncURL()); err != nil {
			return fmt.Errorf("device %d: %w", i, err)
		}
		devs[i] = d
		return d.WaitReady(ctx)
	})
	if err != nil {
		closeAll(devs)
		return nil, err
	}
	return devs, nil
}

func closeAll(devs []*Device) {
	var wg sync.WaitGroup
	for _, d := range devs {
		if d != nil {
			wg.Add(1)
			go func() { defer wg.Done(); d.Close() }()
		}
	}
	wg.Wait()
}

func one(flight string) map[string]uint64 { return map[string]uint64{flight: 0} }

// Hold connects n idle devices (four per flight) and reports the ground's
// memory and goroutines per connection.
func Hold(ctx context.Context, env *Env, n int) (*Result, error) {
	r := &Result{Scenario: "hold", Params: map[string]any{"devices": n}}
	rss0, _ := env.Ground.Memory()
	g0 := env.Ground.Goroutines(ctx)
	flights, err := env.Ground.NewFlights(ctx, 1000, max(1, n/4), "2026-12-01")
	if err != nil {
		return nil, err
	}
	env.logf("hold: registering %d devices", n)
	creds, err := env.Ground.NewDevices(ctx, "hold", n, 16)
	if err != nil {
		return nil, err
	}
	env.logf("hold: connecting %d devices", n)
	start := time.Now()
	devs, err := env.connect(ctx, creds, func(i int) map[string]uint64 { return one(flights[i%len(flights)]) }, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(devs)
	r.addDuration("connect all", time.Since(start))
	time.Sleep(2 * time.Second) // let heartbeats settle
	runtime.GC()
	rss, peak := env.Ground.Memory()
	g := env.Ground.Goroutines(ctx)
	r.add("connected", float64(len(devs)), "devices")
	r.add("server RSS", float64(rss)/(1<<20), "MiB")
	r.add("server peak RSS", float64(peak)/(1<<20), "MiB")
	r.add("RSS per connection", float64(rss-rss0)/float64(n)/1024, "KiB")
	r.add("goroutines", float64(g), "")
	r.add("goroutines per connection", float64(g-g0)/float64(n), "")
	return r, nil
}

// Fanout connects n devices over n/4 flights, assigns enquiries at rate per
// second for d, and measures the time from the assignment API call to the
// op arriving on each device of the flight.
func Fanout(ctx context.Context, env *Env, n int, rate float64, d time.Duration) (*Result, error) {
	r := &Result{Scenario: "fanout", Params: map[string]any{"devices": n, "rate": rate, "duration": d.String()}}
	nf := max(1, n/4)
	flights, err := env.Ground.NewFlights(ctx, 2000, nf, "2026-12-02")
	if err != nil {
		return nil, err
	}
	creds, err := env.Ground.NewDevices(ctx, "fanout", n, 16)
	if err != nil {
		return nil, err
	}
	total := int(rate * d.Seconds())
	es := make([]Enquiry, total)
	for i := range es {
		es[i] = Enquiry{Channel: "twitter", ExternalID: fmt.Sprintf("fanout-%d-%d", time.Now().UnixNano(), i), Handle: "@pax", Text: "Please help with my seat.", Language: "en"}
	}
	env.logf("fanout: creating %d enquiries", total)
	ids, err := env.Ground.NewEnquiries(ctx, es, 16)
	if err != nil {
		return nil, err
	}
	var sent sync.Map // enquiry id -> time of the assign call
	var mu sync.Mutex
	var lat []time.Duration
	var got atomic.Int64
	env.logf("fanout: connecting %d devices", n)
	devs, err := env.connect(ctx, creds, func(i int) map[string]uint64 { return one(flights[i%nf]) }, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(devs)
	for _, dv := range devs {
		dv.OnOps = func(_ *Device, _ string, ops []syncproto.Op) {
			now := time.Now()
			for _, op := range ops {
				if op.Kind != syncproto.KindAssign {
					continue
				}
				if t, ok := sent.Load(op.Enquiry); ok {
					mu.Lock()
					lat = append(lat, now.Sub(t.(time.Time)))
					mu.Unlock()
					got.Add(1)
				}
			}
		}
	}
	onFlight := make([]int64, nf) // devices serving each flight
	for j := range devs {
		onFlight[j%nf]++
	}
	want := int64(0)
	env.logf("fanout: %d assignments at %.0f/s", total, rate)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for i, id := range ids {
		<-tick.C
		flight := flights[i%nf]
		want += onFlight[i%nf]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent.Store(uuid.MustParse(id), time.Now())
			_ = env.Ground.Call(ctx, "POST", "/enquiries/"+id+"/assign", map[string]string{"flight_id": flight, "seat": "12A"}, nil)
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for got.Load() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	r.add("assignments", float64(total), "")
	r.add("deliveries", float64(got.Load()), "")
	r.add("deliveries expected", float64(want), "")
	mu.Lock()
	r.addLatencies("assign to device", lat)
	mu.Unlock()
	return r, nil
}

// Ingest has n devices, each serving its own flight with per enquiries,
// push notes in batches of batch as fast as acknowledgements allow for d.
func Ingest(ctx context.Context, env *Env, n, per, batch int, d time.Duration) (*Result, error) {
	r := &Result{Scenario: "ingest", Params: map[string]any{"devices": n, "enquiries_per_device": per, "batch": batch, "duration": d.String()}}
	flights, err := env.Ground.NewFlights(ctx, 3000, n, "2026-12-03")
	if err != nil {
		return nil, err
	}
	creds, err := env.Ground.NewDevices(ctx, "ingest", n, 16)
	if err != nil {
		return nil, err
	}
	es := make([]Enquiry, n*per)
	for i := range es {
		es[i] = Enquiry{Channel: "facebook", ExternalID: fmt.Sprintf("ingest-%d-%d", time.Now().UnixNano(), i), Handle: "pax", Text: "Cold meal on the outbound flight.", Language: "en", Flight: flights[i%n], Seat: "12A", Passenger: "A Passenger"}
	}
	env.logf("ingest: creating %d enquiries", len(es))
	ids, err := env.Ground.NewEnquiries(ctx, es, 16)
	if err != nil {
		return nil, err
	}
	devs, err := env.connect(ctx, creds, func(i int) map[string]uint64 { return one(flights[i]) }, nil)
	if err != nil {
		return nil, err
	}
	defer closeAll(devs)
	env.logf("ingest: %d devices pushing for %s", n, d)
	var applied atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	stop := time.Now().Add(d)
	start := time.Now()
	err = parallel(ctx, n, n, func(i int) error {
		dv := devs[i]
		var mine []uuid.UUID
		for j := i; j < len(ids); j += n {
			mine = append(mine, uuid.MustParse(ids[j]))
		}
		var local []time.Duration
		for k := 0; time.Now().Before(stop); k++ {
			ops := make([]syncproto.Op, batch)
			for j := range ops {
				ops[j] = dv.NewOp(mine[(k*batch+j)%len(mine)], syncproto.KindNote, syncproto.NoteData{Text: fmt.Sprintf("Checked on the passenger, round %d.", k)})
			}
			t0 := time.Now()
			if _, err := dv.Push(ctx, ops); err != nil {
				return err
			}
			local = append(local, time.Since(t0))
			applied.Add(int64(batch))
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	el := time.Since(start)
	// Acknowledged is durable (in the ground's log); the throughput that
	// counts the projection too waits for the last push's.
	if err := env.Ground.WaitProjected(ctx); err != nil {
		return nil, err
	}
	all := time.Since(start)
	r.add("ops applied", float64(applied.Load()), "")
	r.add("throughput", float64(applied.Load())/el.Seconds(), "ops/s")
	r.add("throughput projected", float64(applied.Load())/all.Seconds(), "ops/s")
	r.addLatencies("push", lat)
	return r, nil
}

// Storm has n devices (four per flight), each with push ops to send and
// pull new ops to receive, reconnect all at once; it measures the time until
// every device is fully synced and the ground's peak memory.
func Storm(ctx context.Context, env *Env, n, push, pull int) (*Result, error) {
	r := &Result{Scenario: "storm", Params: map[string]any{"devices": n, "push_per_device": push, "pull_per_device": pull}}
	nf := max(1, n/4)
	flights, err := env.Ground.NewFlights(ctx, 4000, nf, "2026-12-04")
	if err != nil {
		return nil, err
	}
	creds, err := env.Ground.NewDevices(ctx, "storm", n, 16)
	if err != nil {
		return nil, err
	}
	// One enquiry per flight to write on; the pull backlog is notes
	// written by agents while the devices were away.
	es := make([]Enquiry, nf)
	for i := range es {
		es[i] = Enquiry{Channel: "twitter", ExternalID: fmt.Sprintf("storm-%d-%d", time.Now().UnixNano(), i), Handle: "@pax", Text: "Birthday on board.", Language: "en", Flight: flights[i], Seat: "1A", Passenger: "P"}
	}
	ids, err := env.Ground.NewEnquiries(ctx, es, 16)
	if err != nil {
		return nil, err
	}
	env.logf("storm: first sync of %d devices", n)
	devs, err := env.connect(ctx, creds, func(i int) map[string]uint64 { return one(flights[i%nf]) }, nil)
	if err != nil {
		return nil, err
	}
	cursors := make([]map[string]uint64, n)
	for i, d := range devs {
		cursors[i] = d.Cursors()
	}
	closeAll(devs)
	env.logf("storm: writing %d ops per flight while the devices are away", pull)
	err = parallel(ctx, nf*pull, 32, func(k int) error {
		return env.Ground.Call(ctx, "POST", "/enquiries/"+ids[k%nf]+"/notes", map[string]string{"text": fmt.Sprintf("Ground note %d", k)}, nil)
	})
	if err != nil {
		return nil, err
	}
	_, peak0 := env.Ground.Memory()
	env.logf("storm: %d devices reconnect at once, each pushing %d and pulling %d ops", n, push, pull)
	codec := env.codec()
	// What each device of a flight must end up with: the ground's notes
	// and its colleagues' pushes.
	want := make([]int, nf)
	for i := range n {
		want[i%nf] += push
	}
	for f := range want {
		want[f] += pull - push
	}
	start := time.Now()
	var maxDev time.Duration
	var mu sync.Mutex
	devs = make([]*Device, n)
	err = parallel(ctx, n, n, func(i int) error {
		t0 := time.Now()
		d := NewDevice(creds[i].ID, creds[i].Token, cursors[i], codec, nil)
		if err := d.Connect(ctx, env.Ground.SyncURL()); err != nil {
			return err
		}
		devs[i] = d
		enq := uuid.MustParse(ids[i%nf])
		for sent := 0; sent < push; {
			b := min(push-sent, syncproto.DefaultMaxBatch)
			ops := make([]syncproto.Op, b)
			for j := range ops {
				ops[j] = d.NewOp(enq, syncproto.KindNote, syncproto.NoteData{Text: "Crew note written offline."})
			}
			if _, err := d.Push(ctx, ops); err != nil {
				return err
			}
			sent += b
		}
		if err := d.WaitReady(ctx); err != nil {
			return err
		}
		// Synced means holding everything: the ground's backlog and
		// every colleague's push, which may reach the ground (or be
		// projected) after this device's READY.
		if err := d.WaitOps(ctx, want[i%nf]); err != nil {
			return err
		}
		el := time.Since(t0)
		mu.Lock()
		maxDev = max(maxDev, el)
		mu.Unlock()
		return nil
	})
	el := time.Since(start)
	defer closeAll(devs)
	if err != nil {
		return nil, err
	}
	received := 0
	for _, d := range devs {
		received += d.Ops()
	}
	_, peak := env.Ground.Memory()
	r.addDuration("all devices synced", el)
	r.addDuration("slowest device", maxDev)
	r.add("ops pushed", float64(n*push), "")
	r.add("ops pulled", float64(received), "")
	r.add("server peak RSS", float64(max(peak, peak0))/(1<<20), "MiB")
	return r, nil
}
