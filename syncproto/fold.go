package syncproto

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Status is where an enquiry stands. "delivered" is not a fold status: it
// is a delivery receipt the server keeps beside the fold (see doc.go).
type Status string

// Statuses.
const (
	StatusNew                 Status = "new"
	StatusAssigned            Status = "assigned"
	StatusDelivered           Status = "delivered" // overlay only, never folded
	StatusAcknowledged        Status = "acknowledged"
	StatusResolved            Status = "resolved"
	StatusNotResolved         Status = "not_resolved"
	StatusPassengerNotOnBoard Status = "passenger_not_on_board"
	StatusEscalated           Status = "escalated"
	StatusClosed              Status = "closed"
)

// IsOutcome reports whether s is a crew outcome.
func (s Status) IsOutcome() bool {
	switch s {
	case StatusResolved, StatusNotResolved, StatusPassengerNotOnBoard, StatusEscalated:
		return true
	}
	return false
}

// IsStatus reports whether s names a status, for filters.
func IsStatus(s string) bool {
	switch Status(s) {
	case StatusNew, StatusAssigned, StatusDelivered, StatusAcknowledged, StatusClosed:
		return true
	}
	return Status(s).IsOutcome()
}

// Effects of an op in an enquiry's history.
const (
	EffectApplied    = "applied"    // it changed the state
	EffectSuperseded = "superseded" // it was applied, then a later op of the same kind replaced it
	EffectIgnored    = "ignored"    // it was not legal where it fell in fold order; see Reason
)

// Note is one note on an enquiry.
type Note struct {
	ID   uuid.UUID `json:"id"`
	Text string    `json:"text"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// Mark records who did something and when.
type Mark struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Resolution is the crew's outcome.
type Resolution struct {
	Outcome Status    `json:"outcome"`
	Note    string    `json:"note,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	OpID    uuid.UUID `json:"op_id"`
}

// Entry is one op in an enquiry's history, with what it did.
type Entry struct {
	OpID   uuid.UUID       `json:"op_id"`
	Kind   Kind            `json:"kind"`
	Actor  Actor           `json:"actor"`
	By     string          `json:"by"`
	At     time.Time       `json:"at"`
	HLC    HLC             `json:"hlc"`
	Effect string          `json:"effect"`
	Reason string          `json:"reason,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// Enquiry is the state of one enquiry: the fold of its ops. Two replicas
// with the same set of ops compute equal Enquiry values.
type Enquiry struct {
	ID         uuid.UUID `json:"id"`
	Channel    string    `json:"channel"`
	ExternalID string    `json:"external_id"`
	Handle     string    `json:"handle"`
	Customer   string    `json:"customer,omitempty"`
	Text       string    `json:"text"`
	Language   string    `json:"language"`
	ReceivedAt time.Time `json:"received_at"`

	Status        Status     `json:"status"`
	FlightID      string     `json:"flight_id"`
	PassengerName string     `json:"passenger_name"`
	Seat          string     `json:"seat"`
	Instructions  string     `json:"instructions"`
	AssignedAt    *time.Time `json:"assigned_at,omitempty"`
	// AssignOp is the op of the current hand-off; a delivery receipt counts
	// only for it, so a moved enquiry is not "delivered" by the old flight.
	AssignOp uuid.UUID `json:"assign_op"`
	// Flights lists every flight the enquiry was ever assigned to. A device
	// serving one of them may still report on it after a move, so crew work
	// done before the move is never refused.
	Flights []string `json:"flights"`

	Notes        []Note      `json:"notes"`
	Acknowledged *Mark       `json:"acknowledged,omitempty"`
	Resolution   *Resolution `json:"resolution,omitempty"`
	Closed       *Mark       `json:"closed,omitempty"`
	History      []Entry     `json:"history"`

	// The customer side (see care.go). Messages is the thread: the create
	// op's text, then follow-ups and merged-in messages, in time order.
	Messages      []Message `json:"messages"`
	Replies       []Reply   `json:"replies"`
	LastMessageAt time.Time `json:"last_message_at"`
	FirstResponse *Mark     `json:"first_response,omitempty"`
	// AwaitingSince is the oldest customer message (or crew escalation)
	// that no reply has answered yet; nil when nothing is owed.
	AwaitingSince *time.Time `json:"awaiting_since,omitempty"`
	// Flagged marks a customer message that came after the crew's outcome,
	// until an agent replies, reassigns or closes.
	Flagged    bool        `json:"flagged"`
	MergedInto *uuid.UUID  `json:"merged_into,omitempty"`
	Merged     []uuid.UUID `json:"merged"`

	// Version is the fold position: the last op folded, in fold order.
	Version HLC       `json:"version"`
	LastOp  uuid.UUID `json:"last_op"`
}

// Created reports whether the enquiry's create op has been folded.
// The channel is required on create, so it marks a created enquiry and
// survives a JSON round trip through a store.
func (e *Enquiry) Created() bool { return e.Channel != "" }

// Fold computes the state of one enquiry from its ops, in any order and with
// any duplicates. Ops of other enquiries must not be passed.
func Fold(ops []Op) Enquiry {
	sorted := SortOps(ops)
	var e Enquiry
	for i := range sorted {
		e.apply(&sorted[i])
	}
	return e
}

// SortOps returns ops deduplicated by id in fold order: the create op first,
// then by (HLC, id). The input is not modified.
func SortOps(ops []Op) []Op {
	out := slices.Clone(ops)
	slices.SortFunc(out, func(a, b Op) int {
		if ac, bc := a.Kind == KindCreate, b.Kind == KindCreate; ac != bc {
			if ac {
				return -1
			}
			return 1
		}
		if a.Before(&b) {
			return -1
		}
		if b.Before(&a) {
			return 1
		}
		return 0
	})
	return slices.CompactFunc(out, func(a, b Op) bool { return a.ID == b.ID })
}

// CanAppend reports whether op sorts after every op folded into e, so that
// Apply gives the same result as a full Fold. Stores fold incrementally when
// it holds and refold from all ops otherwise.
func (e *Enquiry) CanAppend(op *Op) bool {
	if !e.Created() || op.Kind == KindCreate {
		return false
	}
	last := Op{HLC: e.Version, ID: e.LastOp}
	return last.Before(op)
}

// Clone returns a deep copy of e, so a store can fold into the copy
// without touching the state it read.
func (e *Enquiry) Clone() Enquiry {
	c := *e
	c.Notes = append(make([]Note, 0, len(e.Notes)+1), e.Notes...)
	c.History = append(make([]Entry, 0, len(e.History)+1), e.History...)
	c.Flights = append(make([]string, 0, len(e.Flights)+1), e.Flights...)
	c.Messages = append(make([]Message, 0, len(e.Messages)+1), e.Messages...)
	c.Replies = append(make([]Reply, 0, len(e.Replies)+1), e.Replies...)
	c.Merged = append(make([]uuid.UUID, 0, len(e.Merged)+1), e.Merged...)
	return c
}

// Apply folds one op into e. The caller guarantees CanAppend (or an empty
// e and a create op); otherwise use Fold.
func (e *Enquiry) Apply(op *Op) { e.apply(op) }

// Check reports whether op is legal on the current state, with the error a
// client sees (CodeIllegalTransition) when it is not. The fold records an
// illegal op as ignored; the APIs refuse it up front with this error.
func (e *Enquiry) Check(op *Op) error {
	if op.Kind != KindCreate && !e.Created() {
		return Errorf(CodeUnknownEnquiry, "enquiry %s does not exist", op.Enquiry)
	}
	switch op.Kind {
	case KindCreate:
		if e.Created() {
			return Errorf(CodeConflict, "enquiry %s exists already", op.Enquiry)
		}
	case KindAssign:
		switch e.Status {
		case StatusNew, StatusAssigned, StatusEscalated, StatusNotResolved, StatusPassengerNotOnBoard:
		default:
			return illegal(e.Status, "assign")
		}
	case KindRecall:
		if e.Status != StatusAssigned {
			return illegal(e.Status, "recall")
		}
	case KindAck:
		if e.Status != StatusAssigned {
			return illegal(e.Status, "acknowledge")
		}
	case KindOutcome:
		if e.Status == StatusClosed || len(e.Flights) == 0 {
			return illegal(e.Status, "record an outcome on")
		}
	case KindClose:
		var d CloseData
		_ = DecodeData(op.Data, &d)
		switch {
		case e.Status == StatusClosed:
			return illegal(e.Status, "close")
		case (e.Status == StatusAssigned || e.Status == StatusAcknowledged) && !d.Force:
			return Errorf(CodeIllegalTransition, "cannot close an enquiry that is %s: the crew outcome is pending (force it with a reason)", e.Status)
		}
	case KindNote:
	default:
		return e.checkCare(op)
	}
	return nil
}

func illegal(s Status, verb string) error {
	return Errorf(CodeIllegalTransition, "cannot %s an enquiry that is %s", verb, s)
}

func (e *Enquiry) apply(op *Op) {
	ent := Entry{OpID: op.ID, Kind: op.Kind, Actor: op.Actor, By: op.Actor.String(), At: op.HLC.Time(), HLC: op.HLC, Effect: EffectApplied, Data: op.Data}
	if err := e.Check(op); err != nil {
		ent.Effect, ent.Reason = EffectIgnored, ErrorMessage(err)
	} else {
		e.transition(op, &ent)
	}
	if op.Kind == KindCreate && e.ID == uuid.Nil {
		e.ID = op.Enquiry
	}
	e.History = append(e.History, ent)
	if op.Kind != KindCreate || e.Version == 0 {
		e.Version, e.LastOp = op.HLC, op.ID
	}
}

// transition applies a legal op. Payloads were validated on the way in; a
// payload that does not decode here is ignored field by field, so that the
// fold never fails and every replica still agrees.
func (e *Enquiry) transition(op *Op, ent *Entry) {
	at := op.HLC.Time()
	by := op.Actor.String()
	switch op.Kind {
	case KindCreate:
		var d CreateData
		_ = DecodeData(op.Data, &d)
		e.ID = op.Enquiry
		e.Channel, e.ExternalID, e.Handle, e.Customer = d.Channel, d.ExternalID, d.Handle, d.Customer
		e.Text, e.Language, e.ReceivedAt = d.Text, d.Language, d.ReceivedAt.UTC()
		e.Status = StatusNew
		if e.Notes == nil {
			e.Notes = []Note{}
		}
		if e.Flights == nil {
			e.Flights = []string{}
		}
		e.careCreated(op)
	case KindAssign:
		var d AssignData
		_ = DecodeData(op.Data, &d)
		e.Status, e.FlightID = StatusAssigned, d.FlightID
		e.PassengerName, e.Seat, e.Instructions = d.PassengerName, d.Seat, d.Instructions
		e.AssignedAt, e.AssignOp = &at, op.ID
		e.Acknowledged, e.Resolution, e.Flagged = nil, nil, false
		if !slices.Contains(e.Flights, d.FlightID) {
			e.Flights = append(e.Flights, d.FlightID)
		}
	case KindRecall:
		e.Status, e.FlightID, e.AssignOp, e.AssignedAt = StatusNew, "", uuid.Nil, nil
	case KindNote:
		var d NoteData
		_ = DecodeData(op.Data, &d)
		e.Notes = append(e.Notes, Note{ID: op.ID, Text: d.Text, By: by, At: at})
	case KindAck:
		e.Status = StatusAcknowledged
		e.Acknowledged = &Mark{By: by, At: at}
	case KindOutcome:
		var d OutcomeData
		_ = DecodeData(op.Data, &d)
		if e.Resolution != nil {
			// Two tablets recorded an outcome: the later one wins and the
			// earlier one stays visible in the history as superseded.
			for i := range e.History {
				if e.History[i].OpID == e.Resolution.OpID {
					e.History[i].Effect = EffectSuperseded
					e.History[i].Reason = "a later outcome replaced it"
				}
			}
		}
		e.Status = d.Outcome
		e.Resolution = &Resolution{Outcome: d.Outcome, Note: d.Note, By: by, At: at, OpID: op.ID}
		if d.Outcome == StatusEscalated {
			e.awaitFrom(at) // back to the ground queue
		}
	case KindClose:
		e.Status = StatusClosed
		e.Closed = &Mark{By: by, At: at}
		e.AwaitingSince, e.Flagged = nil, false
	default:
		e.transitionCare(op, at, by)
	}
}
