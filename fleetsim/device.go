package fleetsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cabincare/cabincare/syncproto"
)

// Counter counts TCP payload bytes in both directions.
type Counter struct {
	Up, Down atomic.Int64
}

type countingConn struct {
	net.Conn
	c *Counter
}

func (k countingConn) Read(p []byte) (int, error) {
	n, err := k.Conn.Read(p)
	k.c.Down.Add(int64(n))
	return n, err
}

func (k countingConn) Write(p []byte) (int, error) {
	n, err := k.Conn.Write(p)
	k.c.Up.Add(int64(n))
	return n, err
}

// Device is a simulated tablet.
type Device struct {
	ID, Token string
	Codec     *syncproto.Codec
	Counter   *Counter
	// OnOps, if set, sees every page of ops the device stores.
	OnOps func(d *Device, flight string, ops []syncproto.Op)

	ws      *websocket.Conn
	wmu     sync.Mutex
	clock   *syncproto.Clock
	ids     *syncproto.IDs
	ready   chan struct{}
	acks    chan syncproto.PushAck
	done    chan struct{}
	err     error
	batch   uint64
	pending atomic.Int64 // Changes frames still carrying More

	mu      sync.Mutex
	cursors map[string]uint64
	ops     int
}

// NewDevice returns an unconnected simulated device serving flights from
// their cursors.
func NewDevice(id, token string, flights map[string]uint64, codec *syncproto.Codec, counter *Counter) *Device {
	cur := map[string]uint64{}
	for f, c := range flights {
		cur[f] = c
	}
	if counter == nil {
		counter = &Counter{}
	}
	return &Device{ID: id, Token: token, Codec: codec, Counter: counter, cursors: cur, clock: syncproto.NewClock(0), ids: syncproto.NewIDs()}
}

// Cursors returns a copy of the device's cursors.
func (d *Device) Cursors() map[string]uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]uint64{}
	for f, c := range d.cursors {
		out[f] = c
	}
	return out
}

// Ops counts the ops the device has received.
func (d *Device) Ops() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ops
}

// Connect dials the ground's sync endpoint and completes the handshake; the
// device then keeps reading (and heartbeating) until Close or an error.
func (d *Device) Connect(ctx context.Context, syncURL string) error {
	dialer := websocket.Dialer{
		HandshakeTimeout: 30 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countingConn{Conn: c, c: d.Counter}, nil
		},
	}
	ws, _, err := dialer.DialContext(ctx, syncURL, nil)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	d.ws = ws
	d.ready, d.acks, d.done = make(chan struct{}), make(chan syncproto.PushAck, 1), make(chan struct{})
	if err := d.send(syncproto.FrameHello, &syncproto.Hello{Protocol: syncproto.ProtocolVersion, DeviceID: d.ID, Token: d.Token, Flights: d.Cursors(), State: syncproto.DeviceState{AppVersion: "fleetsim", HLC: d.clock.Tick(), Clock: time.Now().UnixMilli()}}); err != nil {
		ws.Close()
		return err
	}
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	f, err := d.read()
	if err != nil {
		ws.Close()
		return fmt.Errorf("read welcome: %w", err)
	}
	if f.Type != syncproto.FrameWelcome {
		ws.Close()
		var e syncproto.Error
		_ = f.Unmarshal(&e)
		return fmt.Errorf("handshake refused: %s %s", f.Type, e.Message)
	}
	var w syncproto.Welcome
	if err := f.Unmarshal(&w); err != nil {
		ws.Close()
		return err
	}
	hb := time.Duration(w.HeartbeatMillis) * time.Millisecond
	go d.readLoop(3 * hb)
	go d.heartbeats(hb)
	return nil
}

func (d *Device) send(t syncproto.FrameType, msg any) error {
	b, err := d.Codec.Encode(t, msg)
	if err != nil {
		return err
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	_ = d.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	return d.ws.WriteMessage(websocket.BinaryMessage, b)
}

func (d *Device) read() (syncproto.Frame, error) {
	_, b, err := d.ws.ReadMessage()
	if err != nil {
		return syncproto.Frame{}, err
	}
	return d.Codec.Decode(b)
}

func (d *Device) readLoop(silence time.Duration) {
	defer close(d.done)
	readyClosed := false
	for {
		_ = d.ws.SetReadDeadline(time.Now().Add(silence))
		f, err := d.read()
		if err != nil {
			d.err = err
			return
		}
		switch f.Type {
		case syncproto.FrameChanges:
			var ch syncproto.Changes
			if err := f.Unmarshal(&ch); err != nil {
				d.err = err
				return
			}
			d.mu.Lock()
			d.cursors[ch.Flight] = ch.Cursor
			d.ops += len(ch.Ops)
			d.mu.Unlock()
			if d.OnOps != nil && len(ch.Ops) > 0 {
				d.OnOps(d, ch.Flight, ch.Ops)
			}
			if err := d.send(syncproto.FrameChangesAck, &syncproto.ChangesAck{Flight: ch.Flight, Cursor: ch.Cursor}); err != nil {
				d.err = err
				return
			}
		case syncproto.FrameReady:
			if !readyClosed {
				close(d.ready)
				readyClosed = true
			}
		case syncproto.FramePushAck:
			var a syncproto.PushAck
			if err := f.Unmarshal(&a); err != nil {
				d.err = err
				return
			}
			d.acks <- a
		case syncproto.FrameError:
			var e syncproto.Error
			_ = f.Unmarshal(&e)
			d.err = &e
			return
		}
	}
}

func (d *Device) heartbeats(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			st := syncproto.DeviceState{AppVersion: "fleetsim", HLC: d.clock.Tick(), Clock: time.Now().UnixMilli(), Cursors: d.Cursors()}
			if d.send(syncproto.FrameHeartbeat, &syncproto.Heartbeat{State: &st}) != nil {
				return
			}
		case <-d.done:
			return
		}
	}
}

// WaitReady waits until the server says the catch-up is complete.
func (d *Device) WaitReady(ctx context.Context) error {
	select {
	case <-d.ready:
		return nil
	case <-d.done:
		return fmt.Errorf("device %s: connection ended: %v", d.ID, d.err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WaitOps waits until the device has received at least n ops.
func (d *Device) WaitOps(ctx context.Context, n int) error {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for d.Ops() < n {
		select {
		case <-t.C:
		case <-d.done:
			return fmt.Errorf("device %s: connection ended with %d of %d ops: %v", d.ID, d.Ops(), n, d.err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Push sends ops in one batch and waits for the ground's answer.
func (d *Device) Push(ctx context.Context, ops []syncproto.Op) (syncproto.PushAck, error) {
	d.batch++
	if err := d.send(syncproto.FramePush, &syncproto.Push{Batch: d.batch, Ops: ops}); err != nil {
		return syncproto.PushAck{}, err
	}
	select {
	case a := <-d.acks:
		for _, r := range a.Results {
			if r.Result == syncproto.ResultRefused {
				return a, fmt.Errorf("op refused: %s %s", r.Code, r.Message)
			}
		}
		return a, nil
	case <-d.done:
		return syncproto.PushAck{}, fmt.Errorf("device %s: connection ended: %v", d.ID, d.err)
	case <-ctx.Done():
		return syncproto.PushAck{}, ctx.Err()
	}
}

// Close ends the connection.
func (d *Device) Close() {
	if d.ws == nil {
		return
	}
	d.wmu.Lock()
	_ = d.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	d.wmu.Unlock()
	d.ws.Close()
	<-d.done
}

// Err is why the connection ended, if it did.
func (d *Device) Err() error {
	select {
	case <-d.done:
		if d.err == nil {
			return errors.New("closed")
		}
		return d.err
	default:
		return nil
	}
}

// NewOp builds a crew op of this device.
func (d *Device) NewOp(enquiry [16]byte, kind syncproto.Kind, data any) syncproto.Op {
	op := syncproto.Op{ID: d.ids.New(), Enquiry: enquiry, Kind: kind, HLC: d.clock.Tick(), Actor: syncproto.Actor{Type: syncproto.ActorDevice, ID: d.ID}}
	if data != nil {
		op.Data = syncproto.MustData(data)
	}
	return op
}
