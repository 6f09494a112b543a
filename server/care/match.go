package care

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/server/triage"
	"github.com/cabincare/cabincare/syncproto"
)

// Probe is what matching looks at: who wrote, on which channel, what, and
// when.
type Probe struct {
	Channel, Handle, Customer, Text string
	ReceivedAt                      time.Time
}

// Match reasons. A candidate's score is the sum of the points of its
// reasons (ReasonPoints): the evidence that names one person (a handle
// stored on the booking, the booking code, a flight and a seat) outweighs a
// name, which several bookings can share, and the hints that only
// corroborate (a flight number, a date, a seat, a city) count little.
const (
	ReasonHandle       = "handle"        // the sender's handle is on the booking for this channel
	ReasonHandleOther  = "handle_other"  // the same handle is on the booking for another channel
	ReasonPNR          = "pnr"           // the text names the booking code
	ReasonFlightSeat   = "flight_seat"   // the text names the flight number and the seat
	ReasonName         = "name"          // the sender's display name is the passenger's full name
	ReasonShortName    = "short_name"    // the sender signs "First L." and that fits the passenger
	ReasonFlightNumber = "flight_number" // the text names one of the passenger's flight numbers
	ReasonDate         = "date"          // the text names the date of one of the passenger's flights
	ReasonSeat         = "seat"          // the text names one of the passenger's seats
	ReasonDestination  = "destination"   // the text names the destination of one of the passenger's flights
)

// ReasonPoints are the points of each match reason.
var ReasonPoints = map[string]int{
	ReasonHandle: 100, ReasonPNR: 80, ReasonFlightSeat: 70, ReasonHandleOther: 60,
	ReasonName: 40, ReasonShortName: 30,
	ReasonFlightNumber: 15, ReasonDate: 10, ReasonSeat: 10, ReasonDestination: 5,
}

// ConfidentScore is the score from which a candidate counts as found
// (a handle on the booking or the booking code alone reach it): intake
// then uses the passenger's tier and flight for the triage.
const ConfidentScore = 80

// Target-flight weights: among a passenger's flights, the one the text
// points at most is the target (see Candidate.Target).
const (
	targetFlightNumber = 4
	targetDate         = 2
	targetSeat         = 1
	targetDestination  = 1

	maxCandidates = 10 // candidates returned
	maxTextTokens = 40 // codes, seats and dates read per text
)

// MatchReason says why a candidate matched.
type MatchReason struct {
	Reason string `json:"reason"`
	Points int    `json:"points"`
	Detail string `json:"detail"`
}

// Candidate is a passenger who may be the one the enquiry is about: one
// person on one booking, with every flight of theirs on it.
type Candidate struct {
	Passenger store.Passenger `json:"passenger"` // the line on the target flight
	Score     int             `json:"score"`
	Reasons   []MatchReason   `json:"reasons"`
	// Target is the flight whose crew should act, with the passenger's
	// seat on it: the flight the text names if it is still to come, else
	// the passenger's next flight not yet departed when the message
	// arrived (the return, for a complaint about the outbound), else the
	// flight the text is about.
	Target *Target `json:"target"`
	// Flights are the passenger's manifest lines on the booking, by
	// departure.
	Flights []BookingFlight `json:"flights"`
}

// Confident reports whether the candidate rests on evidence that names
// one person: a handle on the booking or the booking code.
func (c *Candidate) Confident() bool { return c.Score >= ConfidentScore }

// Target is the flight and seat an assignment would use.
type Target struct {
	FlightID      string     `json:"flight_id"`
	PassengerID   string     `json:"passenger_id"`
	PassengerName string     `json:"passenger_name"`
	Seat          string     `json:"seat"`
	DepartsAt     *time.Time `json:"departs_at,omitempty"`
	ArrivesAt     *time.Time `json:"arrives_at,omitempty"`
	Why           string     `json:"why"`
}

// BookingFlight is one of a candidate's flights.
type BookingFlight struct {
	FlightID    string     `json:"flight_id"`
	PassengerID string     `json:"passenger_id"`
	Seat        string     `json:"seat"`
	Origin      string     `json:"origin"`
	Destination string     `json:"destination"`
	DepartsAt   *time.Time `json:"departs_at,omitempty"`
	ArrivesAt   *time.Time `json:"arrives_at,omitempty"`
	Departed    bool       `json:"departed"` // when the message arrived
}

// FlightCandidate is a flight the text names, for an enquiry whose
// passenger is not on a manifest.
type FlightCandidate struct {
	Flight store.Flight `json:"flight"`
	Why    string       `json:"why"`
}

// Matches are the ranked candidates for an enquiry.
type Matches struct {
	Enquiry    uuid.UUID         `json:"enquiry"`
	Passengers []Candidate       `json:"passengers"`
	Flights    []FlightCandidate `json:"flights"`
}

// Matches ranks the passengers and flights an enquiry may be about, from
// every message of its thread.
func (s *Service) Matches(ctx context.Context, id uuid.UUID) (*Matches, error) {
	e, _, err := s.Store.Enquiry(ctx, id)
	if err != nil {
		return nil, err
	}
	p := Probe{Channel: e.Channel, Handle: e.Handle, Customer: e.Customer, Text: strings.Join(threadTexts(e), "\n"), ReceivedAt: e.ReceivedAt}
	m, err := s.match(ctx, p)
	if err != nil {
		return nil, err
	}
	m.Enquiry = id
	return m, nil
}

// hints are what a text says about flights.
type hints struct {
	numbers []string // flight numbers, canonical (KL0641)
	pnrs    []string // six-character tokens that may be booking codes
	seats   []string // 12A
	days    []monthDay
	dests   []string // IATA codes of cities named
}

type monthDay struct{ month, day int }

var (
	flightNumRE = regexp.MustCompile(`(?i)\b([a-z]{2})\s?0*([0-9]{1,4})\b`)
	tokenRE     = regexp.MustCompile(`\b[A-Za-z0-9]{6}\b`)
	seatTextRE  = regexp.MustCompile(`(?i)\b([0-9]{1,2}[a-k])\b`)
	dayMonthRE  = regexp.MustCompile(`(?i)\b([0-9]{1,2})(?:\.|º|er|st|nd|rd|th)?\s*(?:de\s+|of\s+)?([a-zäéû]{3,10})\b`)
	monthDayRE  = regexp.MustCompile(`(?i)\b([a-z]{3,9})\.?\s+([0-9]{1,2})\b`)
	jaDateRE    = regexp.MustCompile(`([0-9]{1,2})月([0-9]{1,2})日`)
)

// months maps month names (normalised, several languages) to numbers.
var months = func() map[string]int {
	m := map[string]int{}
	for _, names := range [][]string{
		{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
		{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"},
		{"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
		{"janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre", "novembre", "decembre"},
		{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		{"januar", "februar", "marz", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "dezember"},
		{"janeiro", "fevereiro", "marco", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"},
		{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
	} {
		for i, n := range names {
			m[n] = i + 1
		}
	}
	return m
}()

// cities maps city names, as customers write them in the supported
// languages (normalised), to the airport of the network.
var cities = map[string]string{
	"amsterdam": "AMS", "amsterdao": "AMS", "アムステルダム": "AMS",
	"new york": "JFK", "nueva york": "JFK", "nova york": "JFK", "nova iorque": "JFK", "ニューヨーク": "JFK",
	"london": "LHR", "londen": "LHR", "londres": "LHR", "londra": "LHR", "ロンドン": "LHR",
	"paris": "CDG", "parijs": "CDG", "parigi": "CDG", "パリ": "CDG",
	"barcelona": "BCN", "barcelone": "BCN", "barcellona": "BCN", "バルセロナ": "BCN",
	"madrid": "MAD", "madri": "MAD", "マドリード": "MAD",
	"lisbon": "LIS", "lissabon": "LIS", "lisbonne": "LIS", "lisboa": "LIS", "lisbona": "LIS", "リスボン": "LIS",
	"rome": "FCO", "rom": "FCO", "roma": "FCO", "ローマ": "FCO",
	"tokyo": "NRT", "tokio": "NRT", "toquio": "NRT", "東京": "NRT",
	"sao paulo": "GRU", "san paolo": "GRU", "サンパウロ": "GRU",
	"cape town": "CPT", "kaapstad": "CPT", "le cap": "CPT", "ciudad del cabo": "CPT", "kapstadt": "CPT", "cidade do cabo": "CPT", "citta del capo": "CPT", "ケープタウン": "CPT",
	"dubai": "DXB", "ドバイ": "DXB",
	"singapore": "SIN", "singapour": "SIN", "singapur": "SIN", "singapura": "SIN", "シンガポール": "SIN",
	"toronto": "YYZ", "トロント": "YYZ",
}

// readHints extracts flight numbers, booking codes, seats, dates and
// cities from a text.
func readHints(text string) hints {
	var h hints
	norm := triage.Normalize(text)
	for _, m := range flightNumRE.FindAllStringSubmatch(text, maxTextTokens) {
		n, _ := strconv.Atoi(m[2])
		if num := fmt.Sprintf("%s%04d", strings.ToUpper(m[1]), n); !slices.Contains(h.numbers, num) {
			h.numbers = append(h.numbers, num)
		}
	}
	for _, t := range tokenRE.FindAllString(text, maxTextTokens) {
		t = strings.ToUpper(t)
		if !slices.Contains(h.pnrs, t) {
			h.pnrs = append(h.pnrs, t)
		}
	}
	for _, s := range seatTextRE.FindAllString(text, maxTextTokens) {
		if s = strings.ToUpper(s); !slices.Contains(h.seats, s) {
			h.seats = append(h.seats, s)
		}
	}
	addDay := func(mon, day int) {
		if mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && !slices.Contains(h.days, monthDay{mon, day}) {
			h.days = append(h.days, monthDay{mon, day})
		}
	}
	for _, m := range dayMonthRE.FindAllStringSubmatch(norm, maxTextTokens) {
		if mon, ok := months[m[2]]; ok {
			d, _ := strconv.Atoi(m[1])
			addDay(mon, d)
		}
	}
	for _, m := range monthDayRE.FindAllStringSubmatch(norm, maxTextTokens) {
		if mon, ok := months[m[1]]; ok {
			d, _ := strconv.Atoi(m[2])
			addDay(mon, d)
		}
	}
	for _, m := range jaDateRE.FindAllStringSubmatch(text, maxTextTokens) {
		mon, _ := strconv.Atoi(m[1])
		d, _ := strconv.Atoi(m[2])
		addDay(mon, d)
	}
	for name, code := range cities {
		if strings.Contains(norm, name) && !slices.Contains(h.dests, code) {
			h.dests = append(h.dests, code)
		}
	}
	sort.Strings(h.dests)
	return h
}

// match ranks candidates for a probe: index lookups by handle, booking
// code, flight number + seat and name, then each person's whole booking.
func (s *Service) match(ctx context.Context, p Probe) (*Matches, error) {
	h := readHints(p.Text)
	q := store.PassengerQuery{Channel: p.Channel, Handle: p.Handle, PNRs: h.pnrs}
	if n := strings.TrimSpace(p.Customer); n != "" {
		q.Names = []string{n}
	}
	for _, num := range h.numbers {
		for _, seat := range h.seats {
			q.Seats = append(q.Seats, store.NumberSeat{Number: num, Seat: seat})
		}
	}
	hits, err := s.Store.FindPassengers(ctx, q)
	if err != nil {
		return nil, err
	}
	flights := map[string]*store.Flight{}
	flight := func(id string) *store.Flight {
		if f, ok := flights[id]; ok {
			return f
		}
		f, err := s.Store.Flight(ctx, id)
		if err != nil {
			f = nil
		}
		flights[id] = f
		return f
	}

	// One candidate per person: booking code + normalised name.
	type person struct {
		pnr, name string // the booking code and the normalised name
		reasons   map[string]MatchReason
		lines     []store.Passenger
	}
	var people []*person
	byKey := map[[2]string]*person{}
	for _, hit := range hits {
		key := [2]string{hit.Passenger.PNR, store.NormName(hit.Passenger.Name)}
		pp := byKey[key]
		if pp == nil {
			pp = &person{pnr: key[0], name: key[1], reasons: map[string]MatchReason{}}
			byKey[key] = pp
			people = append(people, pp)
		}
		for _, by := range hit.By {
			var r MatchReason
			switch {
			case strings.HasPrefix(by, "handle:"):
				r = MatchReason{ReasonHandle, ReasonPoints[ReasonHandle], fmt.Sprintf("handle %s is on booking %s", p.Handle, hit.Passenger.PNR)}
			case by == "handle":
				r = MatchReason{ReasonHandleOther, ReasonPoints[ReasonHandleOther], fmt.Sprintf("handle %s is on booking %s for another channel", p.Handle, hit.Passenger.PNR)}
			case by == "pnr":
				r = MatchReason{ReasonPNR, ReasonPoints[ReasonPNR], "the text names booking " + hit.Passenger.PNR}
			case by == "seat":
				r = MatchReason{ReasonFlightSeat, ReasonPoints[ReasonFlightSeat], fmt.Sprintf("the text names flight %s and seat %s", hit.Passenger.FlightID[:strings.IndexByte(hit.Passenger.FlightID, '-')], hit.Passenger.Seat)}
			case by == "name":
				reason := ReasonName
				if f := strings.Fields(store.NormName(p.Customer)); len(f) < 2 || len([]rune(f[len(f)-1])) == 1 {
					reason = ReasonShortName
				}
				r = MatchReason{reason, ReasonPoints[reason], fmt.Sprintf("the sender %q is passenger %s", p.Customer, hit.Passenger.Name)}
			}
			if have, ok := pp.reasons[r.Reason]; !ok || have.Points < r.Points {
				pp.reasons[r.Reason] = r
			}
		}
	}

	out := &Matches{Passengers: []Candidate{}, Flights: []FlightCandidate{}}
	for _, pp := range people {
		rs := pp.reasons
		// The person's whole booking: every flight, not only the lines
		// the lookups found.
		booking, err := s.Store.Booking(ctx, pp.pnr)
		if err != nil {
			return nil, err
		}
		for _, b := range booking {
			if store.NormName(b.Name) == pp.name {
				pp.lines = append(pp.lines, b)
			}
		}
		if len(pp.lines) == 0 {
			continue
		}
		c := Candidate{Reasons: []MatchReason{}}
		type line struct {
			p      store.Passenger
			f      *store.Flight
			hintsT int // how much the text points at this flight
		}
		var lines []line
		for _, l := range pp.lines {
			f := flight(l.FlightID)
			if f == nil {
				continue
			}
			lines = append(lines, line{p: l, f: f})
		}
		if len(lines) == 0 {
			continue
		}
		sort.SliceStable(lines, func(i, j int) bool { return departs(lines[i].f).Before(departs(lines[j].f)) })
		// Corroborating hints: each counts once for the person.
		corroborate := func(reason, detail string) {
			if _, ok := rs[reason]; !ok {
				rs[reason] = MatchReason{reason, ReasonPoints[reason], detail}
			}
		}
		for i := range lines {
			l := &lines[i]
			if slices.Contains(h.numbers, l.f.Number) {
				l.hintsT += targetFlightNumber
				corroborate(ReasonFlightNumber, "the text names flight "+l.f.Number)
			}
			if d, err := time.Parse(time.DateOnly, l.f.Date); err == nil && slices.Contains(h.days, monthDay{int(d.Month()), d.Day()}) {
				l.hintsT += targetDate
				corroborate(ReasonDate, "the text names the date of "+l.f.ID)
			}
			if slices.Contains(h.seats, l.p.Seat) {
				l.hintsT += targetSeat
				if _, ok := rs[ReasonFlightSeat]; !ok {
					corroborate(ReasonSeat, "the text names seat "+l.p.Seat)
				}
			}
			if slices.Contains(h.dests, l.f.Destination) {
				l.hintsT += targetDestination
				corroborate(ReasonDestination, "the text names the destination of "+l.f.ID)
			}
			c.Flights = append(c.Flights, BookingFlight{
				FlightID: l.f.ID, PassengerID: l.p.ID, Seat: l.p.Seat, Origin: l.f.Origin, Destination: l.f.Destination,
				DepartsAt: l.f.DepartsAt, ArrivesAt: l.f.ArrivesAt, Departed: !departs(l.f).After(p.ReceivedAt),
			})
		}
		// The target: among the flights still to come when the message
		// arrived, the one the text points at most (the earliest on a
		// tie); if all have flown, the one the text points at (the last
		// on a tie).
		best, why := -1, ""
		for i, l := range lines {
			if !departs(l.f).After(p.ReceivedAt) {
				continue
			}
			if best < 0 || l.hintsT > lines[best].hintsT {
				best = i
			}
		}
		if best >= 0 {
			why = "the passenger's next flight when the message arrived"
			if lines[best].hintsT > 0 {
				why = "the flight the text points at, still to come when the message arrived"
			}
		} else {
			for i, l := range lines {
				if best < 0 || l.hintsT >= lines[best].hintsT {
					best = i
				}
			}
			why = "every flight of the booking had left when the message arrived: the flight the text is about"
		}
		t := lines[best]
		c.Passenger = t.p
		c.Target = &Target{FlightID: t.f.ID, PassengerID: t.p.ID, PassengerName: t.p.Name, Seat: t.p.Seat, DepartsAt: t.f.DepartsAt, ArrivesAt: t.f.ArrivesAt, Why: why}
		for _, r := range rs {
			c.Score += r.Points
			c.Reasons = append(c.Reasons, r)
		}
		sort.Slice(c.Reasons, func(i, j int) bool {
			if c.Reasons[i].Points != c.Reasons[j].Points {
				return c.Reasons[i].Points > c.Reasons[j].Points
			}
			return c.Reasons[i].Reason < c.Reasons[j].Reason
		})
		out.Passengers = append(out.Passengers, c)
	}
	sort.SliceStable(out.Passengers, func(i, j int) bool { return out.Passengers[i].Score > out.Passengers[j].Score })
	if len(out.Passengers) > maxCandidates {
		out.Passengers = out.Passengers[:maxCandidates]
	}

	// Flights the text names, for the agent to pick when no passenger is
	// found: the dates it names, else the next departure after the message.
	for _, num := range h.numbers {
		fs, err := s.Store.FlightsByNumber(ctx, num)
		if err != nil {
			return nil, err
		}
		var picked []FlightCandidate
		for _, f := range fs {
			if d, err := time.Parse(time.DateOnly, f.Date); err == nil && slices.Contains(h.days, monthDay{int(d.Month()), d.Day()}) {
				picked = append(picked, FlightCandidate{Flight: f, Why: "the text names " + f.Number + " and its date"})
			}
		}
		if len(picked) == 0 {
			for i := range fs {
				if departs(&fs[i]).After(p.ReceivedAt) {
					picked = append(picked, FlightCandidate{Flight: fs[i], Why: "the text names " + fs[i].Number + ": its next departure after the message"})
					break
				}
			}
		}
		if len(picked) == 0 && len(fs) > 0 {
			picked = append(picked, FlightCandidate{Flight: fs[len(fs)-1], Why: "the text names " + fs[len(fs)-1].Number + ": its last departure before the message"})
		}
		out.Flights = append(out.Flights, picked...)
	}
	return out, nil
}

// departs is a flight's scheduled departure, or its date at midnight.
func departs(f *store.Flight) time.Time {
	if f.DepartsAt != nil {
		return *f.DepartsAt
	}
	d, _ := time.Parse(time.DateOnly, f.Date)
	return d
}

// AssignRequest is an assignment as agents send it: a flight, and either
// the passenger by id (from the matches: FLIGHT_ID/SEAT on any flight of
// their booking) or by name and seat. With a passenger id, the name and
// the seat come from the manifest of the target flight.
type AssignRequest struct {
	FlightID      string `json:"flight_id"`
	PassengerID   string `json:"passenger_id"`
	PassengerName string `json:"passenger_name"`
	Seat          string `json:"seat"`
	Instructions  string `json:"instructions"`
}

// AssignPassenger hands an enquiry to the crew of a flight (or moves it),
// filling the passenger's name and seat from the manifest: from the
// passenger id, on the target flight of the same booking (the cold-meal
// case: found on the outbound, served on the return); or, without one,
// from the seat on the target flight when the name is not given.
func (s *Service) AssignPassenger(ctx context.Context, by syncproto.Actor, id uuid.UUID, in AssignRequest) (*syncproto.Enquiry, error) {
	d := syncproto.AssignData{FlightID: strings.TrimSpace(in.FlightID), PassengerName: strings.TrimSpace(in.PassengerName), Seat: strings.ToUpper(strings.TrimSpace(in.Seat)), Instructions: in.Instructions}
	if pid := strings.TrimSpace(in.PassengerID); pid != "" {
		fl, seat, ok := strings.Cut(pid, "/")
		if !ok {
			return nil, syncproto.Errorf(syncproto.CodeInvalid, "passenger_id %q is not FLIGHT_ID/SEAT", pid)
		}
		p, err := s.Store.Passenger(ctx, fl, seat)
		if err != nil {
			return nil, err
		}
		if d.FlightID == "" {
			d.FlightID = p.FlightID
		}
		target := p
		if d.FlightID != p.FlightID {
			if !slices.Contains(p.OtherFlights, d.FlightID) {
				return nil, syncproto.Errorf(syncproto.CodeInvalid, "passenger %s (%s) has no flight %s on booking %s", p.ID, p.Name, d.FlightID, p.PNR)
			}
			target = nil
			booking, err := s.Store.Booking(ctx, p.PNR)
			if err != nil {
				return nil, err
			}
			for i := range booking {
				if booking[i].FlightID == d.FlightID && store.NormName(booking[i].Name) == store.NormName(p.Name) {
					target = &booking[i]
				}
			}
		}
		if d.PassengerName == "" {
			d.PassengerName = p.Name
		}
		if target != nil && d.Seat == "" {
			d.Seat = target.Seat
		}
	} else if d.FlightID != "" && d.Seat != "" && d.PassengerName == "" {
		if p, err := s.Store.Passenger(ctx, d.FlightID, d.Seat); err == nil {
			d.PassengerName = p.Name
		}
	}
	return s.Assign(ctx, by, id, d)
}
