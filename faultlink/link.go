package faultlink

import (
	"context"
	"io"
	"net"
	"sync"
)

// Link relays TCP connections from its own listener to Target.
type Link struct {
	Target string

	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex // guards the fields below
	down   bool
	conns  map[net.Conn]struct{}
	closed bool
}

// Listen starts a link on addr ("127.0.0.1:0" picks a port) towards target.
func Listen(addr, target string) (*Link, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &Link{Target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	l.wg.Add(1)
	go l.accept()
	return l, nil
}

// Addr is the address clients connect to.
func (l *Link) Addr() string { return l.ln.Addr().String() }

// SetDown cuts the link (true) or restores it (false). Cutting drops every
// relayed connection at once, like a satellite link that goes away.
func (l *Link) SetDown(down bool) {
	l.mu.Lock()
	l.down = down
	var drop []net.Conn
	if down {
		for c := range l.conns {
			drop = append(drop, c)
		}
	}
	l.mu.Unlock()
	for _, c := range drop {
		c.Close()
	}
}

// Down reports whether the link is cut.
func (l *Link) Down() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down
}

// Close stops the link and waits for its goroutines.
func (l *Link) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	err := l.ln.Close()
	l.SetDown(true)
	l.wg.Wait()
	return err
}

func (l *Link) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down || l.closed {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

func (l *Link) untrack(c net.Conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

func (l *Link) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		if !l.track(c) {
			c.Close()
			continue
		}
		l.wg.Add(1)
		go l.relay(c)
	}
}

func (l *Link) relay(client net.Conn) {
	defer l.wg.Done()
	defer l.untrack(client)
	defer client.Close()
	var d net.Dialer
	upstream, err := d.DialContext(context.Background(), "tcp", l.Target)
	if err != nil {
		return
	}
	if !l.track(upstream) {
		upstream.Close()
		return
	}
	defer l.untrack(upstream)
	defer upstream.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		// A cut link ends the copy with an error; there is nothing to
		// report. Closing both ends ends the other direction too.
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(upstream, client)
	go pipe(client, upstream)
	<-done
	<-done
}
