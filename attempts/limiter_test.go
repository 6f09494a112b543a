package attempts_test

import (
	"testing"
	"time"

	"github.com/cabincare/cabincare/attempts"
)

// Ensure the limiter refuses after Max failures in Window, says how long
// to wait, and forgets failures once they age out.
func TestLimiter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	l := attempts.NewLimiter(3, time.Minute)
	l.Now = func() time.Time { return now }
	for i := range 3 {
		if ok, _ := l.Allow("ann"); !ok {
			t.Fatalf("refused after %d failures", i)
		}
		l.Fail("ann")
		now = now.Add(10 * time.Second)
	}
	ok, wait := l.Allow("ann")
	if ok || wait != 30*time.Second {
		t.Fatalf("after 3 failures: %v, wait %s; want refused for 30s", ok, wait)
	}
	if ok, _ := l.Allow("bob"); !ok {
		t.Error("another key refused")
	}
	now = now.Add(30 * time.Second) // the first failure ages out
	if ok, _ := l.Allow("ann"); !ok {
		t.Error("still refused after the window")
	}
}
