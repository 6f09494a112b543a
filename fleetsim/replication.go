package fleetsim

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/syncproto"
)

// LoadNDJSON reads enquiries from a file in the shape of testdata's
// enquiries.ndjson or the CouchDB peer's enquiries-10k.ndjson. Enquiries
// with a flight and date are assigned to flight "FLIGHT-DATE".
func LoadNDJSON(path string) ([]Enquiry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Enquiry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r struct {
			Channel, ExternalID, Handle, Customer, Text, Language, Flight, Date, Seat string
		}
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		str := func(k string) string { v, _ := raw[k].(string); return v }
		r.Channel, r.ExternalID, r.Handle, r.Customer = str("channel"), str("external_id"), str("handle"), str("customer")
		r.Text, r.Language, r.Flight, r.Date, r.Seat = str("text"), str("language"), str("flight"), str("date"), str("seat")
		e := Enquiry{Channel: r.Channel, ExternalID: r.ExternalID, Handle: r.Handle, Text: r.Text, Language: r.Language, Seat: r.Seat, Passenger: r.Customer}
		if r.Flight != "" && r.Date != "" {
			e.Flight = r.Flight + "-" + r.Date
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Replication measures the three replication figures on one data set:
// (a) a fresh device pulls every assigned enquiry, (b) that device pushes
// edits crew ops (an outcome with a note each), (c) one fresh device per
// flight, all at once, pulls its own flight. Bytes are TCP payload bytes,
// both directions, including the WebSocket handshake.
func Replication(ctx context.Context, env *Env, name string, es []Enquiry, edits int) (*Result, error) {
	r := &Result{Scenario: name, Params: map[string]any{"enquiries": len(es), "edits": edits, "compress": env.Compress}}
	var flights []string
	seen := map[string]bool{}
	for _, e := range es {
		if e.Flight != "" && !seen[e.Flight] {
			seen[e.Flight] = true
			flights = append(flights, e.Flight)
		}
	}
	slices.Sort(flights)
	env.logf("%s: creating %d flights and %d enquiries", name, len(flights), len(es))
	err := parallel(ctx, len(flights), 8, func(i int) error {
		num, date := flights[i][:len(flights[i])-11], flights[i][len(flights[i])-10:]
		return env.Ground.Call(ctx, "POST", "/flights", map[string]string{"number": num, "date": date, "origin": "AMS", "destination": "JFK"}, nil)
	})
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	ids, err := env.Ground.NewEnquiries(ctx, es, 32)
	if err != nil {
		return nil, err
	}
	env.logf("%s: loaded in %s", name, time.Since(t0).Round(time.Millisecond))
	assigned := 0
	var mine []uuid.UUID
	for i, e := range es {
		if e.Flight != "" {
			assigned++
			mine = append(mine, uuid.MustParse(ids[i]))
		}
	}
	creds, err := env.Ground.NewDevices(ctx, name, 2*len(flights)+1, 16)
	if err != nil {
		return nil, err
	}

	// (a) fresh devices pull everything: one device, or one per 64 flights
	// (the most a tablet may serve) for a larger data set.
	const maxFlights = 64
	var ca Counter
	var pullers []*Device
	defer func() { closeAll(pullers) }()
	cpu := env.Ground.CPU()
	start := time.Now()
	for i := 0; i < len(flights); i += maxFlights {
		group := map[string]uint64{}
		for _, f := range flights[i:min(i+maxFlights, len(flights))] {
			group[f] = 0
		}
		c := creds[len(pullers)]
		pd := NewDevice(c.ID, c.Token, group, env.codec(), &ca)
		if err := pd.Connect(ctx, env.Ground.SyncURL()); err != nil {
			return nil, err
		}
		pullers = append(pullers, pd)
		if err := pd.WaitReady(ctx); err != nil {
			return nil, err
		}
	}
	pullTime := time.Since(start)
	pullBytes := ca.Up.Load() + ca.Down.Load()
	pulled := 0
	for _, pd := range pullers {
		pulled += pd.Ops()
	}
	d := pullers[0]
	first := map[string]bool{}
	for f := range d.Cursors() {
		first[f] = true
	}
	mine = mine[:0]
	for i, e := range es {
		if first[e.Flight] {
			mine = append(mine, uuid.MustParse(ids[i]))
		}
	}
	r.addDuration("(a) initial pull", pullTime)
	r.addDuration("(a) server CPU", env.Ground.CPU()-cpu)
	r.add("(a) devices", float64(len(pullers)), "")
	r.add("(a) enquiries pulled", float64(assigned), "")
	r.add("(a) ops pulled", float64(pulled), "")
	r.add("(a) bytes per enquiry", float64(pullBytes)/float64(assigned), "B")

	// (b) the synced device pushes offline edits.
	if edits > len(mine) {
		edits = len(mine)
	}
	ops := make([]syncproto.Op, edits)
	for i := range ops {
		ops[i] = d.NewOp(mine[i*len(mine)/edits], syncproto.KindOutcome, syncproto.OutcomeData{Outcome: syncproto.StatusResolved, Note: "Spoke to the passenger in person; sorted before landing."})
	}
	up0, down0 := ca.Up.Load(), ca.Down.Load()
	cpu = env.Ground.CPU()
	start = time.Now()
	for len(ops) > 0 {
		b := min(len(ops), syncproto.DefaultMaxBatch)
		if _, err := d.Push(ctx, ops[:b]); err != nil {
			return nil, err
		}
		ops = ops[b:]
	}
	pushTime := time.Since(start)
	pushBytes := ca.Up.Load() - up0 + ca.Down.Load() - down0
	// Acknowledged means durable; the ground then projects the edits
	// into the agents' views and the other tablets' feeds. (c) starts
	// once that is done, so it does not pay for (b).
	if err := env.Ground.WaitProjected(ctx); err != nil {
		return nil, err
	}
	projTime := time.Since(start)
	r.addDuration("(b) push edits", pushTime)
	r.addDuration("(b) edits projected", projTime)
	r.addDuration("(b) server CPU", env.Ground.CPU()-cpu)
	r.add("(b) bytes per edit", float64(pushBytes)/float64(max(edits, 1)), "B")

	// (c) one fresh device per flight, all at once.
	var cc Counter
	cpu = env.Ground.CPU()
	start = time.Now()
	devs, err := env.connect(ctx, creds[len(flights)+1:], func(i int) map[string]uint64 { return one(flights[i]) }, &cc)
	if err != nil {
		return nil, err
	}
	fanTime := time.Since(start)
	closeAll(devs)
	r.addDuration("(c) all flights pulled concurrently", fanTime)
	r.addDuration("(c) server CPU", env.Ground.CPU()-cpu)
	r.add("(c) devices", float64(len(flights)), "")
	r.add("(c) bytes per enquiry", float64(cc.Up.Load()+cc.Down.Load())/float64(assigned), "B")
	return r, nil
}
