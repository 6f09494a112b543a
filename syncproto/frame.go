package syncproto

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Frame layout, one per WebSocket binary message:
//
//	byte 0     frame type
//	byte 1     flags (flagZstd: the payload is one zstd frame)
//	bytes 2..  payload: the message as JSON (for Push and Changes, a
//	           uvarint length, the JSON of the other fields and the ops
//	           in the binary encoding), compressed when flagZstd
const (
	frameHeaderLen = 2
	flagZstd       = 1 << 0
	knownFlags     = flagZstd
)

// minCompress is the payload size under which compression costs more than
// it saves (heartbeats, acks).
const minCompress = 128

// Codec encodes and decodes frames. It is safe for concurrent use; one per
// process is enough.
type Codec struct {
	// MaxFrame bounds both the encoded frame and its decoded payload, so a
	// small frame that inflates to gigabytes (a zstd bomb) is refused
	// before it is allocated.
	MaxFrame int
	// Compress turns zstd on for outgoing frames (incoming ones are
	// decoded either way).
	Compress bool
	// Observe, if set, is told the payload and wire size of every frame
	// encoded (out) or decoded, for metrics. It must not block.
	Observe func(out bool, t FrameType, payload, wire int)

	enc *zstd.Encoder
	dec *zstd.Decoder
}

// NewCodec returns a codec with the given limit and compression.
func NewCodec(maxFrame int, compress bool) *Codec {
	// The default level, for catch-up pages too: on ops in columns the
	// better level saved 4% of the bytes for three to four times the CPU,
	// and a full pull is CPU-bound on the ground.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(fmt.Sprintf("syncproto: zstd writer: %v", err)) // fails only on bad options
	}
	// zstd windows are powers of two of at least 1 KiB, so a payload
	// within a MaxFrame under 2 KiB may still declare a window of up to
	// 2 KiB; the decoder's limit must allow that, and Decode checks
	// MaxFrame itself on the output.
	limit := uint64(max(maxFrame, 2*zstd.MinWindowSize))
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(limit), zstd.WithDecoderMaxWindow(limit), zstd.WithDecoderConcurrency(0))
	if err != nil {
		panic(fmt.Sprintf("syncproto: zstd reader: %v", err))
	}
	return &Codec{MaxFrame: maxFrame, Compress: compress, enc: enc, dec: dec}
}

// Frame is a decoded frame: its type and its JSON payload.
type Frame struct {
	Type    FrameType
	Payload []byte
}

// opsMessage is a message whose ops travel in the binary encoding: the
// payload is a uvarint length, the JSON of the message's other fields, and
// the ops (AppendOps).
type opsMessage interface {
	opList() *[]Op
}

// Encode marshals msg into a frame of type t. Push and Changes go by
// pointer.
func (c *Codec) Encode(t FrameType, msg any) ([]byte, error) {
	switch msg.(type) {
	case Push, Changes:
		// By value, json would write the header and drop the ops silently.
		return nil, fmt.Errorf("encode %s: pass %T by pointer", t, msg)
	}
	payload, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", t, err)
	}
	if m, ok := msg.(opsMessage); ok {
		hdr := payload
		payload = binary.AppendUvarint(nil, uint64(len(hdr)))
		payload = AppendOps(append(payload, hdr...), *m.opList())
	}
	if len(payload) > c.MaxFrame {
		return nil, Errorf(CodeTooLarge, "%s frame of %d bytes is over the %d byte limit", t, len(payload), c.MaxFrame)
	}
	out := make([]byte, frameHeaderLen, frameHeaderLen+len(payload)/3+16)
	out[0] = byte(t)
	if c.Compress && len(payload) >= minCompress {
		out[1] = flagZstd
		out = c.enc.EncodeAll(payload, out)
		if len(out)-frameHeaderLen < len(payload) {
			c.observe(true, t, len(payload), len(out))
			return out, nil
		}
		// zstd framing made it bigger: send it as it is, so that a frame
		// is never over MaxFrame plus its header.
		out = out[:frameHeaderLen]
		out[1] = 0
	}
	out = append(out, payload...)
	c.observe(true, t, len(payload), len(out))
	return out, nil
}

func (c *Codec) observe(out bool, t FrameType, payload, wire int) {
	if c.Observe != nil {
		c.Observe(out, t, payload, wire)
	}
}

// Decode parses a frame: the header, then the payload, decompressed within
// MaxFrame. Every failure is an *Error with CodeBadFrame or CodeTooLarge.
func (c *Codec) Decode(b []byte) (Frame, error) {
	if len(b) > c.MaxFrame+frameHeaderLen {
		return Frame{}, Errorf(CodeTooLarge, "frame of %d bytes is over the %d byte limit", len(b), c.MaxFrame)
	}
	if len(b) < frameHeaderLen {
		return Frame{}, Errorf(CodeBadFrame, "truncated frame: %v", io.ErrUnexpectedEOF)
	}
	t, flags := FrameType(b[0]), b[1]
	if !t.Known() {
		return Frame{}, Errorf(CodeBadFrame, "unknown frame type %d", b[0])
	}
	if flags&^knownFlags != 0 {
		return Frame{}, Errorf(CodeBadFrame, "unknown frame flags %#x", flags)
	}
	payload := b[frameHeaderLen:]
	if flags&flagZstd != 0 {
		out, err := c.dec.DecodeAll(payload, nil)
		switch {
		case errors.Is(err, zstd.ErrDecoderSizeExceeded), errors.Is(err, zstd.ErrWindowSizeExceeded):
			return Frame{}, Errorf(CodeTooLarge, "%s frame decompresses to more than %d bytes", t, c.MaxFrame)
		case err != nil:
			return Frame{}, Errorf(CodeBadFrame, "%s frame: bad compression: %v", t, err)
		case len(out) > c.MaxFrame:
			return Frame{}, Errorf(CodeTooLarge, "%s frame decompresses to more than %d bytes", t, c.MaxFrame)
		}
		payload = out
	}
	c.observe(false, t, len(payload), len(b))
	return Frame{Type: t, Payload: payload}, nil
}

// Unmarshal decodes the frame's payload into v strictly: unknown fields and
// trailing data are errors.
func (f Frame) Unmarshal(v any) error {
	m, ok := v.(opsMessage)
	if !ok {
		return f.unmarshalJSON(f.Payload, v)
	}
	n, k := binary.Uvarint(f.Payload)
	if k <= 0 || n > uint64(len(f.Payload)-k) {
		return Errorf(CodeBadFrame, "%s frame: bad header length", f.Type)
	}
	if err := f.unmarshalJSON(f.Payload[k:k+int(n)], v); err != nil {
		return err
	}
	ops, err := DecodeOps(f.Payload[k+int(n):], len(f.Payload)/minOpBytes)
	if err != nil {
		return Errorf(ErrorCode(err), "%s frame: %s", f.Type, ErrorMessage(err))
	}
	*m.opList() = ops
	return nil
}

func (f Frame) unmarshalJSON(payload []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(CodeBadFrame, "%s frame: %v", f.Type, err)
	}
	// More misses a stray '}' or ']' after the value; only EOF is clean.
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(CodeBadFrame, "%s frame: trailing data", f.Type)
	}
	return nil
}
