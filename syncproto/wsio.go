package syncproto

import (
	"bytes"
	"io"
	"time"
)

// MessageConn is the part of a WebSocket connection (gorilla's
// *websocket.Conn) that ReadMessage needs.
type MessageConn interface {
	NextReader() (messageType int, r io.Reader, err error)
	SetReadDeadline(t time.Time) error
}

// ReadMessage reads one WebSocket message of at most limit bytes. The read
// deadline moves silence ahead each time bytes arrive, so a large frame on
// a 64 kbit/s satellite link is bounded by its progress, not its size,
// while a stalled (half-open) link still times out after silence. A
// message over limit is refused with CodeTooLarge without reading it all.
func ReadMessage(c MessageConn, limit int, silence time.Duration) (int, []byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(silence))
	mt, r, err := c.NextReader()
	if err != nil {
		return 0, nil, err
	}
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			if buf.Len()+n > limit {
				return mt, nil, Errorf(CodeTooLarge, "frame over the %d byte limit", limit)
			}
			buf.Write(chunk[:n])
			_ = c.SetReadDeadline(time.Now().Add(silence))
		}
		if err == io.EOF {
			return mt, buf.Bytes(), nil
		}
		if err != nil {
			return mt, nil, err
		}
	}
}

// MinLinkRate is the slowest link a frame write is given time for, in
// bytes per second (16 kbit/s): a write's deadline grows with the frame's
// size at this rate, so a full catch-up page still fits through a thin
// satellite link.
const MinLinkRate = 2048

// WriteTimeout is the deadline for writing a frame of size bytes: base plus
// the time the frame takes at MinLinkRate.
func WriteTimeout(base time.Duration, size int) time.Duration {
	return base + time.Duration(size)*time.Second/MinLinkRate
}
