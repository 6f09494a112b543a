package syncproto

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// dripConn delivers a message in chunks with a pause before each, and
// fails a read whose deadline has passed, as a network connection does.
type dripConn struct {
	chunks   [][]byte
	pause    time.Duration
	deadline time.Time
}

func (c *dripConn) SetReadDeadline(t time.Time) error { c.deadline = t; return nil }

func (c *dripConn) NextReader() (int, io.Reader, error) { return 2, c, nil }

func (c *dripConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	time.Sleep(c.pause)
	if time.Now().After(c.deadline) {
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(p, c.chunks[0])
	c.chunks = c.chunks[1:]
	return n, nil
}

// Ensure a frame that takes longer than the silence limit in total, but
// makes progress within it, is read whole; a stalled one times out; one
// over the limit is refused as too_large.
func TestReadMessage(t *testing.T) {
	chunks := func(n int) [][]byte {
		var out [][]byte
		for range n {
			out = append(out, []byte("0123456789"))
		}
		return out
	}
	t.Run("OK slow but steady", func(t *testing.T) {
		// 500 ms in all, 50 ms a chunk: each well within the 300 ms limit,
		// with room for a loaded machine's late wake-ups.
		c := &dripConn{chunks: chunks(10), pause: 50 * time.Millisecond}
		_, b, err := ReadMessage(c, 1000, 300*time.Millisecond)
		if err != nil || len(b) != 100 {
			t.Fatalf("got %d bytes, %v; want 100 bytes", len(b), err)
		}
	})
	t.Run("ErrStalled", func(t *testing.T) {
		c := &dripConn{chunks: chunks(3), pause: 400 * time.Millisecond}
		if _, _, err := ReadMessage(c, 1000, 100*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("err = %v, want a deadline error", err)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		c := &dripConn{chunks: chunks(10)}
		if _, _, err := ReadMessage(c, 55, time.Second); ErrorCode(err) != CodeTooLarge {
			t.Fatalf("err = %v, want too_large", err)
		}
	})
	if got := WriteTimeout(10*time.Second, 4*MinLinkRate); got != 14*time.Second {
		t.Fatalf("WriteTimeout = %s, want 14s", got)
	}
}
