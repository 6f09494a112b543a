package webhook

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cabincare/cabincare/server/care"
	"github.com/cabincare/cabincare/server/triage"
	"github.com/cabincare/cabincare/syncproto"
)

// Meta adapts the Messenger Platform ("object":"page") and Instagram
// messaging ("object":"instagram") webhooks.
type Meta struct{}

// MetaSignatureHeader carries "sha256=" + hex(HMAC-SHA256(app secret, body)).
const MetaSignatureHeader = "X-Hub-Signature-256"

// Name is "meta".
func (Meta) Name() string { return "meta" }

// Handshake answers the subscription check: GET ?hub.mode=subscribe&
// hub.verify_token=TOKEN&hub.challenge=C -> C as text, when TOKEN is ours.
func (Meta) Handshake(q url.Values, _, verifyToken string) (int, string, []byte) {
	if q.Get("hub.mode") != "subscribe" || q.Get("hub.challenge") == "" {
		return http.StatusBadRequest, "application/json", errorJSON(syncproto.CodeInvalid, "hub.mode=subscribe and hub.challenge are required")
	}
	got := q.Get("hub.verify_token")
	if verifyToken == "" || subtle.ConstantTimeCompare([]byte(got), []byte(verifyToken)) != 1 {
		return http.StatusForbidden, "application/json", errorJSON(syncproto.CodeForbidden, "hub.verify_token does not match")
	}
	return http.StatusOK, "text/plain; charset=utf-8", []byte(q.Get("hub.challenge"))
}

// Verify checks X-Hub-Signature-256.
func (Meta) Verify(h http.Header, body []byte, secret string) error {
	return checkSignature(h.Get(MetaSignatureHeader), SignHex(secret, body), MetaSignatureHeader)
}

type metaPayload struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string `json:"id"`
		Time      int64  `json:"time"`
		Messaging []struct {
			Sender    struct{ ID string } `json:"sender"`
			Recipient struct{ ID string } `json:"recipient"`
			Timestamp int64               `json:"timestamp"`
			Message   *struct {
				MID    string `json:"mid"`
				Text   string `json:"text"`
				IsEcho bool   `json:"is_echo"`
			} `json:"message"`
		} `json:"messaging"`
	} `json:"entry"`
}

// Parse reads the messaging events of every entry: a customer's message to
// the page or account (private; the thread is the sender, so follow-ups
// join the open enquiry). Echoes of our own messages, deliveries, reads
// and attachments without text are left out. The handle is the
// page-scoped sender id: the platform does not send a username.
func (Meta) Parse(body []byte) ([]care.Intake, error) {
	var p metaPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, syncproto.Errorf(syncproto.CodeInvalidJSON, "not a Meta webhook payload: %v", err)
	}
	channel, prefix := "", ""
	switch p.Object {
	case "page":
		channel, prefix = "messenger", "ms-"
	case "instagram":
		channel, prefix = "instagram", "ig-"
	default:
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "object %q is not page or instagram", p.Object)
	}
	var out []care.Intake
	for _, e := range p.Entry {
		for _, m := range e.Messaging {
			if m.Message == nil || m.Message.IsEcho || m.Message.MID == "" || m.Sender.ID == "" || m.Sender.ID == e.ID || strings.TrimSpace(m.Message.Text) == "" {
				continue
			}
			in := care.Intake{
				Channel: channel, ExternalID: prefix + m.Message.MID, Handle: m.Sender.ID, Text: m.Message.Text,
				Language: triage.GuessLanguage(m.Message.Text), Public: false, Thread: m.Sender.ID,
			}
			if m.Timestamp > 0 {
				t := time.UnixMilli(m.Timestamp).UTC()
				in.ReceivedAt = &t
			}
			out = append(out, in)
		}
	}
	return out, nil
}
