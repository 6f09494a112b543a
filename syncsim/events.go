package syncsim

import (
	"fmt"
	"math/rand/v2"
)

// Kind is what an event does.
type Kind int

// Event kinds.
const (
	EvDeliver       Kind = iota // deliver the next message of one queue (A picks it)
	EvAgentCreate               // an agent takes in an enquiry; B >= 0 also assigns it to flight B
	EvAgentAssign               // an agent assigns enquiry A (mod the ground's enquiries) to flight B
	EvAgentNote                 // an agent notes on enquiry A
	EvAgentRecall               // an agent recalls enquiry A
	EvAgentClose                // an agent closes enquiry A (forced if B is odd)
	EvCrew                      // device D acts on its enquiry A: B picks ack, note or an outcome
	EvOpenFlight                // the crew of device D open flight B
	EvConnect                   // device D dials the ground, if it can
	EvTimer                     // device D's retry timer fires
	EvDuplicate                 // the head message of one queue (A picks it) is delivered twice
	EvCut                       // device D's connection drops; the first B messages on their way up still arrive
	EvPartition                 // device D's link goes down (B odd) or comes back (B even)
	EvRestartDevice             // device D is killed and restarted; B messages on their way up still arrive
	EvRestartGround             // the ground is killed and restarted; B odd keeps a backup copy of its file first
	EvRestoreGround             // the ground is restored from backup A (mod the backups kept)
)

var kindNames = map[Kind]string{
	EvDeliver: "deliver", EvAgentCreate: "agent-create", EvAgentAssign: "agent-assign", EvAgentNote: "agent-note",
	EvAgentRecall: "agent-recall", EvAgentClose: "agent-close", EvCrew: "crew", EvOpenFlight: "open-flight",
	EvConnect: "connect", EvTimer: "timer", EvDuplicate: "duplicate", EvCut: "cut", EvPartition: "partition",
	EvRestartDevice: "restart-device", EvRestartGround: "restart-ground", EvRestoreGround: "restore-ground",
}

func (k Kind) String() string { return kindNames[k] }

// Event is one step of a schedule. Its parameters are abstract (an index
// taken modulo what exists when it runs), so that an event still means
// something when Shrink removes the events before it.
type Event struct {
	Kind Kind
	// Seq is the event's place in the schedule as drawn; its randomness
	// comes from (seed, Seq), so it replays the same without the events
	// Shrink removes.
	Seq  int
	D    int // a device
	A, B int
	// Dt is how far the simulated clock moves before the event, in ms.
	Dt int
}

func (e Event) String() string {
	return fmt.Sprintf("#%d %s d=%d a=%d b=%d", e.Seq, e.Kind, e.D, e.A, e.B)
}

// weights says how often each kind is drawn. Deliveries dominate, so that
// sessions make progress between faults.
func weights(cfg *Config) []struct {
	k Kind
	w int
} {
	ws := []struct {
		k Kind
		w int
	}{
		{EvDeliver, 100}, {EvAgentCreate, 8}, {EvAgentAssign, 8}, {EvAgentNote, 6}, {EvAgentRecall, 3},
		{EvAgentClose, 3}, {EvCrew, 30}, {EvOpenFlight, 2}, {EvConnect, 14}, {EvTimer, 4},
		{EvDuplicate, 3}, {EvCut, 5}, {EvPartition, 4}, {EvRestartDevice, 3}, {EvRestartGround, 2},
	}
	if cfg.Restores {
		ws = append(ws, struct {
			k Kind
			w int
		}{EvRestoreGround, 3})
	}
	return ws
}

// Generate draws a schedule from cfg.Seed: a fixed opening (each device
// registers a flight and connects, agents hand a few enquiries out), then
// cfg.Steps random events.
func Generate(cfg Config) []Event {
	cfg.defaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	var evs []Event
	for d := range cfg.Devices {
		evs = append(evs, Event{Kind: EvOpenFlight, D: d, B: d % cfg.Flights, Dt: 1})
	}
	for i := range 2 * cfg.Flights {
		evs = append(evs, Event{Kind: EvAgentCreate, B: i % cfg.Flights, Dt: 1})
	}
	for d := range cfg.Devices {
		evs = append(evs, Event{Kind: EvConnect, D: d, Dt: 1})
	}
	ws := weights(&cfg)
	total := 0
	for _, w := range ws {
		total += w.w
	}
	for range cfg.Steps {
		n := rng.IntN(total)
		var k Kind
		for _, w := range ws {
			if n < w.w {
				k = w.k
				break
			}
			n -= w.w
		}
		e := Event{Kind: k, D: rng.IntN(cfg.Devices), A: rng.IntN(1 << 16), B: rng.IntN(1 << 16), Dt: 1 + rng.IntN(200)}
		switch k {
		case EvAgentCreate:
			e.B = rng.IntN(cfg.Flights+1) - 1 // -1: not assigned yet
		case EvAgentAssign, EvOpenFlight:
			e.B = rng.IntN(cfg.Flights)
		case EvCut, EvRestartDevice:
			e.B = rng.IntN(3)
		}
		evs = append(evs, e)
	}
	for i := range evs {
		evs[i].Seq = i
	}
	return evs
}
