package events

import (
	"sync"
	"time"
)

// Event types.
const (
	TypeDevice  = "device"  // a device's state changed: a report, a connect or a disconnect
	TypeAlert   = "alert"   // an alert was raised or cleared
	TypeEnquiry = "enquiry" // an enquiry changed (an op was stored)
)

// Event is one live event. Data is encoded as JSON on the stream.
type Event struct {
	ID   uint64    `json:"id"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`
	Data any       `json:"data"`
}

// Broker fans events out to subscribers. The zero value is not usable;
// use New.
type Broker struct {
	buffer int
	now    func() time.Time

	mu     sync.Mutex // guards the fields below
	next   uint64
	subs   map[*Sub]struct{}
	closed bool
}

// New returns a broker whose subscribers buffer up to buffer events.
func New(buffer int, now func() time.Time) *Broker {
	if buffer <= 0 {
		buffer = 256
	}
	if now == nil {
		now = time.Now
	}
	return &Broker{buffer: buffer, now: now, subs: map[*Sub]struct{}{}}
}

// Sub is one subscription. Read C until it is closed: the broker closes it
// when the subscriber falls behind, unsubscribes, or the broker closes.
type Sub struct {
	C     <-chan Event
	c     chan Event
	types map[string]bool // nil: every type
	// Dropped is true once the broker dropped the subscriber for falling
	// behind (read it after C is closed).
	Dropped bool
}

// Subscribe starts a subscription to the given types (none: all).
func (b *Broker) Subscribe(types ...string) *Sub {
	c := make(chan Event, b.buffer)
	s := &Sub{C: c, c: c}
	if len(types) > 0 {
		s.types = map[string]bool{}
		for _, t := range types {
			s.types[t] = true
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(c)
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

// Unsubscribe ends s; it is safe to call more than once.
func (b *Broker) Unsubscribe(s *Sub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.c)
	}
}

// Publish sends an event of type t to every subscriber of t. It never
// blocks.
func (b *Broker) Publish(t string, data any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || len(b.subs) == 0 {
		return
	}
	b.next++
	ev := Event{ID: b.next, Type: t, At: b.now().UTC(), Data: data}
	for s := range b.subs {
		if s.types != nil && !s.types[t] {
			continue
		}
		select {
		case s.c <- ev:
		default:
			s.Dropped = true
			delete(b.subs, s)
			close(s.c)
		}
	}
}

// Subscribers counts the current subscribers.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Close ends every subscription; later ones end at once.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.c)
	}
}
