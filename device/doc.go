// Package device wires the cabin tablet service together: the local store,
// the sync client and the local HTTP API with the crew UI, under one
// lifecycle (Open, Run) that cmd/cabin and the end-to-end tests share.
//
// Subpackages: store (bbolt, outbox), syncclient (the link to the ground),
// api (local HTTP).
package device
