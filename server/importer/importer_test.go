package importer_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cabincare/cabincare/server/care"
	"github.com/cabincare/cabincare/server/importer"
	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// MustOpenService opens a care service on a store in a temporary folder.
func MustOpenService(tb testing.TB) (*care.Service, *store.Store) {
	tb.Helper()
	st, err := store.Open(filepath.Join(tb.TempDir(), "ground.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := st.Check(); err != nil {
			tb.Errorf("store check: %v", err)
		}
		st.Close()
	})
	now := func() time.Time { return t0 }
	st.Now = now
	clock := syncproto.NewClock(0)
	clock.Now = now
	ids := syncproto.NewIDs()
	ids.Now = now
	return &care.Service{Store: st, Clock: clock, IDs: ids, Log: slog.New(slog.DiscardHandler), Now: now}, st
}

func open(tb testing.TB, path string) *os.File {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

func mustImport(tb testing.TB, im *importer.Importer, kind importer.Kind, path string) *importer.Summary {
	tb.Helper()
	format, err := importer.DetectFormat(path)
	if err != nil {
		tb.Fatal(err)
	}
	sum, err := im.Import(context.Background(), kind, format, open(tb, path))
	if err != nil {
		tb.Fatalf("import %s: %v", path, err)
	}
	return sum
}

type rejection struct {
	line int
	says string
}

func checkSummary(tb testing.TB, got *importer.Summary, lines, created, joined, skipped int, rejected []rejection) {
	tb.Helper()
	if got.Lines != lines || got.Created != created || got.Joined != joined || got.Skipped != skipped || got.Rejected != len(rejected) {
		tb.Errorf("%s: lines %d created %d joined %d skipped %d rejected %d, want %d %d %d %d %d (rejections %+v)",
			got.Kind, got.Lines, got.Created, got.Joined, got.Skipped, got.Rejected, lines, created, joined, skipped, len(rejected), got.Rejections)
	}
	for i, want := range rejected {
		if i >= len(got.Rejections) {
			break
		}
		r := got.Rejections[i]
		if r.Line != want.line || !strings.Contains(r.Reason, want.says) {
			tb.Errorf("rejection %d = line %d %q, want line %d mentioning %q", i, r.Line, r.Reason, want.line, want.says)
		}
	}
}

// Ensure CSV files import with each line's result, rejected lines give
// their line number and reason, and a second import skips everything.
func TestImport_CSV(t *testing.T) {
	svc, st := MustOpenService(t)
	im := &importer.Importer{Care: svc, Actor: syncproto.Actor{Type: syncproto.ActorSystem, ID: "import"}, BatchSize: 2}

	checkSummary(t, mustImport(t, im, importer.KindFlights, "testdata/flights.csv"), 7, 2, 0, 1, []rejection{
		{4, "flight number"}, {5, "departs_at"}, {6, "wrong number of fields"}, {8, "exists already with other data"},
	})
	checkSummary(t, mustImport(t, im, importer.KindManifests, "testdata/manifests.csv"), 8, 3, 0, 0, []rejection{
		{5, "seat"}, {6, "other_flights"}, {7, "KL0999-2026-11-23 does not exist"}, {8, "James O'Connor"}, {9, "fax"},
	})
	checkSummary(t, mustImport(t, im, importer.KindEnquiries, "testdata/enquiries.csv"), 7, 2, 1, 1, []rejection{
		{5, "channel"}, {6, "received_at"}, {7, "public"},
	})

	// The manifest line carries its handles and its other flights.
	p, err := st.Passenger(context.Background(), "KL0641-2026-11-23", "12A")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Anna de Vries" || p.Tier != "gold" || p.Handles["facebook"] != "anna.devries" || p.Handles["twitter"] != "@annadv" {
		t.Errorf("passenger = %+v", p)
	}
	// The WhatsApp follow-up joined the first message's enquiry.
	list, err := st.Enquiries(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(list), 2; got != want {
		t.Fatalf("enquiries = %d, want %d", got, want)
	}
	for _, l := range list {
		if l.Enquiry.Channel == "whatsapp" && !l.Enquiry.LastMessageAt.Equal(time.Date(2026, 11, 22, 12, 30, 22, 0, time.UTC)) {
			t.Errorf("whatsapp last message = %s, want the follow-up's time", l.Enquiry.LastMessageAt)
		}
	}

	// Again: nothing new.
	checkSummary(t, mustImport(t, im, importer.KindFlights, "testdata/flights.csv"), 7, 0, 0, 3, []rejection{{4, ""}, {5, ""}, {6, ""}, {8, ""}})
	checkSummary(t, mustImport(t, im, importer.KindManifests, "testdata/manifests.csv"), 8, 0, 0, 3, []rejection{{5, ""}, {6, ""}, {7, ""}, {8, ""}, {9, ""}})
	checkSummary(t, mustImport(t, im, importer.KindEnquiries, "testdata/enquiries.csv"), 7, 0, 0, 4, []rejection{{5, ""}, {6, ""}, {7, ""}})
}

// Ensure the sample set imports whole, with progress reported, and that
// NDJSON lines are decoded strictly.
func TestImport_SampleSet(t *testing.T) {
	svc, st := MustOpenService(t)
	var calls int
	var lastLines int
	im := &importer.Importer{Care: svc, Actor: syncproto.Actor{Type: syncproto.ActorSystem, ID: "import"}, Progress: func(read int64, lines int) {
		calls++
		if lines < lastLines {
			t.Errorf("progress went back from %d to %d lines", lastLines, lines)
		}
		lastLines = lines
	}}
	root := filepath.Join("..", "..", "testdata")
	lastLines = 0
	checkSummary(t, mustImport(t, im, importer.KindFlights, filepath.Join(root, "flights.ndjson")), 156, 156, 0, 0, nil)
	lastLines = 0
	checkSummary(t, mustImport(t, im, importer.KindManifests, filepath.Join(root, "manifests.ndjson")), 5385, 5385, 0, 0, nil)
	lastLines = 0
	checkSummary(t, mustImport(t, im, importer.KindEnquiries, filepath.Join(root, "enquiries.ndjson")), 3000, 3000, 0, 0, nil)
	if calls < 10 {
		t.Errorf("progress called %d times, want one per batch at least", calls)
	}
	ps, err := st.FlightPassengers(context.Background(), "KL0641-2026-11-23")
	if err != nil || len(ps) < 20 {
		t.Fatalf("KL0641 manifest = %d passengers (%v), want 20 or more", len(ps), err)
	}
	n, _, err := st.OpenStats(context.Background())
	if err != nil || n != 3000 {
		t.Errorf("open enquiries = %d (%v), want 3000", n, err)
	}
}

func TestParseNDJSON(t *testing.T) {
	long := `{"number":"` + strings.Repeat("K", importer.MaxLine) + `"}`
	in := strings.Join([]string{
		`{"number":"KL0641","date":"2026-11-23","origin":"AMS","destination":"JFK"}`, // 1 ok
		``,                                   // 2 blank: skipped
		`{"number":"KL0642","colour":"red"}`, // 3 unknown field
		`{"number":642}`,                     // 4 wrong type
		`{"number":"KL0643"} {}`,             // 5 trailing data
		`{"number":"KL06`,                    // 6 truncated
		long,                                 // 7 too long
		`null`,                               // 8 null
		"{\"number\":\"KL0644\"}\r",          // 9 CRLF is fine
		`[1,2]`,                              // 10 not an object
	}, "\n")
	type res struct {
		n  int
		ok bool
	}
	var got []res
	err := importer.ParseFlights(strings.NewReader(in), importer.NDJSON, func(l importer.Line[care.NewFlight]) error {
		got = append(got, res{l.N, l.Err == nil})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []res{{1, true}, {3, false}, {4, false}, {5, false}, {6, false}, {7, false}, {8, false}, {9, true}, {10, false}}
	if len(got) != len(want) {
		t.Fatalf("lines = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseCSV_Header(t *testing.T) {
	for name, in := range map[string]string{
		"UnknownColumn":   "number,date,colour\nKL1,2026-11-23,red\n",
		"DuplicateColumn": "number,number\nKL1,KL2\n",
		"BadQuote":        "\"number\nKL1\n",
	} {
		t.Run(name, func(t *testing.T) {
			err := importer.ParseFlights(strings.NewReader(in), importer.CSV, func(importer.Line[care.NewFlight]) error { return nil })
			if err == nil || !strings.Contains(err.Error(), "line 1") {
				t.Errorf("err = %v, want a line 1 error", err)
			}
		})
	}
	// A BOM and upper-case headers are fine; an empty file has no lines.
	n := 0
	err := importer.ParseFlights(strings.NewReader("\ufeffNumber,DATE\nKL0641,2026-11-23\n"), importer.CSV, func(l importer.Line[care.NewFlight]) error {
		n++
		if l.Err != nil || l.Record.Number != "KL0641" || l.N != 2 {
			t.Errorf("line = %+v", l)
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Errorf("BOM: err %v, %d lines", err, n)
	}
	if err := importer.ParseFlights(strings.NewReader(""), importer.CSV, func(importer.Line[care.NewFlight]) error { t.Error("line in an empty file"); return nil }); err != nil {
		t.Errorf("empty: %v", err)
	}
}

func TestDetect(t *testing.T) {
	for name, want := range map[string]importer.Kind{"testdata/flights.ndjson": importer.KindFlights, "Manifests-2026.csv": importer.KindManifests, "passengers.jsonl": importer.KindManifests, "enquiries.ndjson": importer.KindEnquiries} {
		if got, err := importer.DetectKind(name); got != want || err != nil {
			t.Errorf("DetectKind(%s) = %s %v, want %s", name, got, err, want)
		}
	}
	if _, err := importer.DetectKind("data.ndjson"); err == nil {
		t.Error("DetectKind(data.ndjson) = nil error")
	}
	for name, want := range map[string]importer.Format{"a.csv": importer.CSV, "a.NDJSON": importer.NDJSON, "a.jsonl": importer.NDJSON} {
		if got, err := importer.DetectFormat(name); got != want || err != nil {
			t.Errorf("DetectFormat(%s) = %s %v, want %s", name, got, err, want)
		}
	}
	if _, err := importer.DetectFormat("a.xlsx"); err == nil {
		t.Error("DetectFormat(a.xlsx) = nil error")
	}
}

// parseAll runs every parser over data in a format and checks the line
// numbers only go up; it must never panic.
func parseAll(t *testing.T, data []byte, f importer.Format) {
	check := func(kind string) func(n int) {
		last := 0
		return func(n int) {
			if n <= last && !(f == importer.CSV && n == last) {
				t.Fatalf("%s: line %d after line %d", kind, n, last)
			}
			last = n
		}
	}
	c1, c2, c3 := check("flights"), check("manifests"), check("enquiries")
	_ = importer.ParseFlights(bytes.NewReader(data), f, func(l importer.Line[care.NewFlight]) error { c1(l.N); return nil })
	_ = importer.ParseManifests(bytes.NewReader(data), f, func(l importer.Line[importer.ManifestRecord]) error {
		c2(l.N)
		if l.Err == nil {
			_ = l.Record.Passenger()
			_, _ = care.ValidatePassenger(l.Record.FlightID(), l.Record.Passenger())
		}
		return nil
	})
	_ = importer.ParseEnquiries(bytes.NewReader(data), f, func(l importer.Line[importer.EnquiryRecord]) error { c3(l.N); return nil })
}

func FuzzParseNDJSON(f *testing.F) {
	for _, name := range []string{"flights.ndjson", "manifests.ndjson", "enquiries.ndjson"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		// The first lines are enough of a seed.
		lines := bytes.SplitN(b, []byte("\n"), 4)
		f.Add(bytes.Join(lines[:3], []byte("\n")))
	}
	f.Fuzz(func(t *testing.T, data []byte) { parseAll(t, data, importer.NDJSON) })
}

func FuzzParseCSV(f *testing.F) {
	for _, name := range []string{"flights.csv", "manifests.csv", "enquiries.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) { parseAll(t, data, importer.CSV) })
}
