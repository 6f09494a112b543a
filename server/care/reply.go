package care

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// TemplateStore is what the workflow needs of the reply templates.
type TemplateStore interface {
	CreateTemplate(ctx context.Context, t *store.Template) error
	UpdateTemplate(ctx context.Context, id string, fn func(*store.Template) error) (*store.Template, error)
	Template(ctx context.Context, id string) (*store.Template, error)
	Templates(ctx context.Context) ([]store.Template, error)
	DeleteTemplate(ctx context.Context, id string) error
}

// Placeholders are the values a reply template can use, as {{name}}.
var Placeholders = []string{"customer", "handle", "passenger", "flight", "date", "seat", "origin", "destination", "agent"}

var (
	placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
	templateIDRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// placeholdersOf returns the placeholders a text uses, and an error naming
// the first unknown one (or a stray "{{").
func placeholdersOf(text string) ([]string, error) {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(Placeholders, m[1]) {
			return nil, syncproto.Errorf(syncproto.CodeInvalid, "unknown placeholder {{%s}}: use one of {{%s}}", m[1], strings.Join(Placeholders, "}}, {{"))
		}
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	if rest := placeholderRE.ReplaceAllString(text, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "unbalanced {{ or }} in the text")
	}
	return out, nil
}

// Render fills the placeholders of text from vars. An unknown placeholder,
// or one without a value for this enquiry, is an error (invalid), so a
// customer never receives "{{seat}}" or an empty gap.
func Render(text string, vars map[string]string) (string, error) {
	used, err := placeholdersOf(text)
	if err != nil {
		return "", err
	}
	for _, p := range used {
		if vars[p] == "" {
			return "", syncproto.Errorf(syncproto.CodeInvalid, "placeholder {{%s}} has no value for this enquiry%s", p, missingHint(p))
		}
	}
	return placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		return vars[placeholderRE.FindStringSubmatch(m)[1]]
	}), nil
}

func missingHint(p string) string {
	switch p {
	case "passenger", "flight", "date", "seat", "origin", "destination":
		return " (assign it to a passenger's flight first)"
	case "customer":
		return " (the intake had no customer name)"
	}
	return ""
}

// TemplateInput is a template as agents send it.
type TemplateInput struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Text     string `json:"text"`
}

func (s *Service) checkTemplate(in *TemplateInput) error {
	in.Name, in.Language = strings.TrimSpace(in.Name), strings.TrimSpace(in.Language)
	if in.Name == "" || len(in.Name) > syncproto.MaxShortLen {
		return syncproto.Errorf(syncproto.CodeInvalid, "name is required (at most %d bytes)", syncproto.MaxShortLen)
	}
	probe := syncproto.CreateData{Channel: "web", ExternalID: "x", Handle: "x", Text: "x", Language: in.Language}
	if err := probe.Validate(); err != nil {
		return syncproto.Errorf(syncproto.CodeInvalid, "language %q is not a language code such as \"en\" or \"pt-BR\"", in.Language)
	}
	if strings.TrimSpace(in.Text) == "" || len(in.Text) > syncproto.MaxTextLen {
		return syncproto.Errorf(syncproto.CodeInvalid, "text is required (at most %d bytes)", syncproto.MaxTextLen)
	}
	_, err := placeholdersOf(in.Text)
	return err
}

// CreateTemplate stores a new template. Without an id, one is made from
// the name and language.
func (s *Service) CreateTemplate(ctx context.Context, in TemplateInput) (*store.Template, error) {
	if err := s.checkTemplate(&in); err != nil {
		return nil, err
	}
	in.ID = strings.TrimSpace(in.ID)
	if in.ID == "" {
		in.ID = slug(in.Name) + "-" + strings.ToLower(in.Language)
	}
	if !templateIDRE.MatchString(in.ID) {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "id %q must be 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit", in.ID)
	}
	now := s.Now().UTC()
	t := &store.Template{ID: in.ID, Name: in.Name, Language: in.Language, Text: in.Text, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateTemplate(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// UpdateTemplate replaces a template's name, language and text.
func (s *Service) UpdateTemplate(ctx context.Context, id string, in TemplateInput) (*store.Template, error) {
	if in.ID != "" && in.ID != id {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "the id %q in the body is not the template's %q", in.ID, id)
	}
	if err := s.checkTemplate(&in); err != nil {
		return nil, err
	}
	return s.Store.UpdateTemplate(ctx, id, func(t *store.Template) error {
		t.Name, t.Language, t.Text, t.UpdatedAt = in.Name, in.Language, in.Text, s.Now().UTC()
		return nil
	})
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(store.NormName(s)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 40 {
		out = strings.Trim(out[:40], "-")
	}
	if out == "" {
		out = "template"
	}
	return out
}

// Outbound is a reply to send to a customer.
type Outbound struct {
	Enquiry uuid.UUID `json:"enquiry"`
	Channel string    `json:"channel"`
	Handle  string    `json:"handle"`
	Thread  string    `json:"thread,omitempty"`
	// InReplyTo is the external id of the customer's last message.
	InReplyTo string `json:"in_reply_to"`
	Text      string `json:"text"`
}

// Sent is what a channel answered for a reply.
type Sent struct {
	ExternalID string    `json:"external_id"`
	At         time.Time `json:"at"`
}

// Sender sends replies through a social channel. Channels are adapters
// behind this interface; the workflow never names one. Send returns an
// error only when the reply was not sent.
type Sender interface {
	Send(ctx context.Context, m Outbound) (Sent, error)
}

// RecordingSender is the Sender used when no social network is reachable:
// it records what would have been sent. It is safe for concurrent use.
type RecordingSender struct {
	Now func() time.Time

	mu   sync.Mutex
	sent []OutboundRecord
}

// OutboundRecord is one reply a RecordingSender took.
type OutboundRecord struct {
	Outbound
	Sent
}

var _ Sender = (*RecordingSender)(nil)

// Send records m.
func (r *RecordingSender) Send(ctx context.Context, m Outbound) (Sent, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	s := Sent{ExternalID: fmt.Sprintf("rec-%d", len(r.sent)+1), At: now().UTC()}
	r.sent = append(r.sent, OutboundRecord{Outbound: m, Sent: s})
	return s, nil
}

// Records returns what was sent, oldest first.
func (r *RecordingSender) Records() []OutboundRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

func (s *Service) sender() Sender {
	if s.Sender != nil {
		return s.Sender
	}
	s.initMu.Lock()
	defer s.initMu.Unlock()
	if s.defaultSender == nil {
		s.defaultSender = &RecordingSender{Now: s.Now}
	}
	return s.defaultSender
}

// Outbound lists what the recording sender took, when it is the sender
// (ok=false otherwise).
func (s *Service) Outbound() ([]OutboundRecord, bool) {
	r, ok := s.sender().(*RecordingSender)
	if !ok {
		return nil, false
	}
	return r.Records(), true
}

// ReplyRequest is a reply as agents send it: a template, or a text, or
// both (the text wins). Either may use placeholders.
type ReplyRequest struct {
	TemplateID string `json:"template_id"`
	Text       string `json:"text"`
}

// Reply renders a reply, sends it to the customer on the enquiry's
// channel, and records it (the first reply is the first response). It is
// refused on a closed enquiry, and on a channel whose reply window has
// closed (the customer must write again first).
func (s *Service) Reply(ctx context.Context, by syncproto.Actor, id uuid.UUID, in ReplyRequest) (*syncproto.Enquiry, error) {
	e, _, err := s.Store.Enquiry(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.Status == syncproto.StatusClosed {
		return nil, syncproto.Errorf(syncproto.CodeIllegalTransition, "cannot reply on an enquiry that is closed")
	}
	now := s.Now().UTC()
	if w := syncproto.ReplyWindow(e.Channel); w > 0 && now.After(e.LastMessageAt.Add(w)) {
		return nil, syncproto.Errorf(syncproto.CodeIllegalTransition, "the %s reply window closed at %s (%s after the customer's last message): the customer must write again first", e.Channel, e.LastMessageAt.Add(w).Format(time.RFC3339), w)
	}
	text := in.Text
	in.TemplateID = strings.TrimSpace(in.TemplateID)
	if in.TemplateID != "" {
		t, err := s.Store.Template(ctx, in.TemplateID)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(text) == "" {
			text = t.Text
		}
	}
	if strings.TrimSpace(text) == "" {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "a reply needs a template_id or a text")
	}
	vars, err := s.replyVars(ctx, e, by)
	if err != nil {
		return nil, err
	}
	text, err = Render(text, vars)
	if err != nil {
		return nil, err
	}
	if len(text) > syncproto.MaxTextLen {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "the reply is longer than %d bytes", syncproto.MaxTextLen)
	}
	out := Outbound{Enquiry: e.ID, Channel: e.Channel, Handle: e.Handle, Text: text}
	if n := len(e.Messages); n > 0 {
		out.InReplyTo = e.Messages[n-1].ExternalID
	}
	if c, err := s.Store.Care(ctx, id); err == nil {
		out.Thread = c.Thread
	}
	sent, err := s.sender().Send(ctx, out)
	if err != nil {
		s.Log.Error("reply not sent", "enquiry", id, "channel", e.Channel, "err", err)
		return nil, syncproto.Errorf(syncproto.CodeUnavailable, "the %s channel did not take the reply; nothing was sent", e.Channel)
	}
	d := syncproto.ReplyData{Text: text, TemplateID: in.TemplateID, SentAt: sent.At.UTC(), ExternalID: sent.ExternalID}
	r, err := s.change(ctx, by, id, syncproto.KindReply, d)
	if err != nil {
		// The customer has the reply; only its record failed.
		s.Log.Error("reply sent but not recorded", "enquiry", id, "external_id", sent.ExternalID, "err", err)
		return nil, err
	}
	return r, nil
}

// replyVars are the placeholder values of an enquiry.
func (s *Service) replyVars(ctx context.Context, e *syncproto.Enquiry, by syncproto.Actor) (map[string]string, error) {
	v := map[string]string{"customer": e.Customer, "handle": e.Handle, "passenger": e.PassengerName, "seat": e.Seat, "agent": by.String()}
	if by.Name == "" {
		v["agent"] = ""
	}
	if e.FlightID != "" {
		f, err := s.Store.Flight(ctx, e.FlightID)
		if err != nil {
			return nil, err
		}
		v["flight"], v["date"], v["origin"], v["destination"] = f.Number, f.Date, f.Origin, f.Destination
	}
	return v, nil
}
