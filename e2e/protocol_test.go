package e2e

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/klauspost/compress/zstd"

	"github.com/cabincare/cabincare/server"
	"github.com/cabincare/cabincare/syncproto"
)

const testMaxFrame = 64 << 10

// rawClient speaks the sync protocol by hand, to misbehave on purpose.
type rawClient struct {
	t     testing.TB
	ws    *websocket.Conn
	codec *syncproto.Codec
}

func dialSync(t testing.TB, g *ground) *rawClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+g.addr+"/sync", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &rawClient{t: t, ws: ws, codec: syncproto.NewCodec(syncproto.DefaultMaxFrame, true)}
}

func (r *rawClient) send(ft syncproto.FrameType, msg any) {
	r.t.Helper()
	b, err := r.codec.Encode(ft, msg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.sendRaw(b)
}

func (r *rawClient) sendRaw(b []byte) {
	r.t.Helper()
	if err := r.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		r.t.Fatal(err)
	}
}

// next reads frames until one of type want (skipping heartbeats), failing on
// anything else.
func (r *rawClient) next(want syncproto.FrameType, into any) {
	r.t.Helper()
	for {
		_ = r.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, b, err := r.ws.ReadMessage()
		if err != nil {
			r.t.Fatalf("waiting for %s: %v", want, err)
		}
		f, err := r.codec.Decode(b)
		if err != nil {
			r.t.Fatal(err)
		}
		if f.Type != want && (f.Type == syncproto.FrameHeartbeat || f.Type == syncproto.FrameChanges || f.Type == syncproto.FrameReady) {
			continue // interleaved with what the test waits for
		}
		if f.Type != want {
			r.t.Fatalf("got %s frame %s, want %s", f.Type, f.Payload, want)
		}
		if into != nil {
			if err := f.Unmarshal(into); err != nil {
				r.t.Fatal(err)
			}
		}
		return
	}
}

// expectRefusal reads until the server's ERROR frame, checks its code, and
// then checks that the server closes the connection.
func (r *rawClient) expectRefusal(code string) {
	r.t.Helper()
	var e syncproto.Error
	r.next(syncproto.FrameError, &e)
	if e.Code != code || e.Message == "" {
		r.t.Fatalf("error frame = %+v, want code %s with a message", e, code)
	}
	_ = r.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := r.ws.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Text != code {
				r.t.Fatalf("close reason %q, want %q", ce.Text, code)
			}
			return
		}
	}
}

// refusal reads until the ground closes the connection and returns the
// code of the ERROR frame it sent first ("" if none came).
func (r *rawClient) refusal() string {
	r.t.Helper()
	code := ""
	for {
		_ = r.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := r.ws.ReadMessage()
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				r.t.Fatal("the ground did not close the connection within 10 s")
			}
			return code
		}
		if f, err := r.codec.Decode(b); err == nil && f.Type == syncproto.FrameError && code == "" {
			var e syncproto.Error
			if err := f.Unmarshal(&e); err != nil || e.Message == "" {
				r.t.Fatalf("error frame %s without a message", f.Payload)
			}
			code = e.Code
		}
	}
}

func (r *rawClient) hello(creds deviceCreds, flights map[string]uint64) syncproto.Welcome {
	r.t.Helper()
	r.send(syncproto.FrameHello, &syncproto.Hello{Protocol: syncproto.ProtocolVersion, DeviceID: creds.ID, Token: creds.Token, Flights: flights})
	var w syncproto.Welcome
	r.next(syncproto.FrameWelcome, &w)
	return w
}

// Ensure each kind of bad handshake gets its error code and a clean close,
// and the server keeps serving everyone else.
func TestSyncRefusesBadHandshakes(t *testing.T) {
	t.Parallel()
	g := startGroundWith(t, func(c *server.Config) {
		c.Hub.HelloTimeout = time.Second
		c.Hub.MaxFrame = testMaxFrame
	})
	creds := g.newDevice("tablet-1")
	bomb := func() []byte {
		enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
		payload := enc.EncodeAll(bytes.Repeat([]byte(" "), 4<<20), nil)
		if len(payload) >= testMaxFrame {
			t.Fatalf("bomb is %d bytes, want it under the frame limit", len(payload))
		}
		return append([]byte{byte(syncproto.FrameHello), 1}, payload...)
	}

	for _, tc := range []struct {
		name string
		code string
		act  func(r *rawClient)
	}{
		{"ErrProtocolVersion", syncproto.CodeProtocolVersion, func(r *rawClient) {
			r.send(syncproto.FrameHello, &syncproto.Hello{Protocol: 99, DeviceID: creds.ID, Token: creds.Token})
		}},
		{"ErrBadToken", syncproto.CodeUnauthorized, func(r *rawClient) {
			r.send(syncproto.FrameHello, &syncproto.Hello{Protocol: syncproto.ProtocolVersion, DeviceID: creds.ID, Token: "wrong"})
		}},
		{"ErrUnknownDevice", syncproto.CodeUnauthorized, func(r *rawClient) {
			r.send(syncproto.FrameHello, &syncproto.Hello{Protocol: syncproto.ProtocolVersion, DeviceID: uuid.NewString(), Token: creds.Token})
		}},
		{"ErrNotHelloFirst", syncproto.CodeProtocol, func(r *rawClient) {
			r.send(syncproto.FramePush, &syncproto.Push{Batch: 1})
		}},
		{"ErrUnknownFrameType", syncproto.CodeBadFrame, func(r *rawClient) { r.sendRaw([]byte{200, 0, '{', '}'}) }},
		{"ErrGarbledFrame", syncproto.CodeBadFrame, func(r *rawClient) { r.sendRaw([]byte{byte(syncproto.FrameHello), 1, 0xde, 0xad, 0xbe, 0xef}) }},
		{"ErrMalformedJSON", syncproto.CodeBadFrame, func(r *rawClient) { r.sendRaw([]byte{byte(syncproto.FrameHello), 0, '{', 'x'}) }},
		{"ErrTextMessage", syncproto.CodeBadFrame, func(r *rawClient) { _ = r.ws.WriteMessage(websocket.TextMessage, []byte("hello")) }},
		{"ErrOversizedFrame", syncproto.CodeTooLarge, func(r *rawClient) {
			r.sendRaw(append([]byte{byte(syncproto.FrameHello), 0}, bytes.Repeat([]byte("x"), testMaxFrame+100)...))
		}},
		{"ErrZstdBomb", syncproto.CodeTooLarge, func(r *rawClient) { r.sendRaw(bomb()) }},
		{"ErrSilentClient", syncproto.CodeTimeout, func(r *rawClient) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dialSync(t, g)
			tc.act(r)
			r.expectRefusal(tc.code)
		})
	}

	// The device itself still syncs fine afterwards.
	r := dialSync(t, g)
	w := r.hello(creds, map[string]uint64{})
	if w.Epoch == "" || w.Protocol != syncproto.ProtocolVersion {
		t.Fatalf("welcome = %+v", w)
	}
}

// Ensure bad frames inside a session are refused with a code and change
// nothing: a push for another flight's enquiry, a replayed batch, an ack for
// changes never sent, a push over the batch limit; and that a flood of tiny
// frames does not hurt other devices.
func TestSyncRefusesBadFramesInSession(t *testing.T) {
	t.Parallel()
	g := startGround(t)
	mine, enq := g.seed("KL0641", "tw-1")
	_, foreign := g.seed("KL0642", "tw-2")
	creds := g.newDevice("tablet-1")

	r := dialSync(t, g)
	r.hello(creds, map[string]uint64{mine: 0})
	var ch syncproto.Changes
	r.next(syncproto.FrameChanges, &ch)
	r.send(syncproto.FrameChangesAck, &syncproto.ChangesAck{Flight: mine, Cursor: ch.Cursor})
	r.next(syncproto.FrameReady, nil)

	note := func(enquiry string) syncproto.Op {
		return syncproto.Op{ID: syncproto.NewOpID(), Enquiry: uuid.MustParse(enquiry), Kind: syncproto.KindNote,
			HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0), Actor: syncproto.Actor{Type: syncproto.ActorDevice, ID: creds.ID},
			Data: syncproto.MustData(syncproto.NoteData{Text: "hello"})}
	}
	foreignBefore := g.enquiry(foreign)
	good, bad := note(enq), note(foreign)
	impostor := note(enq)
	impostor.Actor.ID = uuid.NewString()
	r.send(syncproto.FramePush, &syncproto.Push{Batch: 1, Ops: []syncproto.Op{bad, good, impostor}})
	var ack syncproto.PushAck
	r.next(syncproto.FramePushAck, &ack)
	want := []struct{ result, code string }{
		{syncproto.ResultRefused, syncproto.CodeOutOfScope},
		{syncproto.ResultApplied, ""},
		{syncproto.ResultRefused, syncproto.CodeForbidden},
	}
	for i, w := range want {
		if got := ack.Results[i]; got.Result != w.result || got.Code != w.code || got.ID != []syncproto.Op{bad, good, impostor}[i].ID {
			t.Fatalf("result %d = %+v, want %s %s", i, got, w.result, w.code)
		}
	}
	if after := g.enquiry(foreign); len(after.History) != len(foreignBefore.History) {
		t.Fatal("a refused op changed another flight's enquiry")
	}

	// A replayed batch: every op answered duplicate, nothing stored twice.
	r.send(syncproto.FramePush, &syncproto.Push{Batch: 1, Ops: []syncproto.Op{good}})
	r.next(syncproto.FramePushAck, &ack)
	if ack.Results[0].Result != syncproto.ResultDuplicate {
		t.Fatalf("replayed op = %+v, want duplicate", ack.Results[0])
	}
	if n := len(g.enquiry(enq).Notes); n != 1 {
		t.Fatalf("notes = %d after a replay, want 1", n)
	}

	// A flood of tiny frames from one device.
	for range 2000 {
		r.send(syncproto.FrameHeartbeat, &syncproto.Heartbeat{})
	}
	other := startCabin(t, g, "tablet-2")
	other.api("PUT", "/flight", map[string]string{"flight_id": mine}, 200, nil)
	eventually(t, 5*time.Second, "another tablet syncs during the flood", func() bool { return other.hasEnquiry(enq) })

	// An ack for a cursor never sent ends the session with a protocol error.
	r.send(syncproto.FrameChangesAck, &syncproto.ChangesAck{Flight: mine, Cursor: 1 << 40})
	r.expectRefusal(syncproto.CodeProtocol)

	// A push over the batch limit is refused whole.
	r2 := dialSync(t, g)
	r2.hello(creds, map[string]uint64{mine: 0})
	ops := make([]syncproto.Op, syncproto.DefaultMaxBatch+1)
	for i := range ops {
		ops[i] = note(enq)
	}
	r2.send(syncproto.FramePush, &syncproto.Push{Batch: 1, Ops: ops})
	r2.expectRefusal(syncproto.CodeTooLarge)
	if n := len(g.enquiry(enq).Notes); n != 1 {
		t.Fatalf("notes = %d after a refused push, want 1", n)
	}
}
