package care

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// ManifestStore is what the workflow needs of the passenger manifests.
type ManifestStore interface {
	PutPassengers(ctx context.Context, ps []store.Passenger) ([]store.PutResult, error)
	Passenger(ctx context.Context, flightID, seat string) (*store.Passenger, error)
	FlightPassengers(ctx context.Context, flightID string) ([]store.Passenger, error)
	FindPassengers(ctx context.Context, q store.PassengerQuery) ([]store.PassengerHit, error)
	Booking(ctx context.Context, pnr string) ([]store.Passenger, error)
	FlightsByNumber(ctx context.Context, number string) ([]store.Flight, error)
}

// NewPassenger is a manifest line to add to a flight.
type NewPassenger struct {
	Name  string `json:"name"`
	PNR   string `json:"pnr"`
	Seat  string `json:"seat"`
	Cabin string `json:"cabin"`
	Tier  string `json:"tier"`
	// Handles are social handles stored on the booking, by channel.
	Handles map[string]string `json:"handles"`
	// OtherFlights are the ids of the passenger's other flights on the
	// booking (KL0642-2026-11-26), in time order.
	OtherFlights []string `json:"other_flights"`
}

// Cabins and tiers a manifest line may carry.
var (
	Cabins = []string{"first", "business", "premium", "economy"}
	Tiers  = []string{"none", "silver", "gold", "platinum"}
	// HandleChannels are the channels a booking can store a handle for
	// (Messenger uses the Facebook account).
	HandleChannels = []string{"facebook", "twitter", "instagram", "whatsapp", "wechat", "youtube", "reddit", "snapchat"}

	pnrRE      = regexp.MustCompile(`^[A-Z0-9]{6}$`)
	seatRE     = regexp.MustCompile(`^[0-9]{1,2}[A-K]$`)
	flightIDRE = regexp.MustCompile(`^[A-Z0-9]{2}[0-9]{1,4}[A-Z]?-[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// ValidatePassenger checks and normalises a manifest line for a flight.
func ValidatePassenger(flightID string, in NewPassenger) (store.Passenger, error) {
	p := store.Passenger{
		FlightID: strings.TrimSpace(flightID), Name: strings.TrimSpace(in.Name),
		PNR: strings.ToUpper(strings.TrimSpace(in.PNR)), Seat: strings.ToUpper(strings.TrimSpace(in.Seat)),
		Cabin: strings.ToLower(strings.TrimSpace(in.Cabin)), Tier: strings.ToLower(strings.TrimSpace(in.Tier)),
		Handles: map[string]string{}, OtherFlights: []string{},
	}
	if p.Tier == "" {
		p.Tier = "none"
	}
	switch {
	case p.Name == "" || len(p.Name) > syncproto.MaxShortLen:
		return p, syncproto.Errorf(syncproto.CodeInvalid, "name is required (at most %d bytes)", syncproto.MaxShortLen)
	case !pnrRE.MatchString(p.PNR):
		return p, syncproto.Errorf(syncproto.CodeInvalid, "pnr %q is not a booking code of 6 letters and digits", in.PNR)
	case !seatRE.MatchString(p.Seat):
		return p, syncproto.Errorf(syncproto.CodeInvalid, "seat %q is not a seat such as 12A", in.Seat)
	case !slices.Contains(Cabins, p.Cabin):
		return p, syncproto.Errorf(syncproto.CodeInvalid, "cabin %q is not one of %s", in.Cabin, strings.Join(Cabins, ", "))
	case !slices.Contains(Tiers, p.Tier):
		return p, syncproto.Errorf(syncproto.CodeInvalid, "tier %q is not one of %s", in.Tier, strings.Join(Tiers, ", "))
	}
	for ch, h := range in.Handles {
		ch, h = strings.ToLower(strings.TrimSpace(ch)), strings.TrimSpace(h)
		if !slices.Contains(HandleChannels, ch) {
			return p, syncproto.Errorf(syncproto.CodeInvalid, "handles: %q is not one of %s", ch, strings.Join(HandleChannels, ", "))
		}
		if h == "" || len(h) > syncproto.MaxShortLen {
			return p, syncproto.Errorf(syncproto.CodeInvalid, "handles: the %s handle is empty or too long", ch)
		}
		p.Handles[ch] = h
	}
	for _, f := range in.OtherFlights {
		f = strings.ToUpper(strings.TrimSpace(f))
		if !flightIDRE.MatchString(f) {
			return p, syncproto.Errorf(syncproto.CodeInvalid, "other_flights: %q is not a flight id such as KL0642-2026-11-26", f)
		}
		if f == p.FlightID {
			return p, syncproto.Errorf(syncproto.CodeInvalid, "other_flights lists the passenger's own flight %s", f)
		}
		p.OtherFlights = append(p.OtherFlights, f)
	}
	if len(p.OtherFlights) > 16 {
		return p, syncproto.Errorf(syncproto.CodeInvalid, "other_flights lists more than 16 flights")
	}
	p.ID = store.PassengerID(p.FlightID, p.Seat)
	return p, nil
}

// AddPassengers validates and stores manifest lines for one flight each
// (flightIDs[i] for ins[i]), answering per line: created, skipped (the
// same line is there) or rejected with the reason.
func (s *Service) AddPassengers(ctx context.Context, flightIDs []string, ins []NewPassenger) ([]store.PutResult, error) {
	out := make([]store.PutResult, len(ins))
	var ps []store.Passenger
	var idx []int
	for i, in := range ins {
		p, err := ValidatePassenger(flightIDs[i], in)
		if err != nil {
			out[i] = store.PutResult{Result: store.PutRejected, Err: err}
			continue
		}
		ps = append(ps, p)
		idx = append(idx, i)
	}
	if len(ps) == 0 {
		return out, nil
	}
	rs, err := s.Store.PutPassengers(ctx, ps)
	if err != nil {
		return nil, err
	}
	for j, r := range rs {
		out[idx[j]] = r
	}
	return out, nil
}

// FlightManifest lists a flight's passengers, by seat (row, then letter).
func (s *Service) FlightManifest(ctx context.Context, flightID string) ([]store.Passenger, error) {
	if _, err := s.Store.Flight(ctx, flightID); err != nil {
		return nil, err
	}
	ps, err := s.Store.FlightPassengers(ctx, flightID)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ps, func(i, j int) bool { return seatLess(ps[i].Seat, ps[j].Seat) })
	return ps, nil
}

func seatLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
