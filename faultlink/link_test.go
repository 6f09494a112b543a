package faultlink_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cabincare/cabincare/faultlink"
)

// echoServer answers every connection by echoing what it reads.
func echoServer(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	tb.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

// MustListen starts a link to target and closes it when the test ends.
func MustListen(tb testing.TB, target string) *faultlink.Link {
	tb.Helper()
	l, err := faultlink.Listen("127.0.0.1:0", target)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

func dial(tb testing.TB, l *faultlink.Link) net.Conn {
	tb.Helper()
	c, err := net.Dial("tcp", l.Addr())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads its echo, returning how long it took.
func roundTrip(tb testing.TB, c net.Conn, msg []byte) time.Duration {
	tb.Helper()
	start := time.Now()
	if _, err := c.Write(msg); err != nil {
		tb.Fatal(err)
	}
	got := make([]byte, len(msg))
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		tb.Fatal("echo differs from what was sent")
	}
	return time.Since(start)
}

// Ensure bytes pass unchanged and are counted each way.
func TestRelay(t *testing.T) {
	t.Parallel()
	l := MustListen(t, echoServer(t))
	c := dial(t, l)
	msg := bytes.Repeat([]byte("cabin"), 20000)
	roundTrip(t, c, msg)
	if up, down := l.Bytes(faultlink.Up), l.Bytes(faultlink.Down); up != int64(len(msg)) || down != int64(len(msg)) {
		t.Fatalf("bytes up %d down %d, want %d each", up, down, len(msg))
	}
	if n := l.Accepted(); n != 1 {
		t.Fatalf("accepted = %d, want 1", n)
	}
}

// Ensure latency delays each direction by its own amount, and does not
// limit throughput.
func TestLatency(t *testing.T) {
	t.Parallel()
	l := MustListen(t, echoServer(t))
	l.SetLatency(faultlink.Up, 150*time.Millisecond)
	l.SetLatency(faultlink.Down, 100*time.Millisecond)
	c := dial(t, l)
	if d := roundTrip(t, c, []byte("ping")); d < 250*time.Millisecond || d > 2*time.Second {
		t.Fatalf("round trip = %s, want about 250ms", d)
	}
	// 1 MB in flight at once still takes about one round trip.
	if d := roundTrip(t, c, bytes.Repeat([]byte("x"), 1<<20)); d > 3*time.Second {
		t.Fatalf("1 MB round trip = %s: latency must not cap throughput", d)
	}
}

// Ensure a bandwidth cap paces the bytes.
func TestBandwidth(t *testing.T) {
	t.Parallel()
	l := MustListen(t, echoServer(t))
	l.SetBandwidth(faultlink.Down, 64_000) // 8 KB/s
	c := dial(t, l)
	d := roundTrip(t, c, bytes.Repeat([]byte("y"), 8000))
	if d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("8000 bytes at 64 kbit/s took %s, want about 1s", d)
	}
}

// Ensure CutAfter lets exactly n bytes through, then closes the connection
// in the middle of what was being sent, once.
func TestCutAfter(t *testing.T) {
	t.Parallel()
	l := MustListen(t, echoServer(t))
	c := dial(t, l)
	roundTrip(t, c, []byte("warm")) // the relay is up
	l.CutAfter(faultlink.Down, 1000)
	if _, err := c.Write(bytes.Repeat([]byte("z"), 5000)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("connection was not cut")
		}
	}
	if len(got) != 1000 {
		t.Fatalf("read %d bytes before the cut, want 1000", len(got))
	}
	if l.Cuts() != 1 {
		t.Fatalf("cuts = %d, want 1", l.Cuts())
	}
	// The cut fired once: a new connection works.
	roundTrip(t, dial(t, l), bytes.Repeat([]byte("w"), 5000))
}

// Ensure a stall keeps the connection open but forwards nothing until
// resumed, and that new connections are not stalled.
func TestStall(t *testing.T) {
	t.Parallel()
	l := MustListen(t, echoServer(t))
	c := dial(t, l)
	roundTrip(t, c, []byte("warm"))
	if n := l.Stall(); n != 1 {
		t.Fatalf("stalled %d connections, want 1", n)
	}
	if _, err := c.Write([]byte("hello?")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 16)
	if n, err := c.Read(buf); n != 0 || err == nil {
		t.Fatalf("read %q, %v through a stalled link", buf[:n], err)
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("read error %v, want a timeout: the connection must stay open", err)
	}
	// A new connection flows while the old one hangs.
	roundTrip(t, dial(t, l), []byte("fresh"))
	l.Resume()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf[:6]); err != nil || string(buf[:6]) != "hello?" {
		t.Fatalf("after resume read %q, %v", buf[:6], err)
	}
}

// Ensure a cut link drops every connection and refuses new ones until it is
// restored.
func TestSetDown(t *testing.T) {
	t.Parallel()
	l := MustListen(t, echoServer(t))
	c := dial(t, l)
	roundTrip(t, c, []byte("warm"))
	l.SetDown(true)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection survived a cut link")
	}
	c2 := dial(t, l)
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("a cut link relayed a new connection")
	}
	l.SetDown(false)
	roundTrip(t, dial(t, l), []byte("back"))
}

// Ensure Refuse turns new connections away and leaves open ones alone.
func TestRefuse(t *testing.T) {
	t.Parallel()
	l := MustListen(t, echoServer(t))
	c := dial(t, l)
	roundTrip(t, c, []byte("warm"))
	l.Refuse(true)
	c2 := dial(t, l)
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("a refusing link relayed a new connection")
	}
	roundTrip(t, c, []byte("still here"))
	l.Refuse(false)
	roundTrip(t, dial(t, l), []byte("back"))
}

// Ensure a stalled connection still goes when the link is cut or closed.
func TestStallThenDown(t *testing.T) {
	t.Parallel()
	l := MustListen(t, echoServer(t))
	c := dial(t, l)
	roundTrip(t, c, []byte("warm"))
	l.Stall()
	l.SetDown(true)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read through a cut link")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a stalled connection survived the cut")
	}
	l2 := MustListen(t, echoServer(t))
	roundTrip(t, dial(t, l2), []byte("warm"))
	l2.Stall()
	done := make(chan error, 1)
	go func() { done <- l2.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on a stalled connection")
	}
}
