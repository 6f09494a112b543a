package syncproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Kind names what an op does to an enquiry.
type Kind string

// Op kinds. Ground ops are written by agents through the REST API, crew ops
// by devices. Who may write which kind is checked by Validate.
const (
	KindCreate  Kind = "create"  // ground: the enquiry arrives (CreateData)
	KindAssign  Kind = "assign"  // ground: hand to a flight's crew, or move (AssignData)
	KindRecall  Kind = "recall"  // ground: take back from the crew before they act (RecallData)
	KindNote    Kind = "note"    // anyone: append a note (NoteData)
	KindAck     Kind = "ack"     // crew: seen by the crew (no data)
	KindOutcome Kind = "outcome" // crew: what happened on board (OutcomeData)
	KindClose   Kind = "close"   // ground: the loop with the customer is closed (CloseData)
)

// Actor types.
const (
	ActorAgent  = "agent"
	ActorDevice = "device"
	ActorSystem = "system"
)

// Actor says who wrote an op. For a device, ID is the device id and Name the
// crew member who was signed in, if any.
type Actor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Staff is the staff number of the crew member signed in on the
	// tablet that wrote a device op.
	Staff string `json:"staff,omitempty"`
}

// String is the actor as shown to people.
func (a Actor) String() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Type + ":" + a.ID
}

// Op is one immutable change to one enquiry. Ops are idempotent by ID: the
// same op applied twice changes nothing the second time.
type Op struct {
	ID      uuid.UUID       `json:"id"`
	Enquiry uuid.UUID       `json:"enq"`
	Kind    Kind            `json:"kind"`
	HLC     HLC             `json:"hlc"`
	Actor   Actor           `json:"actor"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Before reports whether o sorts before p in fold order: by HLC, then by id
// so that equal timestamps from two replicas still order the same way.
func (o *Op) Before(p *Op) bool {
	if o.HLC != p.HLC {
		return o.HLC < p.HLC
	}
	return bytes.Compare(o.ID[:], p.ID[:]) < 0
}

// CreateData is the payload of KindCreate.
type CreateData struct {
	Channel    string    `json:"channel"`
	ExternalID string    `json:"external_id"`
	Handle     string    `json:"handle"`
	Customer   string    `json:"customer,omitempty"`
	Text       string    `json:"text"`
	Language   string    `json:"language"`
	ReceivedAt time.Time `json:"received_at"`
}

// AssignData is the payload of KindAssign.
type AssignData struct {
	FlightID      string `json:"flight_id"`
	PassengerName string `json:"passenger_name,omitempty"`
	Seat          string `json:"seat,omitempty"`
	Instructions  string `json:"instructions,omitempty"`
}

// RecallData is the payload of KindRecall.
type RecallData struct {
	Reason string `json:"reason,omitempty"`
}

// NoteData is the payload of KindNote.
type NoteData struct {
	Text string `json:"text"`
}

// OutcomeData is the payload of KindOutcome.
type OutcomeData struct {
	Outcome Status `json:"outcome"`
	Note    string `json:"note,omitempty"`
}

// CloseData is the payload of KindClose. Force closes an enquiry whose crew
// outcome is still pending; it needs a Reason.
type CloseData struct {
	Force  bool   `json:"force,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Limits on op content, so one op can never dominate a frame or a store.
const (
	MaxTextLen  = 8000 // customer text, notes, instructions (bytes)
	MaxShortLen = 200  // names, handles, ids, seats
)

// Channels are the social channels an enquiry can come from.
var Channels = []string{"facebook", "messenger", "twitter", "instagram", "whatsapp", "wechat", "youtube", "reddit", "snapchat", "email", "web"}

// IsChannel reports whether c is a known channel.
func IsChannel(c string) bool {
	for _, k := range Channels {
		if k == c {
			return true
		}
	}
	return false
}

// deviceKinds are the kinds a device may write; everything else is ground's.
var deviceKinds = map[Kind]bool{KindNote: true, KindAck: true, KindOutcome: true}

var groundKinds = map[Kind]bool{KindCreate: true, KindAssign: true, KindRecall: true, KindNote: true, KindClose: true, KindMessage: true, KindReply: true, KindMerge: true}

// DecodeData decodes an op payload strictly: unknown fields are an error, so
// a misspelt field never passes as an empty one.
func DecodeData(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(CodeInvalid, "op data: %v", err)
	}
	// More misses a stray '}' or ']' after the value; only EOF is clean.
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(CodeInvalid, "op data: trailing data")
	}
	return nil
}

// Validate checks that an op is well formed and that its actor may write
// its kind. It does not look at the enquiry's state: that is the fold's job.
func (o *Op) Validate() error {
	if o.ID.Version() != 7 || o.ID.Variant() != uuid.RFC4122 {
		return Errorf(CodeInvalid, "op id %s is not a UUIDv7", o.ID)
	}
	if o.Enquiry == uuid.Nil {
		return Errorf(CodeInvalid, "op %s has no enquiry id", o.ID)
	}
	if o.HLC == 0 {
		return Errorf(CodeInvalid, "op %s has no timestamp", o.ID)
	}
	// JSON decoding would turn invalid UTF-8 in the payload into U+FFFD
	// silently, and the raw bytes would still be stored and forwarded.
	if !utf8.Valid(o.Data) {
		return Errorf(CodeInvalid, "op %s data is not valid UTF-8", o.ID)
	}
	switch o.Actor.Type {
	case ActorDevice:
		if !deviceKinds[o.Kind] {
			return Errorf(CodeForbidden, "a device may not write %q ops", o.Kind)
		}
	case ActorAgent, ActorSystem:
		if !groundKinds[o.Kind] {
			return Errorf(CodeInvalid, "unknown op kind %q", o.Kind)
		}
	default:
		return Errorf(CodeInvalid, "unknown actor type %q", o.Actor.Type)
	}
	if err := checkShort("actor id", o.Actor.ID, true); err != nil {
		return err
	}
	if err := checkShort("actor name", o.Actor.Name, false); err != nil {
		return err
	}
	if err := checkShort("actor staff number", o.Actor.Staff, false); err != nil {
		return err
	}
	switch o.Kind {
	case KindCreate:
		var d CreateData
		if err := DecodeData(o.Data, &d); err != nil {
			return err
		}
		return d.Validate()
	case KindAssign:
		var d AssignData
		if err := DecodeData(o.Data, &d); err != nil {
			return err
		}
		return d.Validate()
	case KindRecall:
		var d RecallData
		if err := DecodeData(o.Data, &d); err != nil {
			return err
		}
		return checkText("reason", d.Reason, false)
	case KindNote:
		var d NoteData
		if err := DecodeData(o.Data, &d); err != nil {
			return err
		}
		return checkText("text", d.Text, true)
	case KindAck:
		var d struct{}
		return DecodeData(o.Data, &d)
	case KindOutcome:
		var d OutcomeData
		if err := DecodeData(o.Data, &d); err != nil {
			return err
		}
		return d.Validate()
	case KindClose:
		var d CloseData
		if err := DecodeData(o.Data, &d); err != nil {
			return err
		}
		return d.Validate()
	case KindMessage, KindReply, KindMerge:
		return validateCare(o)
	}
	return Errorf(CodeInvalid, "unknown op kind %q", o.Kind)
}

// Validate checks a create payload.
func (d *CreateData) Validate() error {
	if !IsChannel(d.Channel) {
		return Errorf(CodeInvalid, "channel %q is not one of %s", d.Channel, strings.Join(Channels, ", "))
	}
	if err := checkShort("external_id", d.ExternalID, true); err != nil {
		return err
	}
	if err := checkShort("handle", d.Handle, true); err != nil {
		return err
	}
	if err := checkShort("customer", d.Customer, false); err != nil {
		return err
	}
	if err := checkText("text", d.Text, true); err != nil {
		return err
	}
	if !isLanguage(d.Language) {
		return Errorf(CodeInvalid, "language %q is not a language code such as \"en\" or \"pt-BR\"", d.Language)
	}
	return nil
}

// Validate checks an assign payload.
func (d *AssignData) Validate() error {
	if err := checkShort("flight_id", d.FlightID, true); err != nil {
		return err
	}
	if err := checkShort("passenger_name", d.PassengerName, false); err != nil {
		return err
	}
	if err := checkShort("seat", d.Seat, false); err != nil {
		return err
	}
	return checkText("instructions", d.Instructions, false)
}

// Validate checks an outcome payload.
func (d *OutcomeData) Validate() error {
	if !d.Outcome.IsOutcome() {
		return Errorf(CodeInvalid, "outcome %q is not one of resolved, not_resolved, passenger_not_on_board, escalated", d.Outcome)
	}
	return checkText("note", d.Note, false)
}

// Validate checks a close payload.
func (d *CloseData) Validate() error {
	if d.Force && strings.TrimSpace(d.Reason) == "" {
		return Errorf(CodeInvalid, "a forced close needs a reason")
	}
	return checkText("reason", d.Reason, false)
}

func checkShort(name, v string, required bool) error {
	return checkLen(name, v, required, MaxShortLen)
}

func checkText(name, v string, required bool) error {
	return checkLen(name, v, required, MaxTextLen)
}

func checkLen(name, v string, required bool, max int) error {
	if required && strings.TrimSpace(v) == "" {
		return Errorf(CodeInvalid, "%s is required", name)
	}
	if len(v) > max {
		return Errorf(CodeInvalid, "%s is longer than %d bytes", name, max)
	}
	if !utf8.ValidString(v) {
		return Errorf(CodeInvalid, "%s is not valid UTF-8", name)
	}
	return nil
}

// isLanguage accepts BCP 47-like tags: a 2-3 letter language and optional
// subtags ("en", "pt-BR", "zh-Hant").
func isLanguage(s string) bool {
	if len(s) < 2 || len(s) > 35 {
		return false
	}
	for i, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 || (i == 0 && len(part) > 3) {
			return false
		}
		for _, r := range part {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// NewOpID returns a fresh UUIDv7, time-ordered so that ids created later
// sort later in stores.
func NewOpID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		// uuid.NewV7 fails only if the system random source does; nothing
		// can be written safely then.
		panic(fmt.Sprintf("syncproto: new op id: %v", err))
	}
	return id
}

// MustData encodes a payload; payload types here always encode.
func MustData(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("syncproto: encode op data: %v", err))
	}
	return b
}
