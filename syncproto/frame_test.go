package syncproto

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/klauspost/compress/zstd"
)

// sampleOps returns n valid ops of every kind, as a device or the server
// would carry them in Push and Changes.
func sampleOps(n int) []Op {
	all := []Op{
		opCreate(1, at(1)),
		opAssign(2, at(2), "TP123-20251009"),
		opAck(3, at(3), device1),
		opNote(4, at(4), device1, "Passenger asked for the vegetarian meal <again> & thanked us"),
		opOutcome(5, at(5), device2, StatusResolved),
		opRecall(6, at(6)),
		opClose(7, at(7), true, "answered on the ground"),
	}
	// A crew op names the crew member signed in: the encodings must keep it.
	all[3].Actor.Staff = "10001"
	out := make([]Op, 0, n)
	for i := range n {
		op := all[i%len(all)]
		op.ID = idN(100 + i)
		out = append(out, op)
	}
	return out
}

func sampleState() DeviceState {
	return DeviceState{
		AppVersion: "1.4.2", Outbox: 3, OldestMillis: baseMillis - 60_000, DeadLetters: 1,
		HLC: at(9), Clock: baseMillis + 9, LastPush: baseMillis, LastPull: baseMillis - 5,
		LastError: "dial tcp: i/o timeout", StoreBytes: 1 << 20,
		Cursors: map[string]uint64{"TP123-20251009": 41, "TP456-20251009": 7},
	}
}

// frameCase is one message of each frame type, with a constructor for the
// value to decode it into.
type frameCase struct {
	name string
	t    FrameType
	msg  any
	new  func() any
}

func frameCases() []frameCase {
	st := sampleState()
	return []frameCase{
		{"Hello", FrameHello, &Hello{Protocol: ProtocolVersion, DeviceID: "tab-1", Token: "s3cr3t-token", Epoch: "ep-1",
			Flights: map[string]uint64{"TP123-20251009": 41, "TP456-20251009": 0}, State: st}, func() any { return new(Hello) }},
		{"Welcome", FrameWelcome, &Welcome{Protocol: ProtocolVersion, Epoch: "ep-1", SessionID: "sess-9", HLC: at(10), Clock: baseMillis + 10,
			HeartbeatMillis: DefaultHeartbeat.Milliseconds(), MaxFrame: DefaultMaxFrame, MaxBatch: DefaultMaxBatch, Resync: true,
			Flights: map[string]uint64{"TP123-20251009": 41}}, func() any { return new(Welcome) }},
		{"Push", FramePush, &Push{Batch: 12, Ops: sampleOps(20)}, func() any { return new(Push) }},
		{"PushEmpty", FramePush, &Push{Batch: 13, Ops: []Op{}}, func() any { return new(Push) }},
		{"PushAck", FramePushAck, &PushAck{Batch: 12, Results: []OpResult{
			{ID: idN(1), Result: ResultApplied},
			{ID: idN(2), Result: ResultDuplicate},
			{ID: idN(3), Result: ResultRefused, Code: CodeIllegalTransition, Message: "cannot acknowledge an enquiry that is closed"},
		}}, func() any { return new(PushAck) }},
		{"Changes", FrameChanges, &Changes{Flight: "TP123-20251009", Ops: sampleOps(40), Cursor: 1 << 40, More: true}, func() any { return new(Changes) }},
		{"ChangesAck", FrameChangesAck, &ChangesAck{Flight: "TP123-20251009", Cursor: 1 << 40}, func() any { return new(ChangesAck) }},
		{"Ready", FrameReady, &Ready{Cursors: map[string]uint64{"TP123-20251009": 99, "TP456-20251009": 3}}, func() any { return new(Ready) }},
		{"HeartbeatDevice", FrameHeartbeat, &Heartbeat{State: &st}, func() any { return new(Heartbeat) }},
		{"HeartbeatServer", FrameHeartbeat, &Heartbeat{Clock: baseMillis, HLC: at(3)}, func() any { return new(Heartbeat) }},
		{"Subscribe", FrameSubscribe, &Subscribe{Flights: map[string]uint64{"TP789-20251010": 0}}, func() any { return new(Subscribe) }},
		{"Error", FrameError, &Error{Code: CodeProtocolVersion, Message: "protocol 2 is not supported; this server speaks 1"}, func() any { return new(Error) }},
		{"Roster", FrameRoster, &Roster{Version: 7, Crew: []RosterEntry{{StaffNumber: "KL1234", Name: "Carla", PINHash: "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA"}}}, func() any { return new(Roster) }},
	}
}

// wantCode fails unless err is an *Error with the given code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	var perr *Error
	if !errors.As(err, &perr) {
		tb.Fatalf("err = %v (%T), want an *Error with code %q", err, err, code)
	}
	if perr.Code != code {
		tb.Fatalf("code = %q, want %q (%v)", perr.Code, code, err)
	}
}

// TestCodec_RoundTrip ensures every frame type survives Encode, Decode and
// Unmarshal, with and without compression.
func TestCodec_RoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		c := NewCodec(DefaultMaxFrame, compress)
		for _, tc := range frameCases() {
			t.Run(fmt.Sprintf("%s/Compress=%v", tc.name, compress), func(t *testing.T) {
				payload := wantPayload(t, tc.msg)
				b, err := c.Encode(tc.t, tc.msg)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				if got, want := FrameType(b[0]), tc.t; got != want {
					t.Errorf("type byte = %d, want %d", got, want)
				}
				// Compression is used when it is on, the payload is over
				// the threshold, and it pays; a batch of ops always pays.
				zipped := b[1] == flagZstd
				switch {
				case b[1] != 0 && b[1] != flagZstd:
					t.Errorf("flags = %#x, want 0 or %#x", b[1], flagZstd)
				case zipped && (!compress || len(payload) < minCompress):
					t.Errorf("compressed a %d-byte payload with Compress=%v", len(payload), compress)
				case zipped && len(b) >= frameHeaderLen+len(payload):
					t.Errorf("compressed frame is %d bytes, payload %d: compression did not pay", len(b), len(payload))
				case !zipped && compress && len(payload) >= 1024:
					t.Errorf("did not compress a %d-byte payload", len(payload))
				case !zipped && !bytes.Equal(b[frameHeaderLen:], payload):
					t.Errorf("uncompressed payload = %s, want %s", b[frameHeaderLen:], payload)
				}

				f, err := c.Decode(b)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got, want := f.Type, tc.t; got != want {
					t.Errorf("Type = %s, want %s", got, want)
				}
				if !bytes.Equal(f.Payload, payload) {
					t.Errorf("Payload = %s, want %s", f.Payload, payload)
				}
				got := tc.new()
				if err := f.Unmarshal(got); err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				if !reflect.DeepEqual(got, tc.msg) {
					t.Errorf("round trip:\n got: %+v\nwant: %+v", got, tc.msg)
				}
			})
		}
	}
}

// TestCodec_CompressionThreshold ensures payloads under minCompress go
// uncompressed even when compression is on, and larger ones compressed.
func TestCodec_CompressionThreshold(t *testing.T) {
	c := NewCodec(DefaultMaxFrame, true)
	base := len(mustJSON(t, &Error{Code: "x"}))
	for _, tc := range []struct {
		size      int
		wantFlags byte
	}{
		{base, 0},
		{minCompress - 1, 0},
		{minCompress, flagZstd},
		{4 * minCompress, flagZstd},
	} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			msg := &Error{Code: "x", Message: strings.Repeat("a", tc.size-base)}
			if got := len(mustJSON(t, msg)); got != tc.size {
				t.Fatalf("fixture payload is %d bytes, want %d", got, tc.size)
			}
			b, err := c.Encode(FrameError, msg)
			if err != nil {
				t.Fatal(err)
			}
			if got := b[1]; got != tc.wantFlags {
				t.Errorf("flags = %#x, want %#x", got, tc.wantFlags)
			}
			f, err := c.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			var got Error
			if err := f.Unmarshal(&got); err != nil {
				t.Fatal(err)
			}
			if got != *msg {
				t.Errorf("got %+v, want %+v", got, *msg)
			}
		})
	}
}

// TestCodec_Encode_Limit ensures Encode refuses what the peer would refuse.
func TestCodec_Encode_Limit(t *testing.T) {
	t.Run("ErrTooLarge", func(t *testing.T) {
		for _, compress := range []bool{false, true} {
			c := NewCodec(1024, compress)
			// Zeros compress to nothing, but the limit is on the payload:
			// the peer must not have to inflate more than MaxFrame.
			_, err := c.Encode(FrameError, &Error{Code: "x", Message: strings.Repeat("0", 1024)})
			wantCode(t, err, CodeTooLarge)
		}
	})

	t.Run("ErrUnsupported", func(t *testing.T) {
		c := NewCodec(1024, false)
		_, err := c.Encode(FrameHeartbeat, map[string]any{"f": func() {}})
		var uerr *json.UnsupportedTypeError
		if !errors.As(err, &uerr) {
			t.Fatalf("err = %v, want a *json.UnsupportedTypeError", err)
		}
		if got := ErrorCode(err); got != CodeInternal {
			t.Errorf("code = %q, want %q", got, CodeInternal)
		}
	})

	// Ensure a frame Encode produces is never refused by Decode, even when
	// the payload does not compress and sits right at the limit.
	t.Run("IncompressibleAtLimit", func(t *testing.T) {
		const maxFrame = 512
		r := rand.New(rand.NewPCG(5, 6))
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_.:;!?"
		base := len(mustJSON(t, &Error{Code: "x"}))
		for _, size := range []int{minCompress, 200, maxFrame - 1, maxFrame} {
			msg := make([]byte, size-base)
			for i := range msg {
				msg[i] = alphabet[r.IntN(len(alphabet))]
			}
			for _, compress := range []bool{false, true} {
				c := NewCodec(maxFrame, compress)
				b, err := c.Encode(FrameError, &Error{Code: "x", Message: string(msg)})
				if err != nil {
					t.Fatalf("size %d: Encode: %v", size, err)
				}
				if len(b) > maxFrame+frameHeaderLen {
					t.Errorf("size %d, compress %v: frame of %d bytes is over MaxFrame+header %d", size, compress, len(b), maxFrame+frameHeaderLen)
				}
				if _, err := c.Decode(b); err != nil {
					t.Errorf("size %d, compress %v: Decode of an encoded frame: %v", size, compress, err)
				}
			}
		}
	})
}

// TestCodec_Decode_Malformed ensures every malformed frame is refused with
// an *Error of the right code.
func TestCodec_Decode_Malformed(t *testing.T) {
	c := NewCodec(1024, true)
	valid, err := c.Encode(FramePush, &Push{Batch: 1, Ops: sampleOps(3)})
	if err != nil {
		t.Fatal(err)
	}
	if valid[1] != flagZstd {
		t.Fatal("fixture frame is not compressed")
	}
	withHeader := func(t FrameType, flags byte, payload []byte) []byte {
		return append([]byte{byte(t), flags}, payload...)
	}
	zstdOf := func(b []byte) []byte { return c.enc.EncodeAll(b, nil) }
	// A zstd frame whose header declares a window far past MaxFrame.
	hugeWindow := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x78} // magic, FHD (no FCS), window descriptor 2^27+
	hugeWindow = append(hugeWindow, zstdOf([]byte("{}"))[6:]...)

	for _, tc := range []struct {
		name string
		in   []byte
		code string
	}{
		{"ErrBadFrame/Nil", nil, CodeBadFrame},
		{"ErrBadFrame/Empty", []byte{}, CodeBadFrame},
		{"ErrBadFrame/OneByte", []byte{byte(FramePush)}, CodeBadFrame},
		{"ErrBadFrame/TypeZero", withHeader(0, 0, []byte("{}")), CodeBadFrame},
		{"ErrBadFrame/TypeAfterLast", withHeader(FrameRoster+1, 0, []byte("{}")), CodeBadFrame},
		{"ErrBadFrame/Type255", withHeader(255, 0, []byte("{}")), CodeBadFrame},
		{"ErrBadFrame/UnknownFlag", withHeader(FramePush, 0x02, []byte("{}")), CodeBadFrame},
		{"ErrBadFrame/UnknownHighFlag", withHeader(FramePush, 0x80|flagZstd, valid[2:]), CodeBadFrame},
		{"ErrBadFrame/GarbageZstd", withHeader(FramePush, flagZstd, []byte("this is not zstd at all, just text")), CodeBadFrame},
		{"ErrBadFrame/ZstdMagicThenGarbage", withHeader(FramePush, flagZstd, []byte{0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff}), CodeBadFrame},
		{"ErrBadFrame/TruncatedZstd", valid[:len(valid)/2], CodeBadFrame},
		{"ErrBadFrame/ZstdTrailingGarbage", append(append([]byte(nil), valid...), 0xde, 0xad, 0xbe, 0xef), CodeBadFrame},
		{"ErrBadFrame/FlippedByte", func() []byte {
			b := append([]byte(nil), valid...)
			b[len(b)-3] ^= 0xff // in the checksum or last block
			return b
		}(), CodeBadFrame},
		{"ErrTooLarge/Frame", withHeader(FramePush, 0, bytes.Repeat([]byte(" "), 1025)), CodeTooLarge},
		{"ErrTooLarge/CompressedFrame", withHeader(FramePush, flagZstd, bytes.Repeat([]byte{0x55}, 1025)), CodeTooLarge},
		{"ErrTooLarge/Inflates", withHeader(FramePush, flagZstd, zstdOf(bytes.Repeat([]byte(" "), 1025))), CodeTooLarge},
		{"ErrTooLarge/Window", withHeader(FramePush, flagZstd, hugeWindow), CodeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := c.Decode(tc.in)
			wantCode(t, err, tc.code)
			if f.Type != 0 || f.Payload != nil {
				t.Errorf("Decode returned a frame with its error: %+v", f)
			}
		})
	}

	// Ensure the limits are inclusive: MaxFrame bytes is fine.
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"OK/FrameAtLimit", withHeader(FramePush, 0, bytes.Repeat([]byte(" "), 1024))},
		{"OK/InflatesToLimit", withHeader(FramePush, flagZstd, zstdOf(bytes.Repeat([]byte(" "), 1024)))},
		{"OK/EmptyPayload", withHeader(FrameReady, 0, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Decode(tc.in); err != nil {
				t.Fatalf("Decode = %v, want nil", err)
			}
		})
	}
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestCodec_Decode_Bomb ensures a small frame that inflates far past
// MaxFrame is refused as too large without inflating it.
func TestCodec_Decode_Bomb(t *testing.T) {
	const (
		maxFrame = 1 << 20
		bombSize = 64 << 20
		maxAlloc = 16 << 20
	)
	c := NewCodec(maxFrame, true)
	zeros := make([]byte, maxFrame)

	// The zstd frame states its size: the decoder can refuse up front.
	var sized bytes.Buffer
	w, err := zstd.NewWriter(&sized, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		t.Fatal(err)
	}
	w.ResetContentSize(&sized, bombSize)
	for range bombSize / maxFrame {
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// A streamed zstd frame does not state its size: only decoding tells.
	var streamed bytes.Buffer
	w.Reset(&streamed)
	for range bombSize / maxFrame {
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// A streamed frame with a window within the limit: the decoder has to
	// inflate block after block until it passes MaxFrame.
	var smallWindow bytes.Buffer
	sw, err := zstd.NewWriter(&smallWindow, zstd.WithWindowSize(maxFrame), zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		t.Fatal(err)
	}
	for range bombSize / maxFrame {
		if _, err := sw.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}

	// Many zstd frames, each within the limit on its own.
	one := c.enc.EncodeAll(zeros, nil)
	concatenated := bytes.Repeat(one, bombSize/maxFrame)

	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"SizeInHeader", sized.Bytes()},
		{"Streamed", streamed.Bytes()},
		{"StreamedSmallWindow", smallWindow.Bytes()},
		{"ConcatenatedFrames", concatenated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame := append([]byte{byte(FrameChanges), flagZstd}, tc.payload...)
			if len(frame) > 64<<10 {
				t.Fatalf("bomb is %d bytes, want a few KB", len(frame))
			}
			if len(frame) > maxFrame {
				t.Fatal("bomb is over MaxFrame before inflating: it tests nothing")
			}
			// Warm the decoder up so that its one-off buffers do not count.
			if _, err := c.Decode(append([]byte{byte(FrameChanges), flagZstd}, one...)); err != nil {
				t.Fatalf("warm-up Decode: %v", err)
			}
			var derr error
			n := allocated(func() { _, derr = c.Decode(frame) })
			wantCode(t, derr, CodeTooLarge)
			if n > maxAlloc {
				t.Errorf("Decode of a %d-byte bomb allocated %d MiB, want under %d MiB", len(frame), n>>20, maxAlloc>>20)
			}
			t.Logf("%d-byte frame inflating to %d MiB: refused after allocating %.1f MiB", len(frame), bombSize>>20, float64(n)/(1<<20))
		})
	}
}

// TestFrame_Unmarshal ensures payloads are decoded strictly.
func TestFrame_Unmarshal(t *testing.T) {
	hello := mustJSON(t, frameCases()[0].msg)
	for _, tc := range []struct {
		name    string
		payload string
		into    func() any
		ok      bool
	}{
		{"OK", `{"batch":1}`, func() any { return new(Push) }, true},
		{"ErrBadFrame/OpsInJSON", `{"batch":1,"ops":[]}`, func() any { return new(Push) }, false},
		{"OK/TrailingSpace", "{\"batch\":1} \n\t", func() any { return new(Push) }, true},
		{"ErrBadFrame/TrailingObject", `{"batch":1}{}`, func() any { return new(Push) }, false},
		{"ErrBadFrame/TrailingText", `{"batch":1} x`, func() any { return new(Push) }, false},
		{"ErrBadFrame/TrailingBrace", `{"batch":1}}`, func() any { return new(Push) }, false},
		{"ErrBadFrame/TrailingBracket", `{"batch":1}]`, func() any { return new(Push) }, false},
		{"ErrBadFrame/TrailingComma", `{"batch":1},`, func() any { return new(Push) }, false},
		{"ErrBadFrame/Empty", ``, func() any { return new(Push) }, false},
		{"ErrBadFrame/Truncated", `{"batch":1`, func() any { return new(Push) }, false},
		{"ErrBadFrame/NotJSON", `batch=1`, func() any { return new(Push) }, false},
		{"ErrBadFrame/Array", `[1,2]`, func() any { return new(Push) }, false},
		{"ErrBadFrame/WrongType", `{"batch":"one"}`, func() any { return new(Push) }, false},
		{"ErrBadFrame/Negative", `{"batch":-1}`, func() any { return new(Push) }, false},
		{"ErrBadFrame/UnknownField", `{"batch":1,"priority":9}`, func() any { return new(Push) }, false},
		{"ErrBadFrame/BadOpID", `{"batch":1,"ops":[{"id":"not-a-uuid"}]}`, func() any { return new(Push) }, false},
		{"ErrBadFrame/BadNestedField", `{"batch":1,"ops":[{"kind":"note","colour":"red"}]}`, func() any { return new(Push) }, false},
		{"ErrBadFrame/WrongMessage", string(hello), func() any { return new(PushAck) }, false},
		{"ErrBadFrame/HelloAsWelcome", string(hello), func() any { return new(Welcome) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			into := tc.into()
			f := Frame{Type: FramePush, Payload: []byte(tc.payload)}
			if _, ok := into.(opsMessage); ok {
				f.Payload = opsPayload([]byte(tc.payload), nil)
			}
			err := f.Unmarshal(into)
			if tc.ok {
				if err != nil {
					t.Fatalf("Unmarshal = %v, want nil", err)
				}
				return
			}
			wantCode(t, err, CodeBadFrame)
		})
	}
}

// TestFrameType ensures names and Known agree on the protocol's types.
func TestFrameType(t *testing.T) {
	want := map[FrameType]string{
		FrameHello: "hello", FrameWelcome: "welcome", FramePush: "push", FramePushAck: "push_ack",
		FrameChanges: "changes", FrameChangesAck: "changes_ack", FrameReady: "ready",
		FrameHeartbeat: "heartbeat", FrameSubscribe: "subscribe", FrameError: "error",
		FrameRoster: "roster",
	}
	for i := range 256 {
		ft := FrameType(i)
		name, known := want[ft]
		if got := ft.Known(); got != known {
			t.Errorf("FrameType(%d).Known() = %v, want %v", i, got, known)
		}
		if !known {
			name = "unknown"
		}
		if got := ft.String(); got != name {
			t.Errorf("FrameType(%d).String() = %q, want %q", i, got, name)
		}
	}
}

// TestCodec_Concurrent ensures one codec serves many connections at once.
func TestCodec_Concurrent(t *testing.T) {
	c := NewCodec(DefaultMaxFrame, true)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				msg := &Push{Batch: uint64(g*1000 + i), Ops: sampleOps(1 + i%10)}
				b, err := c.Encode(FramePush, msg)
				if err != nil {
					t.Error(err)
					return
				}
				f, err := c.Decode(b)
				if err != nil {
					t.Error(err)
					return
				}
				var got Push
				if err := f.Unmarshal(&got); err != nil {
					t.Error(err)
					return
				}
				if got.Batch != msg.Batch || len(got.Ops) != len(msg.Ops) || got.Ops[len(got.Ops)-1].ID != msg.Ops[len(msg.Ops)-1].ID {
					t.Errorf("goroutine %d frame %d: got batch %d with %d ops", g, i, got.Batch, len(got.Ops))
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestError ensures codes survive wrapping and internal errors never leak.
func TestError(t *testing.T) {
	err := fmt.Errorf("apply op: %w", Errorf(CodeUnknownEnquiry, "enquiry %s does not exist", uuid.Nil))
	if got, want := ErrorCode(err), CodeUnknownEnquiry; got != want {
		t.Errorf("ErrorCode(wrapped) = %q, want %q", got, want)
	}
	if got, want := ErrorMessage(err), "enquiry 00000000-0000-0000-0000-000000000000 does not exist"; got != want {
		t.Errorf("ErrorMessage(wrapped) = %q, want %q", got, want)
	}
	if got, want := err.Error(), "apply op: unknown_enquiry: enquiry 00000000-0000-0000-0000-000000000000 does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	internal := errors.New("open /var/lib/cabincare/db: permission denied")
	if got, want := ErrorCode(internal), CodeInternal; got != want {
		t.Errorf("ErrorCode(plain) = %q, want %q", got, want)
	}
	if got := ErrorMessage(internal); strings.Contains(got, "/var/lib") {
		t.Errorf("ErrorMessage(plain) = %q leaks the internal error", got)
	}
	if got, want := ErrorCode(nil), CodeInternal; got != want {
		t.Errorf("ErrorCode(nil) = %q, want %q", got, want)
	}

	for code, want := range map[string]int{
		CodeInvalid: 400, CodeInvalidJSON: 400, CodeBadFrame: 400, CodeProtocol: 400,
		CodeUnauthorized: 401, CodeForbidden: 403, CodeOutOfScope: 403, CodeRevoked: 403,
		CodeNotFound: 404, CodeUnknownEnquiry: 404, CodeConflict: 409, CodeIllegalTransition: 409,
		CodeTooLarge: 413, CodeProtocolVersion: 426, CodeTimeout: 408,
		CodeUnavailable: 503, CodeShuttingDown: 503, CodeSlowConsumer: 500, CodeInternal: 500, "no_such_code": 500,
	} {
		if got := HTTPStatus(code); got != want {
			t.Errorf("HTTPStatus(%q) = %d, want %d", code, got, want)
		}
	}
}

// wantPayload is the payload Encode must write for msg: its JSON, or for
// a message with ops the JSON of its other fields and the ops.
func wantPayload(tb testing.TB, msg any) []byte {
	tb.Helper()
	if m, ok := msg.(opsMessage); ok {
		return opsPayload(mustJSON(tb, msg), *m.opList())
	}
	return mustJSON(tb, msg)
}

func opsPayload(header []byte, ops []Op) []byte {
	return AppendOps(append(binary.AppendUvarint(nil, uint64(len(header))), header...), ops)
}
