package store

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// listed decodes List's summaries to (id, status) pairs.
func listed(t *testing.T, s *Store, flight string) []string {
	t.Helper()
	raw, err := s.List(context.Background(), flight)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range raw {
		var e struct {
			ID      uuid.UUID
			Status  string
			History []any
		}
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatal(err)
		}
		if e.History != nil {
			t.Fatalf("list summary carries history: %s", r)
		}
		out = append(out, e.ID.String()+" "+e.Status)
	}
	return out
}

// expected derives the list from full states, the slow way.
func expected(t *testing.T, s *Store, flight string) []string {
	t.Helper()
	all, err := s.Enquiries(context.Background(), flight)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range all {
		out = append(out, e.ID.String()+" "+string(CrewStatus(e.Status)))
	}
	return out
}

// Ensure the list index always lists what the full states say, in the same
// order, through pulls, crew actions, out-of-order pages, a move away (purge)
// and back, and that a store without the index gets it rebuilt on open.
func TestListIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cabin.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const f, g = "KL0641-2026-11-23", "KL0642-2026-11-26"
	if err := s.OpenFlight(f); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ids, clock := syncproto.NewIDs(), syncproto.NewClock(0)
	agent := syncproto.Actor{Type: syncproto.ActorAgent, ID: "admin"}
	dev := syncproto.Actor{Type: syncproto.ActorDevice, ID: "d1"}
	var enqs []uuid.UUID
	var late []syncproto.Op
	var page []syncproto.Op
	for i := range 6 {
		enq := ids.New()
		enqs = append(enqs, enq)
		page = append(page,
			syncproto.Op{ID: enq, Enquiry: enq, Kind: syncproto.KindCreate, HLC: clock.Tick(), Actor: agent, Data: syncproto.MustData(syncproto.CreateData{Channel: "twitter", ExternalID: uuid.NewString(), Handle: "@p", Text: "t", Language: "en"})},
			syncproto.Op{ID: ids.New(), Enquiry: enq, Kind: syncproto.KindAssign, HLC: clock.Tick(), Actor: agent, Data: syncproto.MustData(syncproto.AssignData{FlightID: f, Seat: "1A"})})
		if i == 5 {
			late = append(late, page[len(page)-2:]...) // arrives in a later page
			page = page[:len(page)-2]
		}
	}
	check := func(when string) {
		t.Helper()
		if got, want := listed(t, s, f), expected(t, s, f); !slices.Equal(got, want) {
			t.Fatalf("%s: list = %v, want %v", when, got, want)
		}
	}
	if _, err := s.ApplyChanges(ctx, f, page, 10); err != nil {
		t.Fatal(err)
	}
	check("after a pull")
	if len(listed(t, s, f)) != 5 {
		t.Fatalf("listed %d, want 5", len(listed(t, s, f)))
	}
	rec := func(enq uuid.UUID, kind syncproto.Kind, data any) {
		op := syncproto.Op{ID: ids.New(), Enquiry: enq, Kind: kind, HLC: s.Clock.Tick(), Actor: dev}
		if data != nil {
			op.Data = syncproto.MustData(data)
		}
		if _, err := s.Record(ctx, op); err != nil {
			t.Fatal(err)
		}
	}
	rec(enqs[0], syncproto.KindAck, nil)
	rec(enqs[1], syncproto.KindOutcome, syncproto.OutcomeData{Outcome: syncproto.StatusResolved})
	rec(enqs[2], syncproto.KindNote, syncproto.NoteData{Text: "n"})
	check("after crew actions")
	if got := listed(t, s, f); got[len(got)-1] != enqs[1].String()+" resolved" {
		t.Fatalf("the resolved enquiry is not last: %v", got)
	}
	if _, err := s.ApplyChanges(ctx, f, late, 20); err != nil {
		t.Fatal(err)
	}
	check("after a late page")
	move := syncproto.Op{ID: ids.New(), Enquiry: enqs[3], Kind: syncproto.KindAssign, HLC: clock.Tick(), Actor: agent, Data: syncproto.MustData(syncproto.AssignData{FlightID: g})}
	if _, err := s.ApplyChanges(ctx, f, []syncproto.Op{move}, 30); err != nil {
		t.Fatal(err)
	}
	check("after a move away")
	if slices.ContainsFunc(listed(t, s, f), func(x string) bool { return x[:36] == enqs[3].String() }) {
		t.Fatal("a moved enquiry is still listed")
	}

	// A store written before the index existed gets it on open.
	want := listed(t, s, f)
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bktList) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := listed(t, s, f); !slices.Equal(got, want) {
		t.Fatalf("rebuilt list = %v, want %v", got, want)
	}
}
