package faultlink

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Direction is one way through the link.
type Direction int

// Directions. Up is from the client (the cabin) to the target (the
// ground); Down is back.
const (
	Up Direction = iota
	Down
)

func (d Direction) String() string {
	if d == Up {
		return "up"
	}
	return "down"
}

// chunkMax bounds how many bytes are forwarded at once, so a bandwidth
// cap paces a large frame smoothly and a cut can fall inside it.
const chunkMax = 1460

// Link relays TCP connections from its own listener to Target. Faults can
// be changed at any time and apply to every relayed connection at once.
type Link struct {
	Target string

	ln       net.Listener
	wg       sync.WaitGroup
	bytes    [2]atomic.Int64
	accepted atomic.Int64
	cuts     atomic.Int64

	mu        sync.Mutex // guards the fields below
	down      bool
	refuse    bool
	closed    bool
	conns     map[net.Conn]struct{}
	relays    map[*relay]struct{}
	latency   [2]time.Duration
	bandwidth [2]int   // bits per second; 0 is unlimited
	cutAfter  [2]int64 // bytes still allowed before every open connection is cut; -1 is no cut
}

// relay is one client connection and its upstream connection.
type relay struct {
	client, upstream net.Conn
	done             chan struct{} // closed when the relay ends
	once             sync.Once
	stall            chan struct{} // non-nil while stalled (guarded by Link.mu); closed on resume
}

func (r *relay) close() {
	r.once.Do(func() {
		close(r.done)
		r.client.Close()
		r.upstream.Close()
	})
}

// Listen starts a link on addr ("127.0.0.1:0" picks a port) towards target.
func Listen(addr, target string) (*Link, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &Link{Target: target, ln: ln, conns: map[net.Conn]struct{}{}, relays: map[*relay]struct{}{}, cutAfter: [2]int64{-1, -1}}
	l.wg.Add(1)
	go l.accept()
	return l, nil
}

// Addr is the address clients connect to.
func (l *Link) Addr() string { return l.ln.Addr().String() }

// SetDown cuts the link (true) or restores it (false). Cutting drops every
// relayed connection at once, like a satellite link that goes away, and
// refuses new ones until the link is restored.
func (l *Link) SetDown(down bool) {
	l.mu.Lock()
	l.down = down
	var drop []net.Conn
	var ends []*relay
	if down {
		for c := range l.conns {
			drop = append(drop, c)
		}
		for r := range l.relays {
			ends = append(ends, r) // a stalled relay reads nothing, so it must be told
		}
	}
	l.mu.Unlock()
	for _, c := range drop {
		c.Close()
	}
	for _, r := range ends {
		r.close()
	}
}

// Refuse makes the link refuse new connections (true) without touching
// the open ones, or accept them again (false). With Stall, it makes a
// link that is dead without either end being told.
func (l *Link) Refuse(refuse bool) {
	l.mu.Lock()
	l.refuse = refuse
	l.mu.Unlock()
}

// Down reports whether the link is cut.
func (l *Link) Down() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down
}

// SetLatency delays every byte going in direction d by lat (one way; a
// geostationary satellite hop is about 600 ms). Throughput is not limited
// by it: bytes are in flight, not queued behind each other.
func (l *Link) SetLatency(d Direction, lat time.Duration) {
	l.mu.Lock()
	l.latency[d] = lat
	l.mu.Unlock()
}

// SetBandwidth caps direction d at bitsPerSecond (0 removes the cap).
func (l *Link) SetBandwidth(d Direction, bitsPerSecond int) {
	l.mu.Lock()
	l.bandwidth[d] = bitsPerSecond
	l.mu.Unlock()
}

// CutAfter lets n more bytes through in direction d, then closes the
// connection that carries the next byte, in the middle of whatever it was
// sending (a frame, usually). It fires once; n < 0 cancels it.
func (l *Link) CutAfter(d Direction, n int64) {
	l.mu.Lock()
	l.cutAfter[d] = n
	l.mu.Unlock()
}

// Stall stops forwarding on every connection open now, in both directions,
// but keeps them open: a half-open link, where neither end sees an error
// and only a timeout can tell. Connections made later flow normally, as
// they would through a NAT that lost one flow's state.
func (l *Link) Stall() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for r := range l.relays {
		if r.stall == nil {
			r.stall = make(chan struct{})
			n++
		}
	}
	return n
}

// Resume restarts forwarding on stalled connections that are still open.
func (l *Link) Resume() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for r := range l.relays {
		if r.stall != nil {
			close(r.stall)
			r.stall = nil
		}
	}
}

// Bytes is how many bytes the link has forwarded in direction d.
func (l *Link) Bytes(d Direction) int64 { return l.bytes[d].Load() }

// Accepted is how many client connections the link has relayed.
func (l *Link) Accepted() int64 { return l.accepted.Load() }

// Cuts is how many connections CutAfter has cut.
func (l *Link) Cuts() int64 { return l.cuts.Load() }

// Open is how many connections are being relayed now.
func (l *Link) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.relays)
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

func (l *Link) track(c net.Conn, fresh bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down || l.closed || fresh && l.refuse {
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
		if !l.track(c, true) {
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
	if !l.track(upstream, false) {
		upstream.Close()
		return
	}
	defer l.untrack(upstream)
	defer upstream.Close()
	l.accepted.Add(1)
	r := &relay{client: client, upstream: upstream, done: make(chan struct{})}
	l.mu.Lock()
	l.relays[r] = struct{}{}
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.relays, r)
		l.mu.Unlock()
	}()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); l.pipe(r, Up, upstream, client) }()
	go func() { defer wg.Done(); l.pipe(r, Down, client, upstream) }()
	wg.Wait()
}

type chunk struct {
	data []byte
	at   time.Time // when it entered the link
}

// pipe forwards src to dst in direction d through the faults. A reader
// goroutine takes bytes in as they arrive (stamped, for latency), the
// caller's goroutine lets them out. Either side ending closes the relay,
// which ends the other direction too.
func (l *Link) pipe(r *relay, d Direction, dst, src net.Conn) {
	// A bounded queue: when the way out is slow or stalled, the reader
	// stops reading and TCP pushes back on the sender, as a real link
	// would. It holds about 370 KB, enough to keep a 600 ms hop full.
	in := make(chan chunk, 256)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(in)
		for {
			if !l.waitStall(r) {
				return
			}
			buf := make([]byte, chunkMax)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case in <- chunk{data: buf[:n], at: time.Now()}:
				case <-r.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	// Closing the relay unblocks the reader, so wait after it.
	defer wg.Wait()
	defer r.close()
	for c := range in {
		l.mu.Lock()
		lat, bw := l.latency[d], l.bandwidth[d]
		l.mu.Unlock()
		if wait := time.Until(c.at.Add(lat)); wait > 0 && !sleep(r, wait) {
			return
		}
		if !l.waitStall(r) {
			return
		}
		data, cut := l.takeBudget(d, c.data)
		if len(data) > 0 {
			start := time.Now()
			// Counted before the write: the far end may read the bytes
			// (and a test check the count) before Write returns here. A
			// write that fails ends the connection, overstating it by
			// at most this chunk.
			l.bytes[d].Add(int64(len(data)))
			if _, err := dst.Write(data); err != nil {
				return
			}
			if bw > 0 {
				pace := time.Duration(int64(len(data)) * 8 * int64(time.Second) / int64(bw))
				if rest := pace - time.Since(start); rest > 0 && !sleep(r, rest) {
					return
				}
			}
		}
		if cut {
			l.cuts.Add(1)
			return
		}
	}
}

// takeBudget applies a pending CutAfter to data: it returns what may still
// be forwarded, and whether the connection must be cut after it.
func (l *Link) takeBudget(d Direction, data []byte) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	left := l.cutAfter[d]
	if left < 0 {
		return data, false
	}
	if int64(len(data)) <= left {
		l.cutAfter[d] = left - int64(len(data))
		return data, false
	}
	l.cutAfter[d] = -1
	return data[:left], true
}

// waitStall blocks while r is stalled. It reports false if the relay ended.
func (l *Link) waitStall(r *relay) bool {
	for {
		l.mu.Lock()
		st := r.stall
		l.mu.Unlock()
		if st == nil {
			select {
			case <-r.done:
				return false
			default:
				return true
			}
		}
		select {
		case <-st:
		case <-r.done:
			return false
		}
	}
}

func sleep(r *relay, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.done:
		return false
	}
}
