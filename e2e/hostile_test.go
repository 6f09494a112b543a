package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/klauspost/compress/zstd"

	"github.com/cabincare/cabincare/server"
	"github.com/cabincare/cabincare/syncproto"
)

// groundState is what a hostile client must not change: the sequence head
// and every enquiry as listed.
func (g *ground) groundState() string {
	g.t.Helper()
	var ready struct{ Head uint64 }
	call(g.t, "GET", g.url()+"/readyz", "", nil, 200, &ready)
	var list json.RawMessage
	g.api("GET", "/enquiries", nil, 200, &list)
	return fmt.Sprintf("head=%d %s", ready.Head, list)
}

func (g *ground) goroutines() int {
	g.t.Helper()
	var ready struct{ Goroutines int }
	call(g.t, "GET", g.url()+"/readyz", "", nil, 200, &ready)
	return ready.Goroutines
}

// Ensure each hostile client gets a clear error code or a timeout, changes
// nothing, and leaves the ground serving a well-behaved tablet that stays
// connected through all of it: after each case, a change still reaches
// that tablet.
//
// Not parallel: it counts the process's goroutines (readyz), which the
// other tests' grounds and tablets would move; Go runs it before the
// parallel tests resume.
func TestHostileClientsLeaveOthersHealthy(t *testing.T) {
	const hb = time.Second // room for -race on a loaded machine: silence is 3 heartbeats
	g := startGroundWith(t, func(c *server.Config) {
		c.Hub.Heartbeat = hb
		c.Hub.HelloTimeout = 2 * time.Second
		c.Hub.MaxFrame = testMaxFrame
	})
	mine, enq := g.seed("KL0641", "tw-1")
	_, foreign := g.seed("KL0642", "tw-2")
	bystander := startCabin(t, g, "bystander")
	bystander.api("PUT", "/flight", map[string]string{"flight_id": mine}, 200, nil)
	eventually(t, 10*time.Second, "bystander synced", func() bool { return bystander.hasEnquiry(enq) })
	bystanderSession, _ := g.srv.Hub.Live(bystander.creds.ID)
	hostile := g.newDevice("hostile")
	note := func(enquiry string) syncproto.Op {
		return syncproto.Op{ID: syncproto.NewOpID(), Enquiry: uuid.MustParse(enquiry), Kind: syncproto.KindNote,
			HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0), Actor: syncproto.Actor{Type: syncproto.ActorDevice, ID: hostile.ID},
			Data: syncproto.MustData(syncproto.NoteData{Text: "hostile"})}
	}
	replayed := note(enq)
	// The one op the hostile device may legitimately store, before the
	// cases: a replay of it must change nothing.
	{
		r := dialSync(t, g)
		r.hello(hostile, map[string]uint64{mine: 0})
		r.send(syncproto.FramePush, &syncproto.Push{Batch: 1, Ops: []syncproto.Op{replayed}})
		var ack syncproto.PushAck
		r.next(syncproto.FramePushAck, &ack)
		if ack.Results[0].Result != syncproto.ResultApplied {
			t.Fatalf("first push = %+v", ack.Results[0])
		}
		r.ws.Close()
	}
	eventually(t, 10*time.Second, "bystander has the note", func() bool { return len(bystander.enquiry(enq).Notes) == 1 })
	baseGoroutines := g.goroutines()
	bomb := func() []byte {
		enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
		return append([]byte{byte(syncproto.FramePush), 1}, enc.EncodeAll(bytes.Repeat([]byte(" "), 8<<20), nil)...)
	}
	helloed := func(r *rawClient) { r.hello(hostile, map[string]uint64{mine: 0}) }

	for _, tc := range []struct {
		name string
		code string // the error code expected; "" for a per-op answer
		act  func(r *rawClient)
	}{
		{"WrongProtocolVersion", syncproto.CodeProtocolVersion, func(r *rawClient) {
			r.send(syncproto.FrameHello, &syncproto.Hello{Protocol: syncproto.ProtocolVersion + 1, DeviceID: hostile.ID, Token: hostile.Token})
		}},
		{"BadToken", syncproto.CodeUnauthorized, func(r *rawClient) {
			r.send(syncproto.FrameHello, &syncproto.Hello{Protocol: syncproto.ProtocolVersion, DeviceID: hostile.ID, Token: "stolen?"})
		}},
		{"UnknownTypeBeforeHello", syncproto.CodeBadFrame, func(r *rawClient) { r.sendRaw([]byte{77, 0, '{', '}'}) }},
		{"UnknownTypeInSession", syncproto.CodeBadFrame, func(r *rawClient) { helloed(r); r.sendRaw([]byte{77, 0, '{', '}'}) }},
		{"WrongDirectionInSession", syncproto.CodeProtocol, func(r *rawClient) {
			helloed(r)
			r.send(syncproto.FrameWelcome, &syncproto.Welcome{Protocol: syncproto.ProtocolVersion})
		}},
		{"MalformedPushInSession", syncproto.CodeBadFrame, func(r *rawClient) {
			helloed(r)
			r.sendRaw([]byte{byte(syncproto.FramePush), 0, '{', '"', 'o', 'p', 's', '"', ':', '['})
		}},
		{"OversizedFrameInSession", syncproto.CodeTooLarge, func(r *rawClient) {
			helloed(r)
			r.sendRaw(append([]byte{byte(syncproto.FramePush), 0}, bytes.Repeat([]byte("x"), testMaxFrame+1)...))
		}},
		{"ZstdBombInSession", syncproto.CodeTooLarge, func(r *rawClient) { helloed(r); r.sendRaw(bomb()) }},
		{"PushOverBatchLimit", syncproto.CodeTooLarge, func(r *rawClient) {
			helloed(r)
			ops := make([]syncproto.Op, syncproto.DefaultMaxBatch+1)
			for i := range ops {
				ops[i] = note(enq)
			}
			r.send(syncproto.FramePush, &syncproto.Push{Batch: 1, Ops: ops})
		}},
		{"SilentBeforeHello", syncproto.CodeTimeout, func(r *rawClient) {}},
		{"SilentAfterHello", syncproto.CodeTimeout, func(r *rawClient) {
			helloed(r)
			// Read what the ground sends, answer nothing, until it gives up.
		}},
		{"ReplayedBatch", "", func(r *rawClient) {
			helloed(r)
			r.send(syncproto.FramePush, &syncproto.Push{Batch: 7, Ops: []syncproto.Op{replayed}})
			var ack syncproto.PushAck
			r.next(syncproto.FramePushAck, &ack)
			if len(ack.Results) != 1 || ack.Results[0].Result != syncproto.ResultDuplicate {
				t.Errorf("replayed op = %+v, want duplicate", ack.Results)
			}
		}},
		{"OtherFlightsEnquiry", "", func(r *rawClient) {
			helloed(r)
			r.send(syncproto.FramePush, &syncproto.Push{Batch: 1, Ops: []syncproto.Op{note(foreign)}})
			var ack syncproto.PushAck
			r.next(syncproto.FramePushAck, &ack)
			if len(ack.Results) != 1 || ack.Results[0].Code != syncproto.CodeOutOfScope {
				t.Errorf("push for another flight = %+v, want refused out_of_scope", ack.Results)
			}
		}},
		{"FloodOfTinyFrames", "", func(r *rawClient) {
			helloed(r)
			for range 5000 {
				r.send(syncproto.FrameHeartbeat, &syncproto.Heartbeat{})
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := g.groundState()
			r := dialSync(t, g)
			start := time.Now()
			tc.act(r)
			if tc.code != "" {
				// A session the ground ends mid-way sometimes drops the
				// ERROR frame (TestSessionErrorAlwaysCarriesItsCode
				// shows that bug); what this test asserts is the close,
				// the code when it comes, and that nothing else suffers.
				if code := r.refusal(); code != tc.code && code != "" {
					t.Errorf("refused with %q, want %q", code, tc.code)
				} else if code == "" {
					t.Logf("the session closed without its ERROR frame (%s)", tc.code)
				}
			} else {
				r.ws.Close()
			}
			took := time.Since(start)
			if after := g.groundState(); after != before {
				t.Errorf("the hostile client changed the ground:\n before %s\n after  %s", before, after)
			}
			if tc.code == syncproto.CodeTimeout && took > 3*hb+2*time.Second {
				t.Errorf("timed out after %s", took)
			}
			// The bystander is still connected on its first session and
			// still receives changes.
			text := "after " + tc.name
			g.api("POST", "/enquiries/"+enq+"/notes", map[string]string{"text": text}, 201, nil)
			eventually(t, 5*time.Second, "bystander gets a change", func() bool {
				for _, n := range bystander.enquiry(enq).Notes {
					if n.Text == text {
						return true
					}
				}
				return false
			})
			if l, ok := g.srv.Hub.Live(bystander.creds.ID); !ok || l.SessionID != bystanderSession.SessionID {
				t.Errorf("the bystander lost its session")
			}
		})
	}
	// Nothing leaks: the goroutines come back to where they were.
	eventually(t, 10*time.Second, "goroutines back to the baseline", func() bool { return g.goroutines() <= baseGoroutines+5 })
	t.Logf("reliability: hostile clients: 14 cases refused or answered, ground unchanged, bystander served throughout")
}

// childEnv marks a test binary run by a test as a child process, for a
// scenario that may crash the process it runs in.
const childEnv = "E2E_CHILD"

// runChild runs the named test of this binary in a child process and
// returns its output and error.
func runChild(t *testing.T, name string, timeout time.Duration) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+name)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Ensure a ground that shuts down while tablets keep reconnecting stops
// cleanly: no sync session may start once the hub has begun to close (it
// would run on a store about to close, and its WaitGroup.Add races the
// hub's Wait, which panics with "WaitGroup is reused before previous Wait
// has returned"). The scenario runs in a child process, since the panic
// takes the process down; the race detector (go test -race) sees the race
// even when the panic does not come.
func TestGroundShutdownWhileTabletsReconnect(t *testing.T) {
	t.Parallel()
	if os.Getenv(childEnv) == t.Name() {
		shutdownWhileReconnecting(t)
		return
	}
	out, err := runChild(t, t.Name(), 40*time.Second)
	if err != nil || strings.Contains(out, "DATA RACE") || strings.Contains(out, "panic:") {
		excerpt := out
		if i := strings.Index(out, "panic:"); i >= 0 {
			excerpt = out[i:min(len(out), i+1500)]
		} else if i := strings.Index(out, "WARNING: DATA RACE"); i >= 0 {
			excerpt = out[i:min(len(out), i+2500)]
		}
		t.Fatalf("BUG: the ground does not shut down cleanly while tablets reconnect (%v; a kill after 40 s means the shutdown hung): "+
			"server/hub/hub.go ServeHTTP calls h.wg.Add(1) without checking h.closed under h.mu, so it races Hub.Close's h.wg.Wait, "+
			"and server/server.go Run closes the hub before the HTTP server stops accepting, so new sessions (each writing the store in its handshake) "+
			"keep arriving while Close waits for them:\n%s", err, excerpt)
	}
}

func shutdownWhileReconnecting(t *testing.T) {
	g := startGround(t)
	creds := g.newDevice("tablet-1")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codec := syncproto.NewCodec(syncproto.DefaultMaxFrame, false)
			b, _ := codec.Encode(syncproto.FrameHello, &syncproto.Hello{Protocol: syncproto.ProtocolVersion, DeviceID: creds.ID, Token: creds.Token})
			for {
				select {
				case <-stop:
					return
				default:
				}
				ws, _, err := websocket.DefaultDialer.Dial("ws://"+g.addr+"/sync", nil)
				if err != nil {
					time.Sleep(time.Millisecond)
					continue
				}
				_ = ws.WriteMessage(websocket.BinaryMessage, b)
				ws.Close()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	for range 8 {
		time.Sleep(30 * time.Millisecond)
		g.shutdown()
		g.start()
	}
	close(stop)
	wg.Wait()
}

// Ensure a session the ground ends for a protocol error always says why:
// an ERROR frame with the code, then the close, every time (a tablet
// that only sees the socket drop retries the same thing for ever).
func TestSessionErrorAlwaysCarriesItsCode(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	mine, _ := g.seed("KL0641", "tw-1")
	creds := g.newDevice("tablet-1")
	const rounds = 40
	lost := 0
	for range rounds {
		r := dialSync(t, g)
		r.hello(creds, map[string]uint64{mine: 0})
		r.send(syncproto.FrameWelcome, &syncproto.Welcome{Protocol: syncproto.ProtocolVersion})
		got := ""
		for {
			_ = r.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, b, err := r.ws.ReadMessage()
			if err != nil {
				break
			}
			if f, err := r.codec.Decode(b); err == nil && f.Type == syncproto.FrameError {
				var e syncproto.Error
				_ = f.Unmarshal(&e)
				got = e.Code
			}
		}
		if got != syncproto.CodeProtocol {
			lost++
		}
		r.ws.Close()
	}
	if lost > 0 {
		t.Fatalf("BUG: %d of %d sessions ended for a protocol error closed without the ERROR frame: server/hub/session.go run() cancels the "+
			"writer's context right after fail(), and the writer's select may take ctx.Done() over s.done and return without writing the error", lost, rounds)
	}
}
