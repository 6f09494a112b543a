package syncsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/syncproto"
)

// oracle is what the simulation knows independently of every store: each
// op that was written, by whom, and what each party was told.
type oracle struct {
	names map[uuid.UUID]string
	ops   map[uuid.UUID]string
	// agent holds the agent ops stored on the ground's current timeline (a
	// restore takes it back to the backup's).
	agent map[uuid.UUID]syncproto.Op
	// crew holds every op a tablet recorded, and which tablet.
	crew    map[uuid.UUID]syncproto.Op
	crewDev map[uuid.UUID]int
	// ack holds the crew ops some tablet was told are stored.
	ack map[uuid.UUID]bool
	// appliedOn counts "applied" answers per op on each ground timeline.
	appliedOn map[uuid.UUID]int
	timeline  int
}

func (o *oracle) init() {
	o.names, o.ops = map[uuid.UUID]string{}, map[uuid.UUID]string{}
	o.agent, o.crew, o.crewDev = map[uuid.UUID]syncproto.Op{}, map[uuid.UUID]syncproto.Op{}, map[uuid.UUID]int{}
	o.ack, o.appliedOn = map[uuid.UUID]bool{}, map[uuid.UUID]int{}
}

// name gives an enquiry a short stable name for the history.
func (o *oracle) name(id uuid.UUID) string {
	if n, ok := o.names[id]; ok {
		return n
	}
	n := fmt.Sprintf("E%d", len(o.names))
	o.names[id] = n
	return n
}

func (o *oracle) opName(id uuid.UUID) string {
	if n, ok := o.ops[id]; ok {
		return n
	}
	n := fmt.Sprintf("o%d", len(o.ops))
	o.ops[id] = n
	return n
}

func (o *oracle) recorded(d *device, op syncproto.Op) {
	o.crew[op.ID], o.crewDev[op.ID] = op, d.idx
	o.opName(op.ID)
	d.w.stats.CrewOps++
}

func (o *oracle) acked(id uuid.UUID) {
	if !o.ack[id] {
		o.ack[id] = true
	}
}

func (o *oracle) applied(w *world, op syncproto.Op) {
	o.appliedOn[op.ID]++
	if o.appliedOn[op.ID] > 1 {
		w.stats.Doubled++
		w.logf("op %s answered applied twice on one ground timeline", o.opName(op.ID))
	}
	if op.Actor.Type != syncproto.ActorDevice {
		o.agent[op.ID] = op
		w.stats.AgentOps++
	}
}

func (o *oracle) restore(agent map[uuid.UUID]syncproto.Op) {
	o.agent = maps.Clone(agent)
	o.timeline++
	o.appliedOn = map[uuid.UUID]int{}
}

// check asserts the invariants on a quiet system.
func (w *world) check() error {
	ctx := context.Background()
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	g := w.ground

	// The ground: each op once, the stored state equals the fold of its
	// ops, and equals the fold of the full op set the oracle knows.
	ground := map[uuid.UUID][]byte{}
	onGround := map[uuid.UUID]bool{}
	list, err := g.enquiries()
	if err != nil {
		return err
	}
	// A dead letter is explained only by a restore that lost the enquiry
	// (unknown_enquiry) or its hand-off to the tablet's flight
	// (out_of_scope); anything else is a refused crew op.
	dead := map[uuid.UUID]bool{}
	for _, d := range w.devices {
		dls, err := d.st.DeadLetters()
		if err != nil {
			return err
		}
		for _, dl := range dls {
			dead[dl.Op.ID] = true
			explained := w.stats.Restores > 0 && (dl.Code == syncproto.CodeUnknownEnquiry || dl.Code == syncproto.CodeOutOfScope)
			if !explained {
				fail("ground refused %s's op %s (%s: %s) with no restore to explain it", d.id, w.o.opName(dl.Op.ID), dl.Code, dl.Message)
			}
		}
	}
	expected := map[uuid.UUID][]syncproto.Op{}
	for _, op := range w.o.agent {
		expected[op.Enquiry] = append(expected[op.Enquiry], op)
	}
	for id, op := range w.o.crew {
		if !dead[id] {
			expected[op.Enquiry] = append(expected[op.Enquiry], op)
		}
	}
	for _, e := range list {
		ops, err := g.st.EnquiryOps(ctx, e.ID)
		if err != nil {
			return err
		}
		seen := map[uuid.UUID]bool{}
		for _, op := range ops {
			if seen[op.ID] {
				w.stats.Doubled++
				fail("ground stores op %s of %s twice", w.o.opName(op.ID), w.o.name(e.ID))
			}
			seen[op.ID] = true
			onGround[op.ID] = true
		}
		// The ground keeps a compact state (the fields that grow with the
		// history, such as notes, left out as null) and refolds the full
		// one on read: both must match the fold.
		folded := syncproto.Fold(ops)
		if got, want := reencode(jsonOf(e)), compactLike(jsonOf(e), jsonOf(&folded)); !bytes.Equal(got, want) {
			fail("ground's stored state of %s differs from the fold of its ops:\n  stored %s\n  folded %s", w.o.name(e.ID), got, want)
		}
		full, _, err := g.st.Enquiry(ctx, e.ID)
		if err != nil {
			return err
		}
		stored := jsonOf(full)
		if want := jsonOf(&folded); !bytes.Equal(stored, want) {
			fail("ground state of %s differs from the fold of its ops:\n  read   %s\n  folded %s", w.o.name(e.ID), stored, want)
		}
		if want := jsonOf(syncproto.Fold(expected[e.ID])); !bytes.Equal(stored, want) {
			fail("ground state of %s differs from the fold of the full op set:\n  ground %s\n  want   %s", w.o.name(e.ID), stored, want)
		}
		ground[e.ID] = stored
	}
	// Enquiries the oracle expects that the ground does not have at all.
	for _, id := range slices.SortedFunc(maps.Keys(expected), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }) {
		if _, ok := ground[id]; ok {
			continue
		}
		for _, op := range expected[id] {
			if op.Kind == syncproto.KindCreate {
				fail("enquiry %s is missing on the ground", w.o.name(id))
				break
			}
		}
	}

	// Nothing lost: every acknowledged op is on the ground; every recorded
	// op is on the ground or, visibly, in its tablet's dead letters.
	for _, id := range slices.SortedFunc(maps.Keys(w.o.crew), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }) {
		op := w.o.crew[id]
		switch {
		case w.o.ack[id] && !onGround[id] && !dead[id]:
			w.stats.Lost++
			fail("op %s (%s on %s by %s) was acknowledged to its tablet but is not on the ground", w.o.opName(id), op.Kind, w.o.name(op.Enquiry), op.Actor.ID)
		case !onGround[id] && !dead[id]:
			w.stats.Lost++
			fail("op %s (%s on %s by %s) is neither on the ground nor in a dead letter", w.o.opName(id), op.Kind, w.o.name(op.Enquiry), op.Actor.ID)
		}
		if w.o.ack[id] {
			w.stats.Acked++
		}
	}

	// Every tablet: only enquiries of its flights, all of them, each equal
	// to the ground's.
	for _, d := range w.devices {
		st, err := d.st.Status()
		if err != nil {
			return err
		}
		if st.Pending != 0 {
			fail("%s still has %d ops in its outbox", d.id, st.Pending)
		}
		held, err := d.held()
		if err != nil {
			return err
		}
		has := map[uuid.UUID]bool{}
		for _, e := range held {
			has[e.ID] = true
			if _, ok := st.Cursors[e.FlightID]; !ok {
				fail("%s holds %s of flight %q, which it does not serve", d.id, w.o.name(e.ID), e.FlightID)
				continue
			}
			if got := jsonOf(e); !bytes.Equal(got, ground[e.ID]) {
				fail("%s and the ground differ on %s:\n  %s %s\n  ground   %s", d.id, w.o.name(e.ID), d.id, got, ground[e.ID])
			}
		}
		for _, e := range list {
			if _, ok := st.Cursors[e.FlightID]; ok && !has[e.ID] {
				fail("%s serves %s but does not hold its enquiry %s", d.id, e.FlightID, w.o.name(e.ID))
			}
		}
	}
	return errors.Join(errs...)
}

// reencode puts JSON in the same key order as compactLike's output.
func reencode(b []byte) []byte {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	return jsonOf(m)
}

// compactLike returns folded with null wherever stored has null: the
// fields the ground leaves out of its stored state.
func compactLike(stored, folded []byte) []byte {
	var s, f map[string]any
	if json.Unmarshal(stored, &s) != nil || json.Unmarshal(folded, &f) != nil {
		return folded
	}
	for k, v := range s {
		if v == nil {
			f[k] = nil
		}
	}
	return jsonOf(f)
}

func jsonOf(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
