package syncsim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cabincare/cabincare/device/store"
	"github.com/cabincare/cabincare/syncproto"
)

// device is a tablet: the real store, and a client modelled on
// device/syncclient/client.go.
type device struct {
	w         *world
	idx       int
	id, token string
	path      string
	skew      time.Duration // its wall clock is this far off
	st        *store.Store
	linkDown  bool

	// One session's client state, reset on every connection.
	conn        *conn
	welcomed    bool
	caughtUp    bool
	batch       uint64
	pushing     uint64 // the batch in flight, 0 if none
	strayAck    bool   // a PushAck came with no push in flight
	sentFlights map[string]uint64
	more        map[string]bool // flights whose last page had More

	sabotaged bool
}

func (d *device) now() time.Time { return d.w.now().Add(d.skew) }

func (d *device) open() error {
	st, err := store.Open(d.path)
	if err != nil {
		return err
	}
	st.Now = d.now
	st.Clock.Now = d.now
	if err := st.SetDeviceID(d.id); err != nil {
		st.Close()
		return err
	}
	d.st = st
	return nil
}

// held lists the enquiries on the tablet, in id order.
func (d *device) held() ([]syncproto.Enquiry, error) {
	list, err := d.st.Enquiries(context.Background(), "")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b syncproto.Enquiry) int { return slices.Compare(a.ID[:], b.ID[:]) })
	return list, nil
}

// crew records a crew action as the local API does.
func (d *device) crew(pick, what int) error {
	w := d.w
	list, err := d.held()
	if err != nil || len(list) == 0 {
		return err
	}
	e := list[pick%len(list)]
	op := syncproto.Op{ID: w.newID(), Enquiry: e.ID, HLC: d.st.Clock.Tick(), Actor: syncproto.Actor{Type: syncproto.ActorDevice, ID: d.id, Name: "crew"}}
	switch what % 6 {
	case 0:
		op.Kind = syncproto.KindAck
	case 1, 2:
		op.Kind, op.Data = syncproto.KindNote, syncproto.MustData(syncproto.NoteData{Text: fmt.Sprintf("crew note %d", what)})
	default:
		outcomes := []syncproto.Status{syncproto.StatusResolved, syncproto.StatusNotResolved, syncproto.StatusPassengerNotOnBoard, syncproto.StatusEscalated}
		op.Kind, op.Data = syncproto.KindOutcome, syncproto.MustData(syncproto.OutcomeData{Outcome: outcomes[what%4], Note: "done"})
	}
	if _, err := d.st.Record(context.Background(), op); err != nil {
		if syncproto.ErrorCode(err) == syncproto.CodeInternal {
			return err
		}
		w.logf("%s crew %s on %s (%s): refused locally, %s", d.id, op.Kind, w.o.name(e.ID), e.Status, syncproto.ErrorCode(err))
		return nil
	}
	w.o.recorded(d, op)
	w.logf("%s crew %s on %s (%s) = op %s at %s", d.id, op.Kind, w.o.name(e.ID), e.Status, w.o.opName(op.ID), op.HLC)
	if w.cfg.Sabotage == SabotageDropOp && !d.sabotaged {
		d.sabotaged = true
		w.stats.Sabotaged++
		w.logf("SABOTAGE: %s drops op %s from its outbox unsent", d.id, w.o.opName(op.ID))
		if err := d.st.CompletePush([]syncproto.OpResult{{ID: op.ID, Result: syncproto.ResultApplied}}); err != nil {
			return err
		}
	}
	d.pump() // Wake
	return nil
}

func (d *device) openFlight(flight string) error {
	if err := d.st.OpenFlight(flight); err != nil {
		return err
	}
	d.w.logf("%s crew open %s", d.id, flight)
	d.pump() // FlightsChanged
	return nil
}

// connect dials the ground and sends the hello, if the link allows.
func (d *device) connect() {
	if d.conn != nil || d.linkDown {
		return
	}
	st, err := d.st.Status()
	if err != nil {
		return
	}
	c := d.w.dial(d)
	d.conn = c
	d.welcomed, d.caughtUp, d.batch, d.pushing, d.strayAck, d.more = false, false, 0, 0, false, map[string]bool{}
	d.sentFlights = st.Cursors
	epoch := "no epoch"
	switch {
	case st.Epoch == d.w.ground.st.Epoch():
		epoch = "the ground's epoch"
	case st.Epoch != "":
		epoch = "another epoch"
	}
	d.w.logf("c%d %s connects: %s, cursors %v", c.id, d.id, epoch, st.Cursors)
	checkpoints, err := d.st.Checkpoints()
	if err != nil {
		return
	}
	pushed, err := d.st.PushMark()
	if err != nil {
		return
	}
	c.sendUp(d.w.encode(syncproto.FrameHello, &syncproto.Hello{
		Protocol: syncproto.ProtocolVersion, DeviceID: d.id, Token: d.token, Epoch: st.Epoch, Flights: st.Cursors, Checkpoints: checkpoints, Pushed: pushed,
		State: syncproto.DeviceState{Outbox: st.Pending, HLC: d.st.Clock.Last(), Clock: d.now().UnixMilli(), Cursors: st.Cursors},
	}))
}

// disconnected is the client noticing its connection is gone.
func (d *device) disconnected() {
	d.conn = nil
	d.welcomed, d.caughtUp, d.pushing = false, false, 0
}

// fail ends the session from the device's side: an ERROR frame, then the
// close (client conn.fail and its writer).
func (d *device) fail(c *conn, err error) {
	d.w.stats.SessionErrors++
	d.w.logf("c%d %s ends the session: %v", c.id, d.id, err)
	if pe, ok := err.(*syncproto.Error); ok && pe.Code != syncproto.CodeShuttingDown {
		c.sendUp(d.w.encode(syncproto.FrameError, pe))
	}
	c.devLive = false
	c.down = nil
	d.disconnected()
	d.w.gc()
}

func (d *device) restart(keepUp int) error {
	w := d.w
	w.stats.DeviceRestarts++
	if d.conn != nil {
		w.cut(d.conn, keepUp)
	}
	if err := d.st.Close(); err != nil {
		return err
	}
	w.logf("%s restarts (kill -9)", d.id)
	return d.open()
}

// receive handles a frame from the ground (client session + reader).
func (d *device) receive(c *conn, f frame) {
	if d.conn != c || !c.devLive {
		return
	}
	if err := d.handle(c, f); err != nil {
		d.fail(c, err)
	}
}

func (d *device) handle(c *conn, f frame) error {
	w := d.w
	ctx := context.Background()
	fr, err := w.codec.Decode(f.b)
	if err != nil {
		return err
	}
	if !d.welcomed {
		switch fr.Type {
		case syncproto.FrameError:
			var e syncproto.Error
			_ = fr.Unmarshal(&e)
			return &e
		case syncproto.FrameWelcome:
		default:
			return syncproto.Errorf(syncproto.CodeProtocol, "expected welcome, got %s", fr.Type)
		}
		var wel syncproto.Welcome
		if err := fr.Unmarshal(&wel); err != nil {
			return err
		}
		if wel.Resync {
			n, err := d.st.Resync(wel.Epoch, d.id)
			if err != nil {
				return err
			}
			w.logf("c%d %s RESYNC: cursors to zero, %d ops back in the outbox", c.id, d.id, n)
		} else if err := d.st.SetEpoch(wel.Epoch); err != nil {
			return err
		}
		_ = d.st.Clock.Observe(wel.HLC)
		d.welcomed = true
		d.pump()
		return nil
	}
	switch fr.Type {
	case syncproto.FrameChanges:
		var ch syncproto.Changes
		if err := fr.Unmarshal(&ch); err != nil {
			return err
		}
		ops := ch.Ops
		if w.cfg.Sabotage == SabotageSkipPage && !d.sabotaged && len(ops) > 0 {
			d.sabotaged = true
			w.stats.Sabotaged++
			w.logf("SABOTAGE: %s stores the cursor of a page without its %d ops", d.id, len(ops))
			ops = nil
		}
		changed, err := d.st.ApplyChangesAt(ctx, ch.Flight, ops, ch.Cursor, ch.CursorOp)
		if err != nil {
			return fmt.Errorf("store changes: %w", err)
		}
		if w.cfg.History {
			for _, id := range changed {
				if e, err := d.st.Enquiry(ctx, id); err == nil {
					w.logf("%s holds %s: %s on %q", d.id, w.o.name(id), e.Status, e.FlightID)
				} else {
					w.logf("%s purged %s", d.id, w.o.name(id))
				}
			}
		}
		c.sendUp(w.encode(syncproto.FrameChangesAck, &syncproto.ChangesAck{Flight: ch.Flight, Cursor: ch.Cursor}))
		if ch.More {
			d.more[ch.Flight] = true
		} else {
			delete(d.more, ch.Flight)
		}
		if d.caughtUp && len(d.more) == 0 && d.covers(ch.Heads) {
			d.markSynced(f)
		}
		return nil
	case syncproto.FrameReady:
		var r syncproto.Ready
		if err := fr.Unmarshal(&r); err != nil {
			return err
		}
		cur, err := d.st.Cursors()
		if err != nil {
			return err
		}
		for fl := range cur {
			if _, ok := r.Cursors[fl]; !ok {
				return nil // sent before the ground read our subscribe
			}
		}
		d.caughtUp = true
		if len(d.more) == 0 {
			d.markSynced(f)
		}
		return nil
	case syncproto.FramePushAck:
		var a syncproto.PushAck
		if err := fr.Unmarshal(&a); err != nil {
			return err
		}
		if d.pushing == 0 {
			// The client's reader hands it to the pusher's one-slot
			// channel; the pusher meets it at its next push.
			if d.strayAck {
				return syncproto.Errorf(syncproto.CodeProtocol, "push ack %d without a push in flight", a.Batch)
			}
			d.strayAck = true
			return nil
		}
		if a.Batch != d.pushing {
			return syncproto.Errorf(syncproto.CodeProtocol, "push ack for batch %d, expected %d", a.Batch, d.pushing)
		}
		if err := d.st.CompletePushAt(a.Results, a.Stored); err != nil {
			return err
		}
		for _, r := range a.Results {
			if r.Result == syncproto.ResultApplied || r.Result == syncproto.ResultDuplicate {
				w.o.acked(r.ID)
			}
		}
		d.pushing = 0
		// As the client's pusher does: synced if caught up, no flight
		// with pages still to come, and the cursors at the heads the
		// ground reported with the ack.
		if d.caughtUp && len(d.more) == 0 && d.covers(a.Heads) {
			d.markSynced(f)
		}
		d.pump()
		return nil
	case syncproto.FrameHeartbeat:
		return nil
	case syncproto.FrameError:
		var e syncproto.Error
		_ = fr.Unmarshal(&e)
		return &e
	default:
		return syncproto.Errorf(syncproto.CodeProtocol, "unexpected %s frame from the ground", fr.Type)
	}
}

// markSynced is the client's: the store marks it only with an empty
// outbox. The model also checks what the client cannot see: whether the
// ground, when it sent the frame, still had changes for this tablet.
func (d *device) markSynced(f frame) {
	ok, err := d.st.MarkSynced(d.now())
	if err == nil && ok && f.pending {
		d.w.stats.StatusLies++
		d.w.logf("%s marks itself synced on %s while the ground had changes for it it had not sent", d.id, f.t)
	}
}

// pump is one turn of the client's pusher: subscribe to newly opened
// flights, then push the oldest ops if no push is in flight.
func (d *device) pump() {
	c := d.conn
	if c == nil || !d.welcomed || !c.devLive {
		return
	}
	w := d.w
	cur, err := d.st.Cursors()
	if err != nil {
		d.fail(c, err)
		return
	}
	if !sameKeys(cur, d.sentFlights) {
		d.caughtUp = false // until a READY covers the new flights
		c.sendUp(w.encode(syncproto.FrameSubscribe, &syncproto.Subscribe{Flights: cur}))
		d.sentFlights = cur
	}
	if d.pushing != 0 {
		return
	}
	ops, err := d.st.Outbox(w.cfg.MaxBatch, nil)
	if err != nil {
		d.fail(c, err)
		return
	}
	if len(ops) == 0 {
		return
	}
	if d.strayAck {
		d.fail(c, syncproto.Errorf(syncproto.CodeProtocol, "push ack for an earlier batch, expected %d", d.batch+1))
		return
	}
	d.batch++
	d.pushing = d.batch
	w.stats.Pushes++
	c.sendUp(w.encode(syncproto.FramePush, &syncproto.Push{Batch: d.batch, Ops: ops}))
}

// covers reports whether the stored cursors reach heads.
func (d *device) covers(heads map[string]uint64) bool {
	cur, err := d.st.Cursors()
	if err != nil {
		return false
	}
	for f, h := range heads {
		if c, ok := cur[f]; ok && c < h {
			return false
		}
	}
	return true
}

func sameKeys(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}
