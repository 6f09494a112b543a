package care

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// Store is what the workflow needs from the ground store.
type Store interface {
	Apply(ctx context.Context, ops []syncproto.Op, scope store.Scope) ([]store.Result, error)
	Enquiry(ctx context.Context, id uuid.UUID) (*syncproto.Enquiry, *store.Delivery, error)
	CreateFlight(ctx context.Context, f *store.Flight) error
	Flight(ctx context.Context, id string) (*store.Flight, error)
}

var _ Store = (*store.Store)(nil)

// Service runs the workflow. Notify, if set, is told which flights' feeds
// got new ops (the sync hub wakes their devices).
type Service struct {
	Store  Store
	Clock  *syncproto.Clock
	IDs    *syncproto.IDs
	Notify func(flights []string)
	Log    *slog.Logger
	Now    func() time.Time
}

// Intake is a new social message.
type Intake struct {
	Channel    string     `json:"channel"`
	ExternalID string     `json:"external_id"`
	Handle     string     `json:"handle"`
	Customer   string     `json:"customer"`
	Text       string     `json:"text"`
	Language   string     `json:"language"`
	ReceivedAt *time.Time `json:"received_at"`
}

// CreateEnquiry takes in a social message. It is idempotent on (channel,
// external_id): a repeated delivery returns the existing enquiry and
// created=false.
func (s *Service) CreateEnquiry(ctx context.Context, by syncproto.Actor, in Intake) (*syncproto.Enquiry, bool, error) {
	// Second precision is what agents see, and sub-second digits would
	// cost bytes on every tablet's link for nothing.
	received := s.Now().UTC().Truncate(time.Second)
	if in.ReceivedAt != nil {
		received = in.ReceivedAt.UTC()
	}
	data := syncproto.CreateData{
		Channel: strings.ToLower(strings.TrimSpace(in.Channel)), ExternalID: strings.TrimSpace(in.ExternalID),
		Handle: strings.TrimSpace(in.Handle), Customer: strings.TrimSpace(in.Customer),
		Text: in.Text, Language: strings.TrimSpace(in.Language), ReceivedAt: received,
	}
	op := s.newOp(s.IDs.New(), syncproto.KindCreate, by, data)
	r, err := s.write(ctx, op)
	if err != nil {
		return nil, false, err
	}
	return r.Enquiry, r.Result == syncproto.ResultApplied, nil
}

// Assign hands an enquiry to a flight's crew, or moves it to another
// flight, or updates the instructions.
func (s *Service) Assign(ctx context.Context, by syncproto.Actor, id uuid.UUID, d syncproto.AssignData) (*syncproto.Enquiry, error) {
	d.FlightID = strings.TrimSpace(d.FlightID)
	if d.FlightID == "" {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "flight_id is required")
	}
	if _, err := s.Store.Flight(ctx, d.FlightID); err != nil {
		return nil, err
	}
	return s.change(ctx, by, id, syncproto.KindAssign, d)
}

// AddNote appends a note from ground.
func (s *Service) AddNote(ctx context.Context, by syncproto.Actor, id uuid.UUID, text string) (*syncproto.Enquiry, error) {
	return s.change(ctx, by, id, syncproto.KindNote, syncproto.NoteData{Text: text})
}

// Recall takes an enquiry back from the crew before they acted on it.
func (s *Service) Recall(ctx context.Context, by syncproto.Actor, id uuid.UUID, reason string) (*syncproto.Enquiry, error) {
	return s.change(ctx, by, id, syncproto.KindRecall, syncproto.RecallData{Reason: reason})
}

// Close closes the loop with the customer.
func (s *Service) Close(ctx context.Context, by syncproto.Actor, id uuid.UUID, d syncproto.CloseData) (*syncproto.Enquiry, error) {
	return s.change(ctx, by, id, syncproto.KindClose, d)
}

func (s *Service) change(ctx context.Context, by syncproto.Actor, id uuid.UUID, kind syncproto.Kind, data any) (*syncproto.Enquiry, error) {
	op := s.newOp(id, kind, by, data)
	op.ID = s.IDs.New()
	r, err := s.write(ctx, op)
	if err != nil {
		return nil, err
	}
	return r.Enquiry, nil
}

func (s *Service) newOp(enq uuid.UUID, kind syncproto.Kind, by syncproto.Actor, data any) syncproto.Op {
	return syncproto.Op{ID: enq, Enquiry: enq, Kind: kind, HLC: s.Clock.Tick(), Actor: by, Data: syncproto.MustData(data)}
}

// write applies one op strictly and turns a refusal into its error.
func (s *Service) write(ctx context.Context, op syncproto.Op) (*store.Result, error) {
	rs, err := s.Store.Apply(ctx, []syncproto.Op{op}, store.Scope{Strict: true})
	if err != nil {
		return nil, err
	}
	r := rs[0]
	if r.Result == syncproto.ResultRefused {
		return nil, &syncproto.Error{Code: r.Code, Message: r.Message}
	}
	if len(r.Flights) > 0 && s.Notify != nil {
		s.Notify(r.Flights)
	}
	return &r, nil
}

// NewFlight is a flight to create.
type NewFlight struct {
	Number      string     `json:"number"`
	Date        string     `json:"date"`
	Origin      string     `json:"origin"`
	Destination string     `json:"destination"`
	DepartsAt   *time.Time `json:"departs_at"`
	ArrivesAt   *time.Time `json:"arrives_at"`
	Aircraft    string     `json:"aircraft"`
}

var (
	flightNumberRE = regexp.MustCompile(`^[A-Z0-9]{2}[0-9]{1,4}[A-Z]?$`)
	airportRE      = regexp.MustCompile(`^[A-Z]{3}$`)
)

// CreateFlight validates and stores a flight. Its id is NUMBER-DATE.
func (s *Service) CreateFlight(ctx context.Context, in NewFlight) (*store.Flight, error) {
	f := store.Flight{
		Number: strings.ToUpper(strings.TrimSpace(in.Number)), Date: strings.TrimSpace(in.Date),
		Origin: strings.ToUpper(strings.TrimSpace(in.Origin)), Destination: strings.ToUpper(strings.TrimSpace(in.Destination)),
		DepartsAt: in.DepartsAt, ArrivesAt: in.ArrivesAt, Aircraft: strings.TrimSpace(in.Aircraft),
		CreatedAt: s.Now().UTC(),
	}
	if !flightNumberRE.MatchString(f.Number) {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "number %q is not a flight number such as KL0641", in.Number)
	}
	if _, err := time.Parse(time.DateOnly, f.Date); err != nil {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "date %q is not a date such as 2026-11-23", in.Date)
	}
	if !airportRE.MatchString(f.Origin) || !airportRE.MatchString(f.Destination) {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "origin and destination must be IATA airport codes such as AMS")
	}
	if f.Origin == f.Destination {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "origin and destination are the same")
	}
	if len(f.Aircraft) > syncproto.MaxShortLen {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "aircraft is too long")
	}
	if f.DepartsAt != nil && f.ArrivesAt != nil && !f.ArrivesAt.After(*f.DepartsAt) {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "arrives_at must be after departs_at")
	}
	f.ID = f.Number + "-" + f.Date
	if err := s.Store.CreateFlight(ctx, &f); err != nil {
		return nil, err
	}
	return &f, nil
}
