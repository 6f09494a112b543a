package syncsim

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cabincare/cabincare/syncproto"
)

// frame is one message on its way, encoded with the real codec.
type frame struct {
	b []byte
	t syncproto.FrameType
	// pending (ground to device only) records that, when the ground sent
	// this frame, it had changes for the device it had not streamed yet:
	// a device that marks itself synced on it is not synced.
	pending bool
}

// conn is one WebSocket connection: two FIFO queues, as TCP gives.
type conn struct {
	id   int
	dev  *device
	up   []frame // device to ground
	down []frame // ground to device
	// devLive is false once the device side is gone; what is still in up
	// may reach the ground (it was on the wire), nothing more is sent.
	devLive bool
	// gndLive is false once the ground side is gone (a ground restart, a
	// newer session of the same device, an error it sent).
	gndLive bool
	gs      *session // the ground side, after a hello
}

func (w *world) dial(d *device) *conn {
	w.nconn++
	c := &conn{id: w.nconn, dev: d, devLive: true, gndLive: true}
	w.conns = append(w.conns, c)
	return c
}

func (w *world) encode(t syncproto.FrameType, msg any) frame {
	b, err := w.codec.Encode(t, msg)
	if err != nil {
		panic(fmt.Sprintf("syncsim: encode %s: %v", t, err))
	}
	return frame{b: b, t: t}
}

func decode[T any](w *world, f frame) (*T, error) {
	fr, err := w.codec.Decode(f.b)
	if err != nil {
		return nil, err
	}
	var v T
	if err := fr.Unmarshal(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

// sendUp queues a frame from the device to the ground.
func (c *conn) sendUp(f frame) {
	if c.devLive {
		c.up = append(c.up, f)
	}
}

// sendDown queues a frame from the ground to the device.
func (c *conn) sendDown(f frame) {
	if c.gndLive && c.devLive {
		c.down = append(c.down, f)
	}
}

// queues lists every non-empty queue in a fixed order: (conn, up?).
func (w *world) queues() []struct {
	c  *conn
	up bool
} {
	var qs []struct {
		c  *conn
		up bool
	}
	for _, c := range w.conns {
		if len(c.up) > 0 {
			qs = append(qs, struct {
				c  *conn
				up bool
			}{c, true})
		}
		if len(c.down) > 0 {
			qs = append(qs, struct {
				c  *conn
				up bool
			}{c, false})
		}
	}
	return qs
}

func (w *world) inFlight() int {
	n := 0
	for _, c := range w.conns {
		n += len(c.up) + len(c.down)
	}
	return n
}

// deliverOne delivers the head of the pick-th non-empty queue. With dup,
// the frame is delivered and stays at the head, to be delivered again.
func (w *world) deliverOne(pick int, dup bool) {
	qs := w.queues()
	if len(qs) == 0 {
		return
	}
	q := qs[pick%len(qs)]
	c := q.c
	var f frame
	if q.up {
		f = c.up[0]
		if !dup {
			c.up = c.up[1:]
		}
	} else {
		f = c.down[0]
		if !dup {
			c.down = c.down[1:]
		}
	}
	w.stats.Messages++
	if dup {
		w.stats.Duplicates++
	}
	what := ""
	if w.cfg.History {
		what = w.describe(f)
	}
	if q.up {
		w.logf("c%d %s -> ground: %s%s", c.id, c.dev.id, what, map[bool]string{true: " (DUPLICATED)"}[dup])
		w.ground.receive(c, f)
	} else {
		w.logf("c%d ground -> %s: %s%s", c.id, c.dev.id, what, map[bool]string{true: " (DUPLICATED)"}[dup])
		c.dev.receive(c, f)
	}
	w.gc()
}

// cut drops a connection: the device side at once, and with it whatever
// was on its way down; the first keep frames on their way up still reach
// the ground later, the rest are lost.
func (w *world) cut(c *conn, keep int) {
	w.stats.Cuts++
	if c.dev.conn == c {
		c.dev.disconnected()
	}
	c.devLive = false
	c.down = nil
	if keep < len(c.up) {
		c.up = c.up[:keep]
	}
	w.gc()
}

// gc forgets connections that can carry nothing more. A ground session
// whose device side is gone and has nothing left to read ends, as the real
// one does at its read deadline; a device whose ground side is gone
// notices once it has read what was sent (the close, or its read
// deadline).
func (w *world) gc() {
	for _, c := range w.conns {
		if !c.devLive && len(c.up) == 0 {
			c.gndLive = false
		}
		if !c.gndLive {
			c.up = nil
			if c.devLive && len(c.down) == 0 {
				if c.dev.conn == c {
					c.dev.disconnected()
				}
				c.devLive = false
			}
		}
	}
	w.conns = slices.DeleteFunc(w.conns, func(c *conn) bool {
		return !c.devLive && !c.gndLive && len(c.up) == 0 && len(c.down) == 0
	})
}

// describe renders a frame for the history: its type and what matters.
func (w *world) describe(f frame) string {
	fr, err := w.codec.Decode(f.b)
	if err != nil {
		return fmt.Sprintf("%s (undecodable: %v)", f.t, err)
	}
	ops := func(ops []syncproto.Op) string {
		var b strings.Builder
		for i, op := range ops {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%s:%s", w.o.name(op.Enquiry), op.Kind)
			if n, ok := w.o.ops[op.ID]; ok {
				b.WriteString("=" + n)
			}
		}
		return b.String()
	}
	switch fr.Type {
	case syncproto.FrameChanges:
		var ch syncproto.Changes
		if fr.Unmarshal(&ch) == nil {
			return fmt.Sprintf("changes %s -> %d more=%v [%s]", ch.Flight, ch.Cursor, ch.More, ops(ch.Ops))
		}
	case syncproto.FrameChangesAck:
		var a syncproto.ChangesAck
		if fr.Unmarshal(&a) == nil {
			return fmt.Sprintf("changes_ack %s %d", a.Flight, a.Cursor)
		}
	case syncproto.FramePush:
		var p syncproto.Push
		if fr.Unmarshal(&p) == nil {
			return fmt.Sprintf("push #%d [%s]", p.Batch, ops(p.Ops))
		}
	case syncproto.FramePushAck:
		var a syncproto.PushAck
		if fr.Unmarshal(&a) == nil {
			var b strings.Builder
			for _, r := range a.Results {
				fmt.Fprintf(&b, " %s:%s%s", w.o.opName(r.ID), r.Result, map[bool]string{true: "/" + r.Code}[r.Code != ""])
			}
			return fmt.Sprintf("push_ack #%d [%s]", a.Batch, strings.TrimSpace(b.String()))
		}
	case syncproto.FrameWelcome:
		var wl syncproto.Welcome
		if fr.Unmarshal(&wl) == nil {
			return fmt.Sprintf("welcome resync=%v cursors %v", wl.Resync, wl.Flights)
		}
	case syncproto.FrameSubscribe:
		var sub syncproto.Subscribe
		if fr.Unmarshal(&sub) == nil {
			return fmt.Sprintf("subscribe %v", sub.Flights)
		}
	case syncproto.FrameError:
		var e syncproto.Error
		if fr.Unmarshal(&e) == nil {
			return fmt.Sprintf("error %s: %s", e.Code, e.Message)
		}
	}
	return fr.Type.String()
}

func mapsKeys[K cmp.Ordered, V any](m map[K]V) []K { return slices.Sorted(maps.Keys(m)) }
