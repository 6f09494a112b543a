package syncproto

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Care op kinds: the customer side of an enquiry. All are ground kinds
// (written by agents or the intake system); tablets fold them to show the
// crew the customer's thread and what ground told the customer.
const (
	KindMessage Kind = "message" // ground: a customer follow-up joins the enquiry (MessageData)
	KindReply   Kind = "reply"   // ground: an agent's reply sent to the customer (ReplyData)
	KindMerge   Kind = "merge"   // ground: one enquiry absorbed another (MergeData)
)

// MessageData is the payload of KindMessage: a customer's follow-up on the
// same channel thread.
type MessageData struct {
	ExternalID string    `json:"external_id"`
	Text       string    `json:"text"`
	ReceivedAt time.Time `json:"received_at"`
}

// ReplyData is the payload of KindReply: a reply that ground sent to the
// customer through the enquiry's channel. The first reply folded is the
// enquiry's first response.
type ReplyData struct {
	Text       string    `json:"text"`
	TemplateID string    `json:"template_id,omitempty"`
	SentAt     time.Time `json:"sent_at"`
	// ExternalID is the message id the channel gave the reply, if any.
	ExternalID string `json:"external_id,omitempty"`
}

// MergeData is the payload of KindMerge. A merge of two enquiries is two
// ops written together: on the absorbed enquiry with Into set (it closes,
// pointing at the survivor), and on the survivor with From set, carrying a
// copy of the absorbed thread so that the survivor's fold shows both
// threads without reading another enquiry. Both histories are kept.
type MergeData struct {
	Into   *uuid.UUID `json:"into,omitempty"`
	From   *uuid.UUID `json:"from,omitempty"`
	Reason string     `json:"reason,omitempty"`
	// Messages and AwaitingSince are the absorbed enquiry's thread and
	// unanswered time (From only).
	Messages      []Message  `json:"messages,omitempty"`
	AwaitingSince *time.Time `json:"awaiting_since,omitempty"`
}

// MaxMergedMessages bounds the thread a merge op may carry.
const MaxMergedMessages = 200

// Message is one customer message in an enquiry's thread: the text of the
// create op, then each follow-up, in time order. From is set on messages
// that came with a merged enquiry.
type Message struct {
	ID         uuid.UUID  `json:"id"`
	ExternalID string     `json:"external_id"`
	Text       string     `json:"text"`
	At         time.Time  `json:"at"`
	From       *uuid.UUID `json:"from,omitempty"`
}

// Reply is one reply sent to the customer.
type Reply struct {
	ID         uuid.UUID `json:"id"`
	Text       string    `json:"text"`
	TemplateID string    `json:"template_id,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
}

// Validate checks a message payload.
func (d *MessageData) Validate() error {
	if err := checkShort("external_id", d.ExternalID, true); err != nil {
		return err
	}
	if d.ReceivedAt.IsZero() {
		return Errorf(CodeInvalid, "received_at is required")
	}
	return checkText("text", d.Text, true)
}

// Validate checks a reply payload.
func (d *ReplyData) Validate() error {
	if d.SentAt.IsZero() {
		return Errorf(CodeInvalid, "sent_at is required")
	}
	if err := checkShort("template_id", d.TemplateID, false); err != nil {
		return err
	}
	if err := checkShort("external_id", d.ExternalID, false); err != nil {
		return err
	}
	return checkText("text", d.Text, true)
}

// Validate checks a merge payload.
func (d *MergeData) Validate() error {
	if (d.Into == nil) == (d.From == nil) {
		return Errorf(CodeInvalid, "a merge names exactly one of into and from")
	}
	if d.Into != nil && (*d.Into == uuid.Nil || d.Messages != nil || d.AwaitingSince != nil) {
		return Errorf(CodeInvalid, "a merge into another enquiry names it and carries no thread")
	}
	if d.From != nil && *d.From == uuid.Nil {
		return Errorf(CodeInvalid, "from must name an enquiry")
	}
	if len(d.Messages) > MaxMergedMessages {
		return Errorf(CodeInvalid, "a merge carries at most %d messages", MaxMergedMessages)
	}
	for i := range d.Messages {
		m := &d.Messages[i]
		if err := checkText("message text", m.Text, true); err != nil {
			return err
		}
		if err := checkShort("message external_id", m.ExternalID, false); err != nil {
			return err
		}
	}
	return checkText("reason", d.Reason, false)
}

// validateCare validates the payload of a care kind (called by Validate).
func validateCare(o *Op) error {
	switch o.Kind {
	case KindMessage:
		var d MessageData
		if err := DecodeData(o.Data, &d); err != nil {
			return err
		}
		return d.Validate()
	case KindReply:
		var d ReplyData
		if err := DecodeData(o.Data, &d); err != nil {
			return err
		}
		return d.Validate()
	case KindMerge:
		var d MergeData
		if err := DecodeData(o.Data, &d); err != nil {
			return err
		}
		if err := d.Validate(); err != nil {
			return err
		}
		if d.Into != nil && *d.Into == o.Enquiry || d.From != nil && *d.From == o.Enquiry {
			return Errorf(CodeInvalid, "an enquiry cannot be merged with itself")
		}
		return nil
	}
	return Errorf(CodeInvalid, "unknown op kind %q", o.Kind)
}

// checkCare is Check for the care kinds and for kinds this replica does not
// know (a newer peer's): those are ignored, never applied half-understood.
func (e *Enquiry) checkCare(op *Op) error {
	switch op.Kind {
	case KindMessage:
		if e.Status == StatusClosed {
			return illegal(e.Status, "add a customer message to")
		}
	case KindReply:
		if e.Status == StatusClosed {
			return illegal(e.Status, "reply on")
		}
	case KindMerge:
		var d MergeData
		_ = DecodeData(op.Data, &d)
		switch {
		case e.Status == StatusClosed:
			return illegal(e.Status, "merge")
		case d.Into != nil && (e.Status == StatusAssigned || e.Status == StatusAcknowledged):
			return Errorf(CodeIllegalTransition, "cannot merge away an enquiry that is %s: the crew may be acting on it (recall it first)", e.Status)
		case d.From != nil && slices.Contains(e.Merged, *d.From):
			return Errorf(CodeIllegalTransition, "enquiry %s is merged into this one already", *d.From)
		}
	default:
		return Errorf(CodeInvalid, "unknown op kind %q: this replica cannot apply it", op.Kind)
	}
	return nil
}

// transitionCare applies a legal care op.
func (e *Enquiry) transitionCare(op *Op, at time.Time, by string) {
	switch op.Kind {
	case KindMessage:
		var d MessageData
		_ = DecodeData(op.Data, &d)
		recv := d.ReceivedAt.UTC()
		e.addMessages(Message{ID: op.ID, ExternalID: d.ExternalID, Text: d.Text, At: recv})
		e.awaitFrom(recv)
		if e.Status.IsOutcome() {
			// The crew recorded an outcome already: the agent must look.
			e.Flagged = true
		}
	case KindReply:
		var d ReplyData
		_ = DecodeData(op.Data, &d)
		sent := d.SentAt.UTC()
		e.Replies = append(e.Replies, Reply{ID: op.ID, Text: d.Text, TemplateID: d.TemplateID, ExternalID: d.ExternalID, By: by, At: sent})
		if e.FirstResponse == nil {
			e.FirstResponse = &Mark{By: by, At: sent}
		}
		e.AwaitingSince, e.Flagged = nil, false
	case KindMerge:
		var d MergeData
		_ = DecodeData(op.Data, &d)
		if d.Into != nil {
			into := *d.Into
			e.Status, e.MergedInto = StatusClosed, &into
			e.Closed = &Mark{By: by, At: at}
			e.AwaitingSince, e.Flagged = nil, false
			return
		}
		if d.From == nil {
			return
		}
		from := *d.From
		e.Merged = append(e.Merged, from)
		msgs := make([]Message, len(d.Messages))
		for i, m := range d.Messages {
			m.At = m.At.UTC()
			if m.From == nil {
				m.From = &from
			}
			msgs[i] = m
		}
		e.addMessages(msgs...)
		if d.AwaitingSince != nil {
			e.awaitFrom(d.AwaitingSince.UTC())
		}
	}
}

// addMessages adds to the thread, kept in time order (then by id, so every
// replica orders equal times the same way).
func (e *Enquiry) addMessages(ms ...Message) {
	e.Messages = append(e.Messages, ms...)
	slices.SortStableFunc(e.Messages, func(a, b Message) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	for _, m := range ms {
		if m.At.After(e.LastMessageAt) {
			e.LastMessageAt = m.At
		}
	}
}

// awaitFrom notes that the customer is owed an answer since t, unless an
// older unanswered item already is.
func (e *Enquiry) awaitFrom(t time.Time) {
	if e.AwaitingSince == nil || t.Before(*e.AwaitingSince) {
		e.AwaitingSince = &t
	}
}

// careCreated sets the thread up from the create op.
func (e *Enquiry) careCreated(op *Op) {
	e.Messages = []Message{{ID: op.ID, ExternalID: e.ExternalID, Text: e.Text, At: e.ReceivedAt}}
	e.Replies = []Reply{}
	e.Merged = []uuid.UUID{}
	e.LastMessageAt = e.ReceivedAt
	recv := e.ReceivedAt
	e.AwaitingSince = &recv
}

// replyWindows are the channels that accept a business reply only within a
// window after the customer's last message.
var replyWindows = map[string]time.Duration{
	"whatsapp":  24 * time.Hour,
	"messenger": 24 * time.Hour,
}

// ReplyWindow is how long after the customer's last message the channel
// still accepts a reply from the business; 0 means no limit.
func ReplyWindow(channel string) time.Duration { return replyWindows[channel] }
