package device_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cabincare/cabincare/device/api"
	"github.com/cabincare/cabincare/device/store"
	"github.com/cabincare/cabincare/syncproto"
)

type idle struct{}

func (idle) Wake()                          {}
func (idle) FlightsChanged()                {}
func (idle) Connected() bool                { return false }
func (idle) LastError() (string, time.Time) { return "", time.Time{} }

// seed fills a device store with n enquiries on one flight, each created,
// assigned and noted, through ApplyChanges as a pull would.
func seed(tb testing.TB, path string, n int) {
	tb.Helper()
	st, err := store.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	const flight = "KL0641-2026-11-23"
	if err := st.OpenFlight(flight); err != nil {
		tb.Fatal(err)
	}
	ids, clock := syncproto.NewIDs(), syncproto.NewClock(0)
	agent := syncproto.Actor{Type: syncproto.ActorAgent, ID: "admin"}
	var page []syncproto.Op
	for i := range n {
		enq := ids.New()
		page = append(page,
			syncproto.Op{ID: enq, Enquiry: enq, Kind: syncproto.KindCreate, HLC: clock.Tick(), Actor: agent, Data: syncproto.MustData(syncproto.CreateData{Channel: "twitter", ExternalID: fmt.Sprintf("tw-%d", i), Handle: "@pax", Customer: "Anna de Vries", Text: "My meal on the outbound flight was cold and nobody came back to me.", Language: "en", ReceivedAt: time.Unix(1_795_000_000, 0).UTC()})},
			syncproto.Op{ID: ids.New(), Enquiry: enq, Kind: syncproto.KindAssign, HLC: clock.Tick(), Actor: agent, Data: syncproto.MustData(syncproto.AssignData{FlightID: flight, PassengerName: "Anna de Vries", Seat: fmt.Sprintf("%dA", 10+i%30), Instructions: "Serve her first and apologise for the outbound meal."})},
			syncproto.Op{ID: ids.New(), Enquiry: enq, Kind: syncproto.KindNote, HLC: clock.Tick(), Actor: agent, Data: syncproto.MustData(syncproto.NoteData{Text: "Gold member, travelling with her daughter."})})
		if len(page) >= 999 || i == n-1 {
			if _, err := st.ApplyChanges(context.Background(), flight, page, uint64(i+1)); err != nil {
				tb.Fatal(err)
			}
			page = page[:0]
		}
	}
}

// BenchmarkListEnquiries500 is GET /api/v1/enquiries on a flight of 500
// enquiries (target: under 5 ms).
func BenchmarkListEnquiries500(b *testing.B) {
	path := filepath.Join(b.TempDir(), "cabin.db")
	seed(b, path, 500)
	st, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e := echo.New()
	(&api.API{Store: st, Sync: idle{}, DeviceID: "bench", APIToken: "bench"}).Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()
	for b.Loop() {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/enquiries", nil)
		req.Header.Set("Authorization", "Bearer bench")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// BenchmarkColdStart10k opens a store holding 10,000 enquiries (target:
// under 200 ms).
func BenchmarkColdStart10k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "cabin.db")
	seed(b, path, 10_000)
	for b.Loop() {
		st, err := store.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
}
