package syncproto

import (
	"fmt"
	"sync"
	"time"
)

// HLC is a hybrid logical clock timestamp: the high 48 bits are Unix
// milliseconds, the low 16 bits a logical counter. Its integer order is its
// causal order, which is what the fold sorts by.
type HLC uint64

const hlcLogicalBits = 16

// MakeHLC builds a timestamp from wall-clock milliseconds and a counter.
func MakeHLC(ms int64, logical uint16) HLC {
	return HLC(uint64(ms)<<hlcLogicalBits | uint64(logical))
}

// Millis returns the physical part in Unix milliseconds.
func (h HLC) Millis() int64 { return int64(uint64(h) >> hlcLogicalBits) }

// Logical returns the logical counter.
func (h HLC) Logical() uint16 { return uint16(h) }

// Time returns the physical part as a time.Time in UTC.
func (h HLC) Time() time.Time { return time.UnixMilli(h.Millis()).UTC() }

func (h HLC) String() string { return fmt.Sprintf("%d.%d", h.Millis(), h.Logical()) }

// MaxClockDrift bounds how far ahead of our wall clock a remote timestamp
// may be before Observe refuses it: a tablet with a clock set years ahead
// must not drag every replica's clock with it.
const MaxClockDrift = 24 * time.Hour

// Clock issues HLC timestamps. It is safe for concurrent use. Now is the
// wall clock; tests inject their own.
type Clock struct {
	Now func() time.Time

	mu   sync.Mutex
	last HLC
}

// NewClock returns a clock on the system time that never issues a timestamp
// at or below last (the highest one persisted before a restart).
func NewClock(last HLC) *Clock { return &Clock{Now: time.Now, last: last} }

// Tick returns a new timestamp for a local event, strictly greater than
// every timestamp issued or observed before.
func (c *Clock) Tick() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := MakeHLC(c.Now().UnixMilli(), 0)
	if wall > c.last {
		c.last = wall
	} else {
		c.last++
	}
	return c.last
}

// Observe merges a timestamp received from a peer, so that later local
// events sort after it. A timestamp further than MaxClockDrift ahead of the
// wall clock is refused with an error and not merged.
func (c *Clock) Observe(remote HLC) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := c.Now()
	if remote.Millis() > wall.Add(MaxClockDrift).UnixMilli() {
		return Errorf(CodeInvalid, "timestamp %s is more than %s ahead of this clock", remote.Time().Format(time.RFC3339), MaxClockDrift)
	}
	if remote > c.last {
		c.last = remote
	}
	return nil
}

// Last returns the highest timestamp issued or observed, for persisting.
func (c *Clock) Last() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}
