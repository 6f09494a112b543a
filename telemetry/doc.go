// Package telemetry holds the Prometheus metrics both binaries serve at
// GET /metrics: sync sessions and ops, push and pull batch sizes and
// latencies, frame bytes before and after compression, bbolt transaction
// times, and HTTP request durations by route and status.
//
// Each binary makes its own registry (NewRegistry) and passes it down:
// there is no package-level registry, so several servers in one test
// process keep separate counts. Every method of Sync accepts a nil
// receiver, so a part built without metrics (a unit test) needs no stub.
package telemetry
