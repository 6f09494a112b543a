package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/cabincare/cabincare/syncproto"
)

// Passenger is one passenger on one flight's manifest. A booking (PNR)
// with an outbound and a return has one Passenger per flight; OtherFlights
// links them, so the return flight can be found from the outbound.
type Passenger struct {
	// ID is "FLIGHT_ID/SEAT" (KL0641-2026-11-23/12A).
	ID       string `json:"id"`
	FlightID string `json:"flight_id"`
	Name     string `json:"name"`
	PNR      string `json:"pnr"`
	Seat     string `json:"seat"`
	Cabin    string `json:"cabin"`
	Tier     string `json:"tier"`
	// Handles are the social handles stored on the booking, by channel
	// (facebook also serves Messenger).
	Handles map[string]string `json:"handles"`
	// OtherFlights are the ids of the passenger's other flights on the
	// same booking, in time order.
	OtherFlights []string `json:"other_flights"`
}

// PassengerID is the id of the passenger in seat on flight.
func PassengerID(flightID, seat string) string { return flightID + "/" + seat }

// Put results, for imports.
const (
	PutCreated  = "created"
	PutSkipped  = "skipped"  // the same record is there already
	PutRejected = "rejected" // see Err
)

// PutResult is what a bulk put did with one record.
type PutResult struct {
	Result string
	Err    error // for PutRejected: a *syncproto.Error
}

// PutPassengers stores manifest lines in one transaction. A passenger whose
// seat holds the same record already is skipped; one whose flight does not
// exist, or whose seat holds another passenger, is rejected. The indexes by
// handle, PNR and name are written with each.
func (s *Store) PutPassengers(ctx context.Context, ps []Passenger) ([]PutResult, error) {
	var out []PutResult
	err := s.db.Batch(func(tx *bolt.Tx) error {
		out = make([]PutResult, len(ps))
		b := tx.Bucket(bktPax)
		for i := range ps {
			p := &ps[i]
			p.ID = PassengerID(p.FlightID, p.Seat)
			if tx.Bucket(bktFlights).Get([]byte(p.FlightID)) == nil {
				out[i] = PutResult{PutRejected, syncproto.Errorf(syncproto.CodeNotFound, "flight %s does not exist (import flights first)", p.FlightID)}
				continue
			}
			key := paxKey(p.FlightID, p.Seat)
			var have Passenger
			ok, err := getJSON(b, key, &have)
			if err != nil {
				return err
			}
			if ok {
				if samePassenger(&have, p) {
					out[i] = PutResult{Result: PutSkipped}
				} else {
					out[i] = PutResult{PutRejected, syncproto.Errorf(syncproto.CodeConflict, "seat %s on %s is %s's already", p.Seat, p.FlightID, have.Name)}
				}
				continue
			}
			if err := putJSON(b, key, p); err != nil {
				return err
			}
			if err := indexPassenger(tx, p, key); err != nil {
				return err
			}
			out[i] = PutResult{Result: PutCreated}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("put passengers: %w", err)
	}
	return out, nil
}

func samePassenger(a, b *Passenger) bool {
	x, y := *a, *b
	if len(x.Handles) == 0 && len(y.Handles) == 0 {
		x.Handles, y.Handles = nil, nil
	}
	if len(x.OtherFlights) == 0 && len(y.OtherFlights) == 0 {
		x.OtherFlights, y.OtherFlights = nil, nil
	}
	return reflect.DeepEqual(x, y)
}

func indexPassenger(tx *bolt.Tx, p *Passenger, key []byte) error {
	puts := []struct {
		b []byte
		k string
	}{{bktPaxPNR, strings.ToUpper(p.PNR)}}
	for _, n := range nameKeys(p.Name) {
		puts = append(puts, struct {
			b []byte
			k string
		}{bktPaxName, n})
	}
	for ch, h := range p.Handles {
		nh := NormHandle(h)
		if nh == "" {
			continue
		}
		puts = append(puts, struct {
			b []byte
			k string
		}{bktPaxHandle, nh}, struct {
			b []byte
			k string
		}{bktPaxChanHandle, HandleChannel(ch) + "\x00" + nh})
	}
	for _, p := range puts {
		if err := tx.Bucket(p.b).Put(indexKey(p.k, key), nil); err != nil {
			return err
		}
	}
	return nil
}

// paxKey is flight 0x00 seat: a flight's passengers are one range.
func paxKey(flight, seat string) []byte { return []byte(flight + "\x00" + seat) }

// indexKey is value 0x00 paxKey: the passengers with one value are a range.
func indexKey(v string, pax []byte) []byte {
	k := make([]byte, 0, len(v)+1+len(pax))
	k = append(append(append(k, v...), 0), pax...)
	return k
}

// HandleChannel maps a channel to the channel whose handles it uses:
// Messenger uses the Facebook account.
func HandleChannel(ch string) string {
	if ch == "messenger" {
		return "facebook"
	}
	return ch
}

// NormHandle is a handle as indexed: lower case, without spaces or a
// leading "@" (a phone number keeps its "+").
func NormHandle(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.TrimPrefix(h, "@")
}

// NormName is a name as indexed: lower case, accents removed, and
// punctuation (apostrophes, hyphens, dots) as spaces, so "'t Hart",
// "Lucía Fernández-Ruiz" and "lucia fernandez ruiz" compare equal.
func NormName(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(latinMarks)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	folded = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return unicode.ToLower(r)
		case r == 'ß':
			return r
		}
		return ' '
	}, folded)
	return strings.Join(strings.Fields(folded), " ")
}

// nameKeys are the name index keys of a passenger: the full name, and the
// first name with the initial of each later word ("anna d", "anna v" for
// Anna de Vries; "james o", "james c" for James O'Connor), which is how
// customers often sign ("Anna V.", "James O.").
func nameKeys(name string) []string {
	n := NormName(name)
	if n == "" {
		return nil
	}
	keys := []string{n}
	f := strings.Fields(n)
	for _, w := range f[1:] {
		short := f[0] + " " + string([]rune(w)[:1])
		if !slices.Contains(keys, short) {
			keys = append(keys, short)
		}
	}
	return keys
}

// Passenger returns one passenger by flight and seat.
func (s *Store) Passenger(ctx context.Context, flightID, seat string) (*Passenger, error) {
	var p Passenger
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		ok, err = getJSON(tx.Bucket(bktPax), paxKey(flightID, seat), &p)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("passenger", PassengerID(flightID, seat))
	}
	return &p, nil
}

// FlightPassengers lists one flight's manifest by seat key order.
func (s *Store) FlightPassengers(ctx context.Context, flightID string) ([]Passenger, error) {
	out := []Passenger{}
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(flightID + "\x00")
		c := tx.Bucket(bktPax).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			var p Passenger
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decode passenger %s: %w", k, err)
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// PassengerQuery asks for the passengers that any of its keys finds. Each
// key is an index lookup, never a scan of the manifests.
type PassengerQuery struct {
	// Channel and Handle: the sender's handle on a booking, on the same
	// channel (found by "handle:CHANNEL") or on any other ("handle").
	Channel, Handle string
	// PNRs are booking codes mentioned in the text ("pnr").
	PNRs []string
	// Names are full names or "First L." forms ("name").
	Names []string
	// Seats are (flight number, seat) pairs mentioned in the text, on any
	// date ("seat").
	Seats []NumberSeat
}

// NumberSeat is a flight number with a seat, without a date.
type NumberSeat struct{ Number, Seat string }

// PassengerHit is a passenger found by a query, with the keys that found
// it ("handle:twitter", "handle", "pnr", "name", "seat").
type PassengerHit struct {
	Passenger Passenger
	By        []string
}

// MaxHitsPerKey bounds what one common key (a frequent name) can bring.
const MaxHitsPerKey = 50

// FindPassengers runs a PassengerQuery in one read transaction. Hits come
// in the order first found.
func (s *Store) FindPassengers(ctx context.Context, q PassengerQuery) ([]PassengerHit, error) {
	var hits []PassengerHit
	err := s.db.View(func(tx *bolt.Tx) error {
		pos := map[string]int{}
		add := func(key []byte, by string) error {
			i, ok := pos[string(key)]
			if !ok {
				var p Passenger
				found, err := getJSON(tx.Bucket(bktPax), key, &p)
				if err != nil || !found {
					return err
				}
				i = len(hits)
				pos[string(key)] = i
				hits = append(hits, PassengerHit{Passenger: p})
			}
			if !slices.Contains(hits[i].By, by) {
				hits[i].By = append(hits[i].By, by)
			}
			return nil
		}
		lookup := func(bkt []byte, value, by string) error {
			if value == "" {
				return nil
			}
			prefix := append([]byte(value), 0)
			c := tx.Bucket(bkt).Cursor()
			n := 0
			for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix) && n < MaxHitsPerKey; k, _ = c.Next() {
				if err := add(k[len(prefix):], by); err != nil {
					return err
				}
				n++
			}
			return nil
		}
		if h := NormHandle(q.Handle); h != "" {
			if err := lookup(bktPaxChanHandle, HandleChannel(q.Channel)+"\x00"+h, "handle:"+q.Channel); err != nil {
				return err
			}
			if err := lookup(bktPaxHandle, h, "handle"); err != nil {
				return err
			}
		}
		for _, p := range q.PNRs {
			if err := lookup(bktPaxPNR, strings.ToUpper(p), "pnr"); err != nil {
				return err
			}
		}
		for _, n := range q.Names {
			// "Anna de Vries" finds the full name, "Anna V." the short form.
			if err := lookup(bktPaxName, NormName(n), "name"); err != nil {
				return err
			}
		}
		for _, ns := range q.Seats {
			// The flights with this number are one range of the flights
			// bucket ("KL0641-..."); each is a direct get of the seat.
			prefix := []byte(ns.Number + "-")
			c := tx.Bucket(bktFlights).Cursor()
			for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
				if err := add(paxKey(string(k), ns.Seat), "seat"); err != nil {
					return err
				}
			}
		}
		// A hit by the channel's own handle also counts as a handle hit;
		// keep only the more specific reason.
		for i := range hits {
			if slices.Contains(hits[i].By, "handle:"+q.Channel) {
				hits[i].By = slices.DeleteFunc(hits[i].By, func(b string) bool { return b == "handle" })
			}
		}
		return nil
	})
	return hits, err
}

// Booking returns every manifest line of one booking code, across flights.
func (s *Store) Booking(ctx context.Context, pnr string) ([]Passenger, error) {
	var out []Passenger
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := append([]byte(strings.ToUpper(pnr)), 0)
		c := tx.Bucket(bktPaxPNR).Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
			var p Passenger
			ok, err := getJSON(tx.Bucket(bktPax), k[len(prefix):], &p)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, p)
			}
		}
		return nil
	})
	return out, err
}

// FlightsByNumber returns the flights with one number, by date.
func (s *Store) FlightsByNumber(ctx context.Context, number string) ([]Flight, error) {
	var out []Flight
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := []byte(number + "-")
		c := tx.Bucket(bktFlights).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			var f Flight
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("decode flight %s: %w", k, err)
			}
			out = append(out, f)
		}
		return nil
	})
	return out, err
}

// latinMarks are the combining diacritical marks of Latin letters (not the
// Japanese voicing marks, which change the letter).
var latinMarks = &unicode.RangeTable{R16: []unicode.Range16{{Lo: 0x0300, Hi: 0x036f, Stride: 1}}}
