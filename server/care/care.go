package care

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
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
	CareStore     // care records, threads, the queue, figures (queue.go)
	ManifestStore // passengers (passengers.go)
	TemplateStore // reply templates (reply.go)
}

var _ Store = (*store.Store)(nil)

// Service runs the workflow. Notify, if set, is told which flights' feeds
// got new ops (the sync hub wakes their devices).
type Service struct {
	Store  Store
	Clock  *syncproto.Clock
	IDs    *syncproto.IDs
	Notify func(flights []string)
	// OnApplied, if set, hears every op the workflow stored (the live
	// event stream tells consoles of enquiry changes).
	OnApplied func([]store.Result)
	Log       *slog.Logger
	Now       func() time.Time
	// SLA is the team's response promise (DefaultSLA if zero); each
	// enquiry's target and deadline follow from it and its priority.
	SLA time.Duration
	// Sender sends replies to customers; a RecordingSender if nil.
	Sender Sender

	// intakeMu makes a thread lookup and the write that follows one step,
	// so two follow-ups arriving together cannot open two enquiries.
	intakeMu sync.Mutex
	// mergeMu serialises merges, which check two enquiries then write both.
	mergeMu sync.Mutex
	metrics metricsCache
	// defaultSender is the RecordingSender used when Sender is nil.
	initMu        sync.Mutex
	defaultSender *RecordingSender
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
	// Public is true for a public post, comment or tweet (false: a private
	// message). Followers is the author's reach on the channel. Both feed
	// the triage.
	Public    bool `json:"public"`
	Followers int  `json:"followers"`
	// Thread is the channel's conversation key (a Messenger or WhatsApp
	// sender, a Twitter DM conversation): a later message on the same
	// channel and thread joins the open enquiry instead of opening one.
	// Without it, every message is an enquiry of its own.
	Thread string `json:"thread"`
}

// CreateEnquiry takes in a social message (see Receive). It is idempotent
// on (channel, external_id): a repeated delivery returns the existing
// enquiry and created=false, as does a follow-up that joined an open
// enquiry.
func (s *Service) CreateEnquiry(ctx context.Context, by syncproto.Actor, in Intake) (*syncproto.Enquiry, bool, error) {
	e, outcome, err := s.Receive(ctx, by, in)
	return e, outcome == IntakeCreated, err
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
	e, err := s.change(ctx, by, id, syncproto.KindAssign, d)
	if err == nil {
		// The passenger and the flight are known now: their tier and
		// departure feed the priority.
		s.retriage(ctx, e)
	}
	return e, err
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
	if s.OnApplied != nil {
		s.OnApplied(rs)
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
