package attempts

import (
	"sync"
	"time"
)

// Limiter counts failures per key (an account, an address, a device) and
// refuses a key that failed Max times within Window, until the oldest of
// those failures is Window old. Successes do not reset the count: an
// attacker who knows one password must not get unlimited guesses at
// others from the same address. Keys are kept only while they have recent
// failures, so memory follows the attack, not the user count.
type Limiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu       sync.Mutex // guards failures
	failures map[string][]time.Time
}

// NewLimiter returns a limiter of max failures per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{Max: max, Window: window, Now: time.Now, failures: map[string][]time.Time{}}
}

// Allow reports whether key may try now, and if not, how long until it may.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	f := l.prune(key, now)
	if len(f) < l.Max {
		return true, 0
	}
	return false, f[0].Add(l.Window).Sub(now)
}

// Fail records a failure of key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	l.failures[key] = append(l.prune(key, now), now)
	if len(l.failures) > 100_000 {
		// A flood of distinct keys: drop whatever has aged out.
		for k := range l.failures {
			l.prune(k, now)
		}
	}
}

func (l *Limiter) prune(key string, now time.Time) []time.Time {
	f := l.failures[key]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= l.Window {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = f
	return f
}
