package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

func mustFlight(tb testing.TB, s *store.Store, id string, departs, arrives string) {
	tb.Helper()
	d, _ := time.Parse(time.RFC3339, departs)
	a, _ := time.Parse(time.RFC3339, arrives)
	f := &store.Flight{ID: id, Number: id[:6], Date: id[7:], Origin: "AMS", Destination: "JFK", DepartsAt: &d, ArrivesAt: &a}
	if err := s.CreateFlight(context.Background(), f); err != nil {
		tb.Fatal(err)
	}
}

func TestPassengers(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	mustFlight(t, s, "KL0641-2026-11-23", "2026-11-23T10:15:00Z", "2026-11-23T18:40:00Z")
	mustFlight(t, s, "KL0642-2026-11-26", "2026-11-26T22:30:00Z", "2026-11-27T05:45:00Z")
	james := store.Passenger{FlightID: "KL0641-2026-11-23", Name: "James O'Connor", PNR: "JC9Q3V", Seat: "34B", Cabin: "economy", Tier: "silver", Handles: map[string]string{"twitter": "@JamesOC_Dublin"}, OtherFlights: []string{"KL0642-2026-11-26"}}
	back := james
	back.FlightID, back.Seat, back.OtherFlights = "KL0642-2026-11-26", "33B", []string{"KL0641-2026-11-23"}
	lucia := store.Passenger{FlightID: "KL0641-2026-11-23", Name: "Lucía Fernández Ruiz", PNR: "LF4R2Z", Seat: "27D", Cabin: "economy", Tier: "none", Handles: map[string]string{"facebook": "lucia.fr", "instagram": "@lucia.fr"}}
	taken := store.Passenger{FlightID: "KL0641-2026-11-23", Name: "Somebody Else", PNR: "AAAAAA", Seat: "34B", Cabin: "economy", Tier: "none"}
	ghost := store.Passenger{FlightID: "KL9999-2026-11-23", Name: "Ghost", PNR: "BBBBBB", Seat: "1A", Cabin: "economy", Tier: "none"}

	rs, err := s.PutPassengers(ctx, []store.Passenger{james, back, lucia, james, taken, ghost})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{store.PutCreated, store.PutCreated, store.PutCreated, store.PutSkipped, store.PutRejected, store.PutRejected}
	for i, r := range rs {
		if r.Result != want[i] {
			t.Errorf("put %d = %s (%v), want %s", i, r.Result, r.Err, want[i])
		}
	}
	if syncproto.ErrorCode(rs[4].Err) != syncproto.CodeConflict || syncproto.ErrorCode(rs[5].Err) != syncproto.CodeNotFound {
		t.Errorf("rejections = %v, %v; want conflict, not_found", rs[4].Err, rs[5].Err)
	}

	find := func(q store.PassengerQuery) map[string][]string {
		hits, err := s.FindPassengers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, h := range hits {
			out[h.Passenger.ID] = h.By
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    store.PassengerQuery
		want map[string][]string
	}{
		{"HandleSameChannel", store.PassengerQuery{Channel: "twitter", Handle: "@jamesoc_dublin"}, map[string][]string{"KL0641-2026-11-23/34B": {"handle:twitter"}, "KL0642-2026-11-26/33B": {"handle:twitter"}}},
		{"HandleOtherChannel", store.PassengerQuery{Channel: "instagram", Handle: "JamesOC_Dublin"}, map[string][]string{"KL0641-2026-11-23/34B": {"handle"}, "KL0642-2026-11-26/33B": {"handle"}}},
		{"MessengerIsFacebook", store.PassengerQuery{Channel: "messenger", Handle: "lucia.fr"}, map[string][]string{"KL0641-2026-11-23/27D": {"handle:messenger"}}},
		{"PNRAnyCase", store.PassengerQuery{PNRs: []string{"lf4r2z", "THANKS"}}, map[string][]string{"KL0641-2026-11-23/27D": {"pnr"}}},
		{"NameWithoutAccents", store.PassengerQuery{Names: []string{"lucia fernandez-ruiz"}}, map[string][]string{"KL0641-2026-11-23/27D": {"name"}}},
		{"ShortName", store.PassengerQuery{Names: []string{"James O."}}, map[string][]string{"KL0641-2026-11-23/34B": {"name"}, "KL0642-2026-11-26/33B": {"name"}}},
		{"FlightNumberAndSeat", store.PassengerQuery{Seats: []store.NumberSeat{{Number: "KL0642", Seat: "33B"}, {Number: "KL0642", Seat: "1A"}}}, map[string][]string{"KL0642-2026-11-26/33B": {"seat"}}},
		{"Several", store.PassengerQuery{Channel: "twitter", Handle: "@jamesoc_dublin", PNRs: []string{"JC9Q3V"}}, map[string][]string{"KL0641-2026-11-23/34B": {"handle:twitter", "pnr"}, "KL0642-2026-11-26/33B": {"handle:twitter", "pnr"}}},
		{"Nothing", store.PassengerQuery{Channel: "twitter", Handle: "@nobody", Names: []string{"Anna"}}, map[string][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := find(tc.q)
			if len(got) != len(tc.want) {
				t.Fatalf("hits = %v, want %v", got, tc.want)
			}
			for id, by := range tc.want {
				if !slices.Equal(got[id], by) {
					t.Errorf("%s by %v, want %v", id, got[id], by)
				}
			}
		})
	}
	b, err := s.Booking(ctx, "jc9q3v")
	if err != nil || len(b) != 2 {
		t.Errorf("booking = %d lines (%v), want 2", len(b), err)
	}
	if ps, err := s.FlightPassengers(ctx, "KL0641-2026-11-23"); err != nil || len(ps) != 2 {
		t.Errorf("KL0641 manifest = %d (%v), want 2", len(ps), err)
	}
	if _, err := s.Passenger(ctx, "KL0641-2026-11-23", "1A"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing passenger: %v", err)
	}
}

// Ensure the store keeps the queue, the thread index, the open set and
// the figures in step with the ops, in the ops' transaction.
func TestCareIndexes(t *testing.T) {
	ctx := context.Background()
	s, c := MustOpenStore(t), newHLCs()
	mustFlight(t, s, "KL0641-2026-11-23", "2026-11-23T10:15:00Z", "2026-11-23T18:40:00Z")
	at := func(v string) time.Time { t, _ := time.Parse(time.RFC3339, v); return t }
	create := func(ext, channel, received string, target time.Duration, thread string) uuid.UUID {
		op := newOp(c, syncproto.NewOpID(), syncproto.KindCreate, agent, syncproto.CreateData{Channel: channel, ExternalID: ext, Handle: "@h", Text: "hi", Language: "en", ReceivedAt: at(received)})
		op.ID = op.Enquiry
		rs, err := s.ApplyCare(ctx, []syncproto.Op{op}, strict, map[uuid.UUID]*store.Care{op.Enquiry: {Thread: thread, SLA: time.Hour, Target: target, Priority: store.Priority{Score: int(time.Hour / target)}}})
		if err != nil || rs[0].Result != syncproto.ResultApplied {
			t.Fatalf("create: %v %+v", err, rs)
		}
		return op.Enquiry
	}
	queue := func() []uuid.UUID {
		items, err := s.Queue(ctx, store.QueueFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []uuid.UUID
		for _, it := range items {
			ids = append(ids, it.Enquiry.ID)
		}
		return ids
	}
	a := create("a", "twitter", "2026-11-23T08:00:00Z", time.Hour, "")           // due 09:00
	b := create("b", "whatsapp", "2026-11-23T08:10:00Z", 30*time.Minute, "+316") // due 08:40
	d := create("d", "twitter", "2026-11-23T08:30:00Z", 10*time.Minute, "dm:1")  // due 08:40, higher score
	if got, want := queue(), []uuid.UUID{d, b, a}; !slices.Equal(got, want) {
		t.Fatalf("queue = %v, want %v", got, want)
	}
	if id, ok, err := s.ThreadEnquiry(ctx, "whatsapp", "+316"); err != nil || !ok || id != b {
		t.Fatalf("thread = %s %v %v, want %s", id, ok, err, b)
	}

	// A follow-up moves nothing that is already owed; a duplicate of it
	// is answered as such.
	msg := newOp(c, b, syncproto.KindMessage, syncproto.Actor{Type: syncproto.ActorSystem, ID: "intake"}, syncproto.MessageData{ExternalID: "b2", Text: "and?", ReceivedAt: at("2026-11-23T08:20:00Z")})
	MustApplyOK(t, s, strict, msg)
	again := newOp(c, b, syncproto.KindMessage, syncproto.Actor{Type: syncproto.ActorSystem, ID: "intake"}, syncproto.MessageData{ExternalID: "b2", Text: "and?", ReceivedAt: at("2026-11-23T08:20:00Z")})
	if rs := MustApply(t, s, strict, again); rs[0].Result != syncproto.ResultDuplicate || rs[0].Enquiry.ID != b {
		t.Fatalf("the same message again = %+v", rs[0])
	}
	cr, err := s.Care(ctx, b)
	if err != nil || !cr.Deadline.Equal(at("2026-11-23T08:40:00Z")) || !cr.ReplyWindowClosesAt.Equal(at("2026-11-24T08:20:00Z")) {
		t.Fatalf("care = %+v (%v)", cr, err)
	}

	// A reply answers: no deadline, last in the queue; a first-response
	// figure at the reply's time.
	MustApplyOK(t, s, strict, newOp(c, d, syncproto.KindReply, agent, syncproto.ReplyData{Text: "on it", SentAt: at("2026-11-23T08:33:00Z")}))
	if got, want := queue(), []uuid.UUID{b, a, d}; !slices.Equal(got, want) {
		t.Fatalf("queue after the reply = %v, want %v", got, want)
	}
	fs, err := s.Figures(ctx, store.FigureFirstResponse, at("2026-11-23T08:33:00Z"), at("2026-11-23T08:34:00Z"))
	if err != nil || len(fs) != 1 || fs[0].Duration != 3*time.Minute || fs[0].By != "Ana" {
		t.Fatalf("figures = %+v (%v)", fs, err)
	}
	if fs, _ := s.Figures(ctx, store.FigureFirstResponse, at("2026-11-23T08:34:00Z"), at("2026-11-24T00:00:00Z")); len(fs) != 0 {
		t.Errorf("figures after the range = %+v", fs)
	}
	arr, err := s.Arrivals(ctx, at("2026-11-23T00:00:00Z"), at("2026-11-24T00:00:00Z"))
	if err != nil || len(arr) != 3 || arr[2].Enquiry != d || arr[2].FirstResponse == nil || *arr[2].FirstResponse != 3*time.Minute || arr[0].FirstResponse != nil {
		t.Errorf("arrivals = %+v (%v)", arr, err)
	}

	// A close takes the enquiry out of the queue, the thread and the open
	// set; the target can be changed on the others.
	MustApplyOK(t, s, strict, newOp(c, b, syncproto.KindClose, agent, syncproto.CloseData{}))
	if _, ok, _ := s.ThreadEnquiry(ctx, "whatsapp", "+316"); ok {
		t.Error("the thread still points at a closed enquiry")
	}
	if got, want := queue(), []uuid.UUID{a, d}; !slices.Equal(got, want) {
		t.Fatalf("queue after the close = %v, want %v", got, want)
	}
	n, oldest, err := s.OpenStats(ctx)
	if err != nil || n != 2 || !oldest.Equal(at("2026-11-23T08:00:00Z")) {
		t.Errorf("open = %d since %s (%v), want 2 since 08:00", n, oldest, err)
	}
	if _, err := s.UpdateCare(ctx, a, func(c *store.Care) error { c.Target, c.TargetSet = 5*time.Minute, true; return nil }); err != nil {
		t.Fatal(err)
	}
	if cr, _ := s.Care(ctx, a); !cr.Deadline.Equal(at("2026-11-23T08:05:00Z")) {
		t.Errorf("deadline after a target change = %v, want 08:05", cr.Deadline)
	}
	if got, want := queue(), []uuid.UUID{a, d}; !slices.Equal(got, want) {
		t.Errorf("queue = %v, want %v", got, want)
	}

	// An enquiry made without a care record (straight through Apply) gets
	// the default one.
	plain := createOp(c, "plain")
	MustApplyOK(t, s, strict, plain)
	if cr, err := s.Care(ctx, plain.Enquiry); err != nil || cr.Target != store.DefaultSLA || cr.Deadline == nil {
		t.Errorf("default care = %+v (%v)", cr, err)
	}
}

// Ensure customer messages reach the flight's feed until it lands.
func TestMessageFeed(t *testing.T) {
	ctx := context.Background()
	s, c := MustOpenStore(t), newHLCs()
	// A flight that landed an hour ago, and one that lands tomorrow.
	now := time.Now().UTC()
	mustFlight(t, s, "KL0001-2026-11-23", now.Add(-9*time.Hour).Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339))
	mustFlight(t, s, "KL0002-2026-11-23", now.Add(-time.Hour).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339))
	for flight, want := range map[string]bool{"KL0001-2026-11-23": false, "KL0002-2026-11-23": true} {
		create := createOp(c, "x-"+flight)
		MustApplyOK(t, s, strict, create, assignOp(c, create.Enquiry, flight))
		msg := newOp(c, create.Enquiry, syncproto.KindMessage, agent, syncproto.MessageData{ExternalID: "m-" + flight, Text: "hello?", ReceivedAt: now})
		rs := MustApplyOK(t, s, strict, msg)
		p, err := s.Changes(ctx, flight, 0, 100, "")
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(p.Ops, func(o syncproto.Op) bool { return o.ID == msg.ID })
		if got != want || slices.Contains(rs[0].Flights, flight) != want {
			t.Errorf("%s: message in the feed = %v (fan-out %v), want %v", flight, got, rs[0].Flights, want)
		}
	}
}
