//go:build race

package syncsim_test

// Under the race detector a schedule costs about five times the CPU, and
// the schedules are single-goroutine and deterministic, so the detector
// learns little more from the thousandth than from the hundredth: the
// default under -race is a quarter of the run, and .ci/run runs the full
// thousand without -race as well.
const defaultSchedules = 250
