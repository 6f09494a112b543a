package hub

import (
	"context"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// Log is the part of the ground store that tells whether a device's
// cursors and marks come from this database.
type Log interface {
	Epoch() string
	Head() uint64
	OpIDAt(ctx context.Context, seq uint64) (uuid.UUID, error)
}

// MustResync reports whether a device's hello describes another database
// than this ground's: another epoch (a reset, or a restore tool that gives
// one), a cursor or mark past the head, or another op than the device
// was told about at a cursor or at its push mark (a backup copied back in
// place keeps its epoch, and once new writes pass those places the head
// no longer gives it away). The device then starts from zero and pushes
// all its own ops again, since the ground may have lost them.
func MustResync(ctx context.Context, lg Log, h *syncproto.Hello) (bool, error) {
	if h.Epoch != "" && h.Epoch != lg.Epoch() {
		return true, nil
	}
	head := lg.Head()
	at := func(seq uint64, op uuid.UUID) (bool, error) {
		if seq > head {
			return true, nil
		}
		if seq == 0 || op == uuid.Nil {
			return false, nil
		}
		id, err := lg.OpIDAt(ctx, seq)
		return id != op, err
	}
	for f, c := range h.Flights {
		if differs, err := at(c, h.Checkpoints[f]); differs || err != nil {
			return differs, err
		}
	}
	if h.Pushed != nil {
		return at(h.Pushed.Seq, h.Pushed.Op)
	}
	return false, nil
}

// StoredMark is the highest place in the log among the stored results of
// a push, for PushAck.Stored (the hub's sessions and the convergence
// simulation's model of them).
func StoredMark(rs []store.Result) *syncproto.LogMark {
	var m *syncproto.LogMark
	for _, r := range rs {
		if r.Result == syncproto.ResultRefused || r.Seq == 0 {
			continue
		}
		if m == nil || r.Seq > m.Seq {
			m = &syncproto.LogMark{Seq: r.Seq, Op: r.ID}
		}
	}
	return m
}

// OtherHeads is Changes.Heads for the last page of flight fl: the feed
// heads of the session's other flights (nil when it serves only fl).
func OtherHeads(ctx context.Context, st interface {
	FlightHead(ctx context.Context, flight string) (uint64, error)
}, flights map[string]uint64, fl string) (map[string]uint64, error) {
	var heads map[string]uint64
	for other := range flights {
		if other == fl {
			continue
		}
		h, err := st.FlightHead(ctx, other)
		if err != nil {
			return nil, err
		}
		if heads == nil {
			heads = map[string]uint64{}
		}
		heads[other] = h
	}
	return heads, nil
}
