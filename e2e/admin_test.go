package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cabincare/cabincare/server"
	"github.com/cabincare/cabincare/server/fleet"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// The sync admins' view through the API with real tablets connected:
// alerts on an injected clock, skew from a shifted tablet clock, forced
// resync, lifecycle actions, live events and /metrics on both binaries.

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type alertJSON struct {
	ID        string `json:"id"`
	Rule      string `json:"rule"`
	Severity  string `json:"severity"`
	DeviceID  string `json:"device_id"`
	FlightID  string `json:"flight_id"`
	EnquiryID string `json:"enquiry_id"`
	Reason    string `json:"reason"`
}

type fleetDeviceJSON struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Online        bool              `json:"online"`
	Revoked       bool              `json:"revoked"`
	LastSync      *time.Time        `json:"last_sync"`
	SinceLastSync *int64            `json:"since_last_sync_s"`
	Flights       []string          `json:"flights"`
	OpenFlight    string            `json:"open_flight"`
	Pending       int               `json:"pending"`
	CursorLag     int               `json:"cursor_lag"`
	Cursors       map[string]uint64 `json:"cursors"`
	AppVersion    string            `json:"app_version"`
	Protocol      int               `json:"protocol"`
	SkewMs        *int64            `json:"clock_skew_ms"`
	StoreBytes    int64             `json:"store_bytes"`
	ResyncPending bool              `json:"resync_pending"`
	SyncErrors    int               `json:"sync_errors"`
	Problems      []string          `json:"problems"`
	Alerts        []alertJSON       `json:"alerts"`
	History       []struct {
		At     time.Time `json:"at"`
		Online bool      `json:"online"`
		Outbox int       `json:"outbox"`
	} `json:"history"`
}

func (g *ground) device(id string) fleetDeviceJSON {
	g.t.Helper()
	var d fleetDeviceJSON
	g.api("GET", "/devices/"+id, nil, 200, &d)
	return d
}

func (g *ground) devices(query string) []fleetDeviceJSON {
	g.t.Helper()
	var out struct {
		Devices []fleetDeviceJSON `json:"devices"`
	}
	g.api("GET", "/devices"+query, nil, 200, &out)
	return out.Devices
}

func (g *ground) alerts() []alertJSON {
	g.t.Helper()
	var out struct {
		Alerts []alertJSON `json:"alerts"`
	}
	g.api("GET", "/alerts", nil, 200, &out)
	return out.Alerts
}

func alertFor(list []alertJSON, rule, target string) *alertJSON {
	for i, a := range list {
		if a.Rule == rule && (a.DeviceID == target || a.EnquiryID == target) {
			return &list[i]
		}
	}
	return nil
}

func ids(list []fleetDeviceJSON) []string {
	var out []string
	for _, d := range list {
		out = append(out, d.ID)
	}
	return out
}

// flightAt creates a flight departing at departs.
func (g *ground) flightAt(number string, departs time.Time) string {
	g.t.Helper()
	var f struct{ ID string }
	g.api("POST", "/flights", map[string]any{"number": number, "date": "2026-11-23", "origin": "AMS", "destination": "JFK", "departs_at": departs}, 201, &f)
	return f.ID
}

// Ensure a tablet that goes silent before its flight departs raises a
// not_synced alert exactly when the threshold passes on the ground's
// (injected) clock, and that readiness counts the tablets holding each
// enquiry.
func TestAdminSilentDeviceAlertOnTime(t *testing.T) {
	clk := &fakeClock{t: time.Now().UTC()}
	th := fleet.DefaultThresholds()
	g := startGroundWith(t, func(c *server.Config) { c.Now = clk.Now; c.Health = th })
	flight := g.flightAt("KL0641", clk.Now().Add(time.Hour))
	e1 := g.newEnquiry("silent-1")
	g.assign(e1, flight)
	c := startCabin(t, g, "tablet-silent")
	c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	eventually(t, 10*time.Second, "the enquiry on the tablet", func() bool { return c.hasEnquiry(e1) })
	eventually(t, 10*time.Second, "the ground to see the tablet synced", func() bool {
		d := g.device(c.creds.ID)
		return d.Online && d.LastSync != nil && d.CursorLag == 0 && d.Pending == 0 && d.OpenFlight == flight
	})
	d := g.device(c.creds.ID)
	if len(d.Problems) != 0 || d.OpenFlight != flight || d.Protocol != syncproto.ProtocolVersion || d.AppVersion == "" || d.StoreBytes == 0 {
		t.Fatalf("healthy synced device: got %+v", d)
	}
	if a := g.alerts(); len(a) != 0 {
		t.Fatalf("alerts for a healthy fleet: %+v", a)
	}

	c.shutdown()
	eventually(t, 10*time.Second, "the ground to see the tablet offline", func() bool { return !g.device(c.creds.ID).Online })
	// An enquiry handed over while the tablet is silent is on no tablet.
	e2 := g.newEnquiry("silent-2")
	g.assign(e2, flight)

	clk.Advance(th.NotSynced - time.Minute)
	if a := alertFor(g.alerts(), fleet.RuleNotSynced, c.creds.ID); a != nil {
		t.Fatalf("not_synced raised %s before the threshold: %+v", time.Minute, a)
	}
	clk.Advance(2 * time.Minute)
	list := g.alerts()
	a := alertFor(list, fleet.RuleNotSynced, c.creds.ID)
	if a == nil {
		t.Fatalf("no not_synced alert a minute past the threshold: %+v", list)
	}
	if a.Severity != fleet.SeverityCritical || a.FlightID != flight || !strings.Contains(a.Reason, "not synced for 16m0s (threshold 15m0s)") {
		t.Fatalf("not_synced alert: got %+v", a)
	}
	if got := ids(g.devices("?problem=not_synced")); !slices.Contains(got, c.creds.ID) {
		t.Fatalf("?problem=not_synced: got %v", got)
	}
	if got := ids(g.devices("?online=true")); slices.Contains(got, c.creds.ID) {
		t.Fatalf("?online=true lists the silent device: %v", got)
	}
	if got := ids(g.devices("?flight=" + flight + "&online=false")); !slices.Equal(got, []string{c.creds.ID}) {
		t.Fatalf("?flight=&online=false: got %v", got)
	}

	// Readiness: e1 is on the tablet (its cursor covers the hand-off), e2
	// is on none, and the flight departs within the readiness window.
	var r struct {
		Ready     bool `json:"ready"`
		Enquiries []struct {
			ID        string   `json:"id"`
			OnTablets int      `json:"on_tablets"`
			Tablets   []string `json:"tablets"`
		} `json:"enquiries"`
		Alerts []alertJSON `json:"alerts"`
	}
	g.api("GET", "/flights/"+flight+"/readiness", nil, 200, &r)
	on := map[string]int{}
	for _, e := range r.Enquiries {
		on[e.ID] = e.OnTablets
	}
	if r.Ready || on[e1] != 1 || on[e2] != 0 || len(r.Enquiries) != 2 {
		t.Fatalf("readiness: got %+v", r)
	}
	if alertFor(r.Alerts, fleet.RuleNotOnTablets, e2) == nil || alertFor(list, fleet.RuleNotOnTablets, e2) == nil || alertFor(list, fleet.RuleNotOnTablets, e1) != nil {
		t.Fatalf("readiness alerts: flight %+v, all %+v", r.Alerts, list)
	}
	g.api("GET", "/flights/NOPE-2026-11-23/readiness", nil, 404, nil)
	g.api("GET", "/devices?online=maybe", nil, 400, nil)
	g.api("GET", "/devices?problem=bogus", nil, 400, nil)
	g.api("GET", "/devices/"+c.creds.ID+"?history=48h", nil, 400, nil)

	// The history has the samples the reports left (online, then offline).
	var h fleetDeviceJSON
	g.api("GET", "/devices/"+c.creds.ID+"?history=24h", nil, 200, &h)
	// The fake clock stood still, so the offline sample replaced the
	// online one of the same minute.
	if len(h.History) != 1 || h.History[0].Online {
		t.Fatalf("history: got %+v", h.History)
	}
}

// Ensure the ground computes clock skew from a tablet whose clock is ten
// minutes fast, and flags it, while a tablet with a good clock is fine.
func TestAdminClockSkew(t *testing.T) {
	g := startGround(t)
	flight, _ := g.seed("KL0643", "skew-1")
	shift := 10 * time.Minute
	fast := &cabin{t: t, creds: g.newDevice("tablet-fast"), dir: t.TempDir(), addr: freeAddr(t), g: g,
		now: func() time.Time { return time.Now().Add(shift) }}
	fast.start()
	t.Cleanup(fast.shutdown)
	good := startCabin(t, g, "tablet-good")
	for _, c := range []*cabin{fast, good} {
		c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	}
	eventually(t, 10*time.Second, "both tablets reporting", func() bool {
		return g.device(fast.creds.ID).SkewMs != nil && g.device(good.creds.ID).SkewMs != nil
	})
	f, ok := g.device(fast.creds.ID), g.device(good.creds.ID)
	if d := time.Duration(*f.SkewMs)*time.Millisecond - shift; d.Abs() > 5*time.Second {
		t.Fatalf("fast tablet skew: got %dms, want about %s", *f.SkewMs, shift)
	}
	if !slices.Contains(f.Problems, fleet.RuleClockSkew) || !strings.Contains(f.Alerts[0].Reason, "ahead of the ground's") {
		t.Fatalf("fast tablet: got problems %v alerts %+v", f.Problems, f.Alerts)
	}
	if d := time.Duration(*ok.SkewMs) * time.Millisecond; d.Abs() > 5*time.Second || len(ok.Problems) != 0 {
		t.Fatalf("good tablet: skew %dms problems %v", *ok.SkewMs, ok.Problems)
	}
	if got := ids(g.devices("?problem=clock_skew")); !slices.Equal(got, []string{fast.creds.ID}) {
		t.Fatalf("?problem=clock_skew: got %v", got)
	}
}

// metrics scrapes url and parses it with the Prometheus text parser.
func metrics(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mf
}

// metricValue sums the samples of name whose labels include want.
func metricValue(mf map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := mf[name]
	if f == nil {
		return 0
	}
	sum := 0.0
next:
	for _, m := range f.Metric {
		for k, v := range want {
			found := false
			for _, l := range m.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += m.Histogram.GetSampleSum()
		}
	}
	return sum
}

// Ensure a forced resync makes the tablet pull its flight again from zero
// while an op recorded offline stays in its outbox and reaches the ground
// once (not re-pushed as a duplicate), and that /metrics on both binaries
// parses and moves with the sync.
func TestAdminForcedResyncKeepsOutboxAndMetricsMove(t *testing.T) {
	g := startGround(t)
	flight, e1 := g.seed("KL0645", "resync-1")
	e2 := g.newEnquiry("resync-2")
	g.assign(e2, flight)
	link := newLink(t, g)
	c := startCabinVia(t, g, "tablet-resync", link)
	c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	eventually(t, 10*time.Second, "both enquiries on the tablet", func() bool { return c.hasEnquiry(e1) && c.hasEnquiry(e2) })
	eventually(t, 10*time.Second, "the tablet synced", func() bool { s := c.status(); return s.LastSync != nil && s.Pending == 0 })

	var ready struct {
		Status    string `json:"status"`
		Connected bool   `json:"connected"`
	}
	call(t, "GET", "http://"+c.addr+"/readyz", "", nil, 200, &ready)
	if ready.Status != "ready" || !ready.Connected {
		t.Fatalf("cabin /readyz: got %+v", ready)
	}
	call(t, "GET", "http://"+c.addr+"/healthz", "", nil, 200, nil)
	gm, cm := metrics(t, g.url()), metrics(t, "http://"+c.addr)
	for _, name := range []string{"cabincare_sync_connected", "cabincare_sync_push_seconds", "cabincare_sync_pull_batch_ops", "cabincare_sync_frame_bytes_total", "cabincare_bbolt_tx_write_seconds_total", "cabincare_http_request_seconds"} {
		if gm[name] == nil || cm[name] == nil {
			t.Fatalf("metric %s missing: ground %v, cabin %v", name, gm[name] != nil, cm[name] != nil)
		}
	}
	if cm["cabincare_outbox_depth"] == nil {
		t.Fatal("cabin has no cabincare_outbox_depth")
	}
	if got := metricValue(gm, "cabincare_sync_connected", nil); got != 1 {
		t.Fatalf("ground cabincare_sync_connected: got %v, want 1", got)
	}
	if metricValue(gm, "cabincare_http_request_seconds", map[string]string{"route": "/api/v1/enquiries/:id/assign", "status": "200"}) <= 0 {
		t.Fatal("no HTTP duration for the assign route")
	}
	wire := metricValue(gm, "cabincare_sync_frame_bytes_total", map[string]string{"direction": "out", "stage": "wire"})
	payload := metricValue(gm, "cabincare_sync_frame_bytes_total", map[string]string{"direction": "out", "stage": "payload"})
	if wire <= 0 || payload <= 0 {
		t.Fatalf("frame bytes out: wire %v payload %v", wire, payload)
	}
	pulledBefore := metricValue(cm, "cabincare_sync_pull_batch_ops", nil)
	appliedBefore := metricValue(gm, "cabincare_sync_ops_total", map[string]string{"result": "applied"})

	// Offline: the crew resolve e1; the op waits in the outbox.
	link.SetDown(true)
	eventually(t, 10*time.Second, "the tablet offline", func() bool { return !c.status().Connected })
	c.api("POST", "/enquiries/"+e1+"/resolve", map[string]string{"outcome": "resolved", "note": "served first"}, 200, nil)
	if c.status().Pending != 1 {
		t.Fatalf("pending after an offline resolve: %d", c.status().Pending)
	}
	var v fleetDeviceJSON
	g.api("POST", "/devices/"+c.creds.ID+"/resync", nil, 200, &v)
	if !v.ResyncPending {
		t.Fatalf("resync: got %+v", v)
	}
	link.SetDown(false)

	eventually(t, 15*time.Second, "the resolve on the ground", func() bool {
		e := g.enquiry(e1)
		return e.Resolution != nil && e.Resolution.Outcome == "resolved"
	})
	eventually(t, 10*time.Second, "the re-pull done", func() bool {
		s := c.status()
		return s.Pending == 0 && s.LastSync != nil && c.hasEnquiry(e1) && c.hasEnquiry(e2) && !g.device(c.creds.ID).ResyncPending
	})
	if got := c.enquiry(e1); got.Resolution == nil || got.Resolution.Note != "served first" {
		t.Fatalf("tablet lost its own resolve in the resync: %+v", got)
	}
	gm, cm = metrics(t, g.url()), metrics(t, "http://"+c.addr)
	// The re-pull brought the flight's ops again (two creates, two
	// assigns at least); the resolve was applied once, never re-pushed.
	if got := metricValue(cm, "cabincare_sync_pull_batch_ops", nil); got < pulledBefore+4 {
		t.Fatalf("ops pulled: %v before the resync, %v after; want at least 4 more", pulledBefore, got)
	}
	if got := metricValue(gm, "cabincare_sync_ops_total", map[string]string{"result": "applied"}); got != appliedBefore+1 {
		t.Fatalf("ops applied: %v, want %v", got, appliedBefore+1)
	}
	if got := metricValue(gm, "cabincare_sync_ops_total", map[string]string{"result": "duplicate"}); got != 0 {
		t.Fatalf("duplicates after a forced resync: %v", got)
	}
	if got := metricValue(gm, "cabincare_sync_sessions_total", map[string]string{"result": syncproto.CodeTimeout}) +
		metricValue(gm, "cabincare_sync_sessions_total", map[string]string{"result": "closed"}); got < 1 {
		t.Fatalf("the cut session was not counted: %v", got)
	}
	if metricValue(cm, "cabincare_outbox_depth", nil) != 0 {
		t.Fatal("cabin outbox depth gauge is not 0 after the sync")
	}

	// A resync of a connected tablet disconnects it with the resync code;
	// it reconnects at once and pulls again. It is not a sync error.
	pulledBefore = metricValue(cm, "cabincare_sync_pull_batch_ops", nil)
	g.api("POST", "/devices/"+c.creds.ID+"/resync", nil, 200, nil)
	eventually(t, 10*time.Second, "the online re-pull done", func() bool {
		d := g.device(c.creds.ID)
		return d.Online && !d.ResyncPending && metricValue(metrics(t, "http://"+c.addr), "cabincare_sync_pull_batch_ops", nil) >= pulledBefore+4
	})
	if got := metricValue(metrics(t, g.url()), "cabincare_sync_sessions_total", map[string]string{"result": syncproto.CodeResync}); got != 1 {
		t.Fatalf("sessions ended for a resync: %v, want 1", got)
	}
	if d := g.device(c.creds.ID); slices.Contains(d.Problems, fleet.RuleSyncErrors) || !c.hasEnquiry(e1) || !c.hasEnquiry(e2) {
		t.Fatalf("after an online resync: %+v", d)
	}
}

// Ensure rename, decommission (at once, and after the outbox drained) and
// revoke work through the API, are audited, and that a device refused for
// an old protocol shows as protocol_outdated.
func TestAdminLifecycle(t *testing.T) {
	g := startGround(t)
	flight, e1 := g.seed("KL0647", "life-1")
	a := startCabin(t, g, "tablet-a")
	a.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	eventually(t, 10*time.Second, "tablet a synced", func() bool { return g.device(a.creds.ID).Online && a.hasEnquiry(e1) })

	var v fleetDeviceJSON
	g.api("POST", "/devices/"+a.creds.ID+"/rename", map[string]string{"name": "purser KL0647"}, 200, &v)
	if v.Name != "purser KL0647" {
		t.Fatalf("rename: got %q", v.Name)
	}
	g.api("POST", "/devices/"+a.creds.ID+"/rename", map[string]string{"name": " "}, 400, nil)
	g.api("POST", "/devices/"+a.creds.ID+"/rename", map[string]any{"name": 7}, 400, nil)
	g.api("POST", "/devices/nope/rename", map[string]string{"name": "x"}, 404, nil)
	if g.device(a.creds.ID).Name != "purser KL0647" {
		t.Fatal("a refused rename changed the name")
	}

	// Decommission with an empty outbox: revoked and forgotten at once.
	var done struct {
		Decommissioned bool `json:"decommissioned"`
	}
	g.api("POST", "/devices/"+a.creds.ID+"/decommission", nil, 200, &done)
	if !done.Decommissioned {
		t.Fatal("decommission of a drained device did not finish")
	}
	g.api("GET", "/devices/"+a.creds.ID, nil, 404, nil)
	eventually(t, 10*time.Second, "tablet a told it is revoked", func() bool {
		var s struct {
			LastError string `json:"last_error"`
		}
		a.api("GET", "/status", nil, 200, &s)
		return strings.Contains(s.LastError, "revoked") || strings.Contains(s.LastError, "unauthorized")
	})

	// Decommission of an offline tablet with ops waiting: 202, and done
	// only once they have reached the ground.
	link := newLink(t, g)
	b := startCabinVia(t, g, "tablet-b", link)
	b.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	eventually(t, 10*time.Second, "tablet b synced", func() bool { return b.hasEnquiry(e1) && g.device(b.creds.ID).Online })
	link.SetDown(true)
	eventually(t, 10*time.Second, "tablet b offline", func() bool { return !g.device(b.creds.ID).Online && !b.status().Connected })
	b.api("POST", "/enquiries/"+e1+"/notes", map[string]string{"text": "last words"}, 201, nil)
	var acc struct {
		Decommissioned bool `json:"decommissioned"`
		Device         struct {
			Decommissioning *time.Time `json:"decommissioning"`
		} `json:"device"`
	}
	g.api("POST", "/devices/"+b.creds.ID+"/decommission", nil, 202, &acc)
	if acc.Decommissioned || acc.Device.Decommissioning == nil {
		t.Fatalf("decommission of an offline device: got %+v", acc)
	}
	link.SetDown(false)
	eventually(t, 15*time.Second, "tablet b forgotten", func() bool {
		return try(t, "GET", g.url()+"/api/v1/devices/"+b.creds.ID, adminToken, nil) == 404
	})
	if n := g.enquiry(e1).Notes; len(n) != 1 || n[0].Text != "last words" {
		t.Fatalf("the decommissioned tablet's last op: got %+v", n)
	}

	// A device on an old protocol is refused, and shows up as outdated.
	c := g.newDevice("tablet-old")
	codec := syncproto.NewCodec(syncproto.DefaultMaxFrame, false)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+g.addr+"/sync", nil)
	if err != nil {
		t.Fatal(err)
	}
	hello, _ := codec.Encode(syncproto.FrameHello, &syncproto.Hello{Protocol: 0, DeviceID: c.ID, Token: c.Token, Flights: map[string]uint64{}, State: syncproto.DeviceState{AppVersion: "0.0.1"}})
	if err := ws.WriteMessage(websocket.BinaryMessage, hello); err != nil {
		t.Fatal(err)
	}
	_, msg, err := ws.ReadMessage()
	ws.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err := codec.Decode(msg)
	if err != nil || f.Type != syncproto.FrameError {
		t.Fatalf("old protocol: got %v %v", f.Type, err)
	}
	old := g.device(c.ID)
	if !slices.Contains(old.Problems, fleet.RuleProtocolOutdated) || old.AppVersion != "0.0.1" {
		t.Fatalf("old protocol device: got %+v", old)
	}

	// Sessions that keep ending on protocol errors raise sync_errors at
	// the threshold; a completed exchange would reset the count.
	bad := g.newDevice("tablet-garbled")
	for i := 1; i <= fleet.DefaultThresholds().SyncErrors; i++ {
		r := dialSync(t, g)
		r.hello(bad, map[string]uint64{})
		r.sendRaw([]byte{0xff, 0, 1, 2})
		if code := r.refusal(); code != "" && code != syncproto.CodeBadFrame {
			t.Fatalf("garbage after hello: refused with %q", code)
		}
		var d fleetDeviceJSON
		eventually(t, 10*time.Second, "the session counted", func() bool {
			d = g.device(bad.ID)
			return !d.Online && d.SyncErrors == i
		})
		if has := slices.Contains(d.Problems, fleet.RuleSyncErrors); has != (i == fleet.DefaultThresholds().SyncErrors) {
			t.Fatalf("after %d bad sessions: problems %v", i, d.Problems)
		}
	}

	// Every action is in the audit trail, in order.
	recs, err := g.srv.Store.Audit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	lifecycle := []string{fleet.ActionRename, fleet.ActionResync, fleet.ActionDecommission, fleet.ActionDecommissioned}
	var actions []string
	for i := len(recs) - 1; i >= 0; i-- {
		if slices.Contains(lifecycle, recs[i].Kind) {
			actions = append(actions, recs[i].Kind+" "+strings.TrimPrefix(recs[i].Subject, "device:"))
		}
	}
	want := []string{
		fleet.ActionRename + " " + a.creds.ID,
		fleet.ActionDecommission + " " + a.creds.ID, fleet.ActionDecommissioned + " " + a.creds.ID,
		fleet.ActionDecommission + " " + b.creds.ID, fleet.ActionDecommissioned + " " + b.creds.ID,
	}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit: got %v, want %v", actions, want)
	}
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	Type string
	Data json.RawMessage
}

// subscribe opens the event stream and returns its events.
func (g *ground) subscribe(t testing.TB, query string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", g.url()+"/api/v1/events"+query, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 1024)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.Type = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = json.RawMessage(strings.TrimPrefix(line, "data: "))
			case line == "" && ev.Type != "":
				select {
				case out <- ev:
				default:
				}
				ev = sseEvent{}
			}
		}
	}()
	return out
}

// waitEvent reads events until one of type typ satisfies match.
func waitEvent(t testing.TB, ch <-chan sseEvent, typ string, within time.Duration, match func(json.RawMessage) bool) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-ch:
			if ev.Type == typ && match(ev.Data) {
				return
			}
			t.Logf("skipped %s event: %.200s", ev.Type, ev.Data)
		case <-deadline:
			t.Fatalf("no matching %s event within %s", typ, within)
		}
	}
}

// Ensure the live stream carries device-state changes, enquiry changes
// (agent and crew ops, and deliveries) and alerts raised, without polling.
func TestAdminEventStream(t *testing.T) {
	clk := &fakeClock{t: time.Now().UTC()}
	g := startGroundWith(t, func(c *server.Config) { c.Now = clk.Now; c.AlertInterval = 50 * time.Millisecond })
	flight := g.flightAt("KL0649", clk.Now().Add(30*time.Minute))
	all := g.subscribe(t, "")
	alerts := g.subscribe(t, "?types=alert")
	g.api("GET", "/events?types=bogus", nil, 400, nil)

	e1 := g.newEnquiry("events-1")
	waitEvent(t, all, "enquiry", 5*time.Second, func(b json.RawMessage) bool {
		return strings.Contains(string(b), e1) && strings.Contains(string(b), `"status":"new"`)
	})
	g.assign(e1, flight)
	// Assigned to a flight departing in 30 minutes with no tablet: the
	// readiness alert is raised on the stream.
	waitEvent(t, alerts, "alert", 5*time.Second, func(b json.RawMessage) bool {
		return strings.Contains(string(b), `"state":"raised"`) && strings.Contains(string(b), fleet.RuleNotOnTablets) && strings.Contains(string(b), e1)
	})
	c := startCabin(t, g, "tablet-events")
	c.api("PUT", "/flight", map[string]string{"flight_id": flight}, 200, nil)
	waitEvent(t, all, "device", 10*time.Second, func(b json.RawMessage) bool {
		return strings.Contains(string(b), c.creds.ID) && strings.Contains(string(b), `"online":true`)
	})
	waitEvent(t, all, "enquiry", 10*time.Second, func(b json.RawMessage) bool {
		return strings.Contains(string(b), e1) && strings.Contains(string(b), `"status":"delivered"`)
	})
	waitEvent(t, alerts, "alert", 5*time.Second, func(b json.RawMessage) bool {
		return strings.Contains(string(b), `"state":"cleared"`) && strings.Contains(string(b), e1)
	})
	c.api("POST", "/enquiries/"+e1+"/resolve", map[string]string{"outcome": "resolved"}, 200, nil)
	waitEvent(t, all, "enquiry", 10*time.Second, func(b json.RawMessage) bool {
		return strings.Contains(string(b), e1) && strings.Contains(string(b), `"status":"resolved"`)
	})
	c.shutdown()
	waitEvent(t, all, "device", 10*time.Second, func(b json.RawMessage) bool {
		return strings.Contains(string(b), c.creds.ID) && strings.Contains(string(b), `"online":false`)
	})
}
