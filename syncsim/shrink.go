package syncsim

// Shrink looks for a shorter schedule that still fails: first the shortest
// failing prefix, then without each chunk of events it can drop (a
// delta-debugging pass, halving the chunks down to single events). It
// stops after budget runs and returns the smallest failing schedule found.
func Shrink(cfg Config, evs []Event, budget int) []Event {
	runs := 0
	fails := func(e []Event) bool {
		if runs >= budget {
			return false
		}
		runs++
		r, err := Execute(cfg, e)
		return err == nil && r.Failed()
	}
	// The shortest failing prefix, by bisection (failure need not be
	// monotonic in length, so keep the best prefix seen).
	best := evs
	lo, hi := 0, len(evs)
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(evs[:mid]) {
			best, hi = evs[:mid], mid
		} else {
			lo = mid + 1
		}
	}
	// Drop chunks.
	for chunk := len(best) / 2; chunk >= 1; chunk /= 2 {
		for i := 0; i+chunk <= len(best); {
			cand := append(append([]Event{}, best[:i]...), best[i+chunk:]...)
			if fails(cand) {
				best = cand
				continue
			}
			i += chunk
		}
		if runs >= budget {
			break
		}
	}
	return best
}
