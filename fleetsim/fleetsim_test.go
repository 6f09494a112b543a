package fleetsim_test

import (
	"context"
	"testing"
	"time"

	"github.com/cabincare/cabincare/fleetsim"
	"github.com/cabincare/cabincare/server"
	"github.com/cabincare/cabincare/server/hub"
)

// startGround runs an in-process ground server for a scenario smoke run.
func startGround(t *testing.T) *fleetsim.Ground {
	t.Helper()
	srv := server.New(server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AdminToken: "smoke", Hub: hub.Config{Compress: true, Heartbeat: time.Second}})
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ground: %v", err)
		}
	})
	return fleetsim.Remote(srv.URL(), "smoke")
}

func figure(t *testing.T, r *fleetsim.Result, name string) float64 {
	t.Helper()
	v, ok := r.Get(name)
	if !ok {
		t.Fatalf("%s: no figure %q in %+v", r.Scenario, name, r.Figures)
	}
	return v
}

// Ensure every scenario runs end to end at a small size and its figures
// say the work was done (correctness only; speed is for the command).
func TestScenariosSmoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	run := func(name string, fn func(env *fleetsim.Env) (*fleetsim.Result, error), check func(r *fleetsim.Result)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := &fleetsim.Env{Ground: startGround(t), Compress: true}
			r, err := fn(env)
			if err != nil {
				t.Fatal(err)
			}
			check(r)
		})
	}
	run("hold", func(env *fleetsim.Env) (*fleetsim.Result, error) { return fleetsim.Hold(ctx, env, 8) }, func(r *fleetsim.Result) {
		if got := figure(t, r, "connected"); got != 8 {
			t.Errorf("connected = %v, want 8", got)
		}
	})
	run("fanout", func(env *fleetsim.Env) (*fleetsim.Result, error) {
		return fleetsim.Fanout(ctx, env, 8, 20, 500*time.Millisecond)
	}, func(r *fleetsim.Result) {
		if got, want := figure(t, r, "deliveries"), figure(t, r, "deliveries expected"); got != want || got == 0 {
			t.Errorf("deliveries = %v, want %v", got, want)
		}
	})
	run("ingest", func(env *fleetsim.Env) (*fleetsim.Result, error) {
		return fleetsim.Ingest(ctx, env, 4, 5, 50, 300*time.Millisecond)
	}, func(r *fleetsim.Result) {
		if figure(t, r, "ops applied") == 0 {
			t.Error("no ops applied")
		}
		if got, acked := figure(t, r, "throughput projected"), figure(t, r, "throughput"); got <= 0 || got > acked {
			t.Errorf("projected throughput %v, acked %v: want 0 < projected <= acked", got, acked)
		}
	})
	run("storm", func(env *fleetsim.Env) (*fleetsim.Result, error) { return fleetsim.Storm(ctx, env, 8, 10, 10) }, func(r *fleetsim.Result) {
		// Two flights of four devices: each device pulls the ground's 10
		// notes and its three colleagues' 10 each.
		if got := figure(t, r, "ops pulled"); got != 8*(10+3*10) {
			t.Errorf("ops pulled = %v, want %v", got, 8*(10+3*10))
		}
	})
	run("replication", func(env *fleetsim.Env) (*fleetsim.Result, error) {
		es, err := fleetsim.LoadNDJSON("../testdata/demo.ndjson")
		if err != nil {
			return nil, err
		}
		return fleetsim.Replication(ctx, env, "wire", es, 5)
	}, func(r *fleetsim.Result) {
		if got := figure(t, r, "(a) enquiries pulled"); got != 12 {
			t.Errorf("enquiries pulled = %v, want 12", got)
		}
		if got := figure(t, r, "(a) ops pulled"); got != 24 {
			t.Errorf("ops pulled = %v, want 24 (create + assign each)", got)
		}
		// The edits are projected after their acks, never before.
		if proj, ack := figure(t, r, "(b) edits projected"), figure(t, r, "(b) push edits"); proj < ack {
			t.Errorf("edits projected at %v ms, before their ack at %v ms", proj, ack)
		}
	})
}
