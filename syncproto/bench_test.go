package syncproto

import (
	"fmt"
	"testing"
	"time"
)

func benchOps(n int) []Op {
	ids, clock := NewIDs(), NewClock(0)
	agent := Actor{Type: ActorAgent, ID: "admin"}
	var ops []Op
	for i := 0; len(ops) < n; i++ {
		enq := ids.New()
		ops = append(ops,
			Op{ID: enq, Enquiry: enq, Kind: KindCreate, HLC: clock.Tick(), Actor: agent, Data: MustData(CreateData{Channel: "twitter", ExternalID: fmt.Sprintf("tw-%d", i), Handle: "@anna", Text: "My meal on the outbound flight was cold and the crew ran out of the vegetarian option.", Language: "en", ReceivedAt: time.Unix(1_800_000_000, 0).UTC()})},
			Op{ID: ids.New(), Enquiry: enq, Kind: KindAssign, HLC: clock.Tick(), Actor: agent, Data: MustData(AssignData{FlightID: "KL0642-2026-11-26", Seat: "12A", PassengerName: "Anna de Vries", Instructions: "Serve her first."})})
	}
	return ops[:n]
}

// BenchmarkCodec encodes and decodes a full Changes page.
func BenchmarkCodec(b *testing.B) {
	for _, compress := range []bool{true, false} {
		b.Run(fmt.Sprintf("compress=%v", compress), func(b *testing.B) {
			c := NewCodec(DefaultMaxFrame, compress)
			msg := &Changes{Flight: "KL0642-2026-11-26", Ops: benchOps(DefaultMaxBatch), Cursor: 1 << 20}
			var size int
			for b.Loop() {
				frame, err := c.Encode(FrameChanges, msg)
				if err != nil {
					b.Fatal(err)
				}
				f, err := c.Decode(frame)
				if err != nil {
					b.Fatal(err)
				}
				var out Changes
				if err := f.Unmarshal(&out); err != nil {
					b.Fatal(err)
				}
				size = len(frame)
			}
			b.ReportMetric(float64(size)/float64(DefaultMaxBatch), "B/op-on-wire")
		})
	}
}

// BenchmarkFold folds an enquiry of 50 ops from scratch, and appends one op
// incrementally.
func BenchmarkFold(b *testing.B) {
	ops := benchOps(2)
	ids, clock := NewIDs(), NewClock(ops[1].HLC)
	dev := Actor{Type: ActorDevice, ID: "tablet-1"}
	for i := range 48 {
		ops = append(ops, Op{ID: ids.New(), Enquiry: ops[0].Enquiry, Kind: KindNote, HLC: clock.Tick(), Actor: dev, Data: MustData(NoteData{Text: fmt.Sprintf("note %d", i)})})
	}
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			_ = Fold(ops)
		}
	})
	b.Run("append", func(b *testing.B) {
		base := Fold(ops[:len(ops)-1])
		last := ops[len(ops)-1]
		for b.Loop() {
			e := base.Clone()
			e.Apply(&last)
		}
	})
}
