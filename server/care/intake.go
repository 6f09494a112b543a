package care

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/server/triage"
	"github.com/cabincare/cabincare/syncproto"
)

// DefaultSLA is the response promise when Service.SLA is zero.
const DefaultSLA = 60 * time.Minute

// Intake outcomes.
const (
	IntakeCreated   = "created"   // a new enquiry
	IntakeDuplicate = "duplicate" // the same message again: the enquiry that has it, unchanged
	IntakeJoined    = "joined"    // a follow-up on the open enquiry of its thread
)

// MaxFollowers bounds the reach an intake may claim.
const MaxFollowers = 1_000_000_000

func (s *Service) sla() time.Duration {
	if s.SLA > 0 {
		return s.SLA
	}
	return DefaultSLA
}

// Receive takes in one social message. It is idempotent on (channel,
// external_id): the same message again answers IntakeDuplicate with the
// enquiry that has it. A message with a Thread whose open enquiry exists
// joins it as a customer message (IntakeJoined): after a crew outcome that
// flags the enquiry, and the message reaches the crew if their flight has
// not landed. Otherwise it opens an enquiry (IntakeCreated), triaged, with
// its response deadline stored.
func (s *Service) Receive(ctx context.Context, by syncproto.Actor, in Intake) (*syncproto.Enquiry, string, error) {
	data, err := s.createData(in)
	if err != nil {
		return nil, "", err
	}
	thread := strings.TrimSpace(in.Thread)
	s.intakeMu.Lock()
	defer s.intakeMu.Unlock()
	if thread != "" {
		id, ok, err := s.Store.ThreadEnquiry(ctx, data.Channel, thread)
		if err != nil {
			return nil, "", err
		}
		if ok {
			msg := syncproto.MessageData{ExternalID: data.ExternalID, Text: data.Text, ReceivedAt: data.ReceivedAt}
			op := s.newOp(id, syncproto.KindMessage, by, msg)
			op.ID = s.IDs.New()
			r, err := s.write(ctx, op)
			switch {
			case err == nil && r.Result == syncproto.ResultDuplicate:
				return r.Enquiry, IntakeDuplicate, nil
			case err == nil:
				return r.Enquiry, IntakeJoined, nil
			case syncproto.ErrorCode(err) != syncproto.CodeIllegalTransition:
				return nil, "", err
			}
			// The enquiry closed since the lookup (a merge or a close
			// does not take intakeMu): the message opens a new one.
		}
	}
	op := s.newOp(s.IDs.New(), syncproto.KindCreate, by, data)
	rec := s.intakeCare(ctx, data, in, thread)
	rs, err := s.Store.ApplyCare(ctx, []syncproto.Op{op}, store.Scope{Strict: true}, map[uuid.UUID]*store.Care{op.Enquiry: rec})
	if err != nil {
		return nil, "", err
	}
	if s.OnApplied != nil {
		s.OnApplied(rs)
	}
	r := rs[0]
	switch r.Result {
	case syncproto.ResultRefused:
		return nil, "", &syncproto.Error{Code: r.Code, Message: r.Message}
	case syncproto.ResultDuplicate:
		return r.Enquiry, IntakeDuplicate, nil
	}
	return r.Enquiry, IntakeCreated, nil
}

// createData normalises and validates an intake.
func (s *Service) createData(in Intake) (syncproto.CreateData, error) {
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
	if err := data.Validate(); err != nil {
		return data, err
	}
	if in.Followers < 0 || in.Followers > MaxFollowers {
		return data, syncproto.Errorf(syncproto.CodeInvalid, "followers must be from 0 to %d", MaxFollowers)
	}
	if len(in.Thread) > syncproto.MaxShortLen {
		return data, syncproto.Errorf(syncproto.CodeInvalid, "thread is longer than %d bytes", syncproto.MaxShortLen)
	}
	return data, nil
}

// intakeCare is the care record of a new enquiry: its triage, from the
// message and, when matching finds the passenger with confidence (a
// handle stored on the booking, or a booking code in the text), their tier
// and the departure of their flight.
func (s *Service) intakeCare(ctx context.Context, data syncproto.CreateData, in Intake, thread string) *store.Care {
	ti := triage.Input{Text: data.Text, Public: in.Public, Followers: in.Followers, Now: s.Now().UTC()}
	probe := Probe{Channel: data.Channel, Handle: data.Handle, Customer: data.Customer, Text: data.Text, ReceivedAt: data.ReceivedAt}
	if m, err := s.match(ctx, probe); err == nil && len(m.Passengers) > 0 && m.Passengers[0].Confident() {
		top := m.Passengers[0]
		ti.Tier = top.Passenger.Tier
		if top.Target != nil {
			ti.DepartsAt, ti.ArrivesAt = top.Target.DepartsAt, top.Target.ArrivesAt
		}
	} else if err != nil {
		s.Log.Warn("intake match failed", "err", err)
	}
	res := triage.Assess(ti)
	sla := s.sla()
	return &store.Care{
		Channel: data.Channel, Language: data.Language, Thread: thread, Public: in.Public, Followers: in.Followers,
		Priority: priority(res, ti.Now), SLA: sla, Target: triage.Target(res.Level, sla),
	}
}

func priority(r triage.Result, at time.Time) store.Priority {
	p := store.Priority{Score: r.Score, Level: string(r.Level), Reasons: make([]store.Reason, len(r.Reasons)), At: at}
	for i, x := range r.Reasons {
		p.Reasons[i] = store.Reason{Rule: x.Rule, Points: x.Points, Detail: x.Detail}
	}
	return p
}

// retriage recomputes an enquiry's priority once it is assigned: the
// passenger's tier (from the manifest, by flight and seat) and the
// flight's schedule are known now. The deadline follows the new target,
// unless an agent set the target. Errors are logged: the assignment stands.
func (s *Service) retriage(ctx context.Context, e *syncproto.Enquiry) {
	if e == nil || e.FlightID == "" {
		return
	}
	// Read first: UpdateCare's function runs inside a write transaction.
	ti := triage.Input{Text: strings.Join(threadTexts(e), "\n"), Now: s.Now().UTC()}
	if f, err := s.Store.Flight(ctx, e.FlightID); err == nil {
		ti.DepartsAt, ti.ArrivesAt = f.DepartsAt, f.ArrivesAt
	}
	if e.Seat != "" {
		if p, err := s.Store.Passenger(ctx, e.FlightID, e.Seat); err == nil {
			ti.Tier = p.Tier
		}
	}
	_, err := s.Store.UpdateCare(ctx, e.ID, func(c *store.Care) error {
		ti.Public, ti.Followers = c.Public, c.Followers
		res := triage.Assess(ti)
		c.Priority = priority(res, ti.Now)
		if !c.TargetSet {
			c.Target = triage.Target(res.Level, c.SLA)
		}
		return nil
	})
	if err != nil {
		s.Log.Warn("retriage failed", "enquiry", e.ID, "err", err)
	}
}

// threadTexts are the customer's texts of an enquiry; the compact state
// has only the first.
func threadTexts(e *syncproto.Enquiry) []string {
	if len(e.Messages) == 0 {
		return []string{e.Text}
	}
	out := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		out[i] = m.Text
	}
	return out
}

// ImportResult is what a bulk intake did with one message.
type ImportResult struct {
	Outcome string // IntakeCreated, IntakeDuplicate, IntakeJoined, or "" when refused
	Err     error
	Enquiry *syncproto.Enquiry
}

// ImportEnquiries takes in many messages, as Receive does for each, but
// shares commits: messages without a thread are written in one batch.
// Messages with a thread go one by one, since each may join the last.
func (s *Service) ImportEnquiries(ctx context.Context, by syncproto.Actor, ins []Intake) ([]ImportResult, error) {
	out := make([]ImportResult, len(ins))
	var ops []syncproto.Op
	var idx []int
	recs := map[uuid.UUID]*store.Care{}
	for i, in := range ins {
		if strings.TrimSpace(in.Thread) != "" {
			e, outcome, err := s.Receive(ctx, by, in)
			if err != nil && syncproto.ErrorCode(err) == syncproto.CodeInternal {
				return nil, err
			}
			out[i] = ImportResult{Outcome: outcome, Err: err, Enquiry: e}
			continue
		}
		data, err := s.createData(in)
		if err != nil {
			out[i].Err = err
			continue
		}
		op := s.newOp(s.IDs.New(), syncproto.KindCreate, by, data)
		recs[op.Enquiry] = s.intakeCare(ctx, data, in, "")
		ops = append(ops, op)
		idx = append(idx, i)
	}
	if len(ops) == 0 {
		return out, nil
	}
	rs, err := s.Store.ApplyCare(ctx, ops, store.Scope{Strict: true}, recs)
	if err != nil {
		return nil, err
	}
	if s.OnApplied != nil {
		s.OnApplied(rs)
	}
	for j, r := range rs {
		i := idx[j]
		switch r.Result {
		case syncproto.ResultRefused:
			out[i].Err = &syncproto.Error{Code: r.Code, Message: r.Message}
		case syncproto.ResultDuplicate:
			out[i] = ImportResult{Outcome: IntakeDuplicate, Enquiry: r.Enquiry}
		default:
			out[i] = ImportResult{Outcome: IntakeCreated, Enquiry: r.Enquiry}
		}
	}
	return out, nil
}
