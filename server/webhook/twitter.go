package webhook

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cabincare/cabincare/server/care"
	"github.com/cabincare/cabincare/server/triage"
	"github.com/cabincare/cabincare/syncproto"
)

// Twitter adapts the X (Twitter) Account Activity API webhook: direct
// messages to the account and tweets that mention it.
type Twitter struct{}

// TwitterSignatureHeader carries base64(HMAC-SHA256(consumer secret, body)).
const TwitterSignatureHeader = "X-Twitter-Webhooks-Signature"

// Name is "twitter".
func (Twitter) Name() string { return "twitter" }

// Handshake answers the CRC check: GET ?crc_token=T ->
// {"response_token":"sha256=" + base64(HMAC-SHA256(secret, T))}.
func (Twitter) Handshake(q url.Values, secret, _ string) (int, string, []byte) {
	token := q.Get("crc_token")
	if token == "" {
		return http.StatusBadRequest, "application/json", errorJSON(syncproto.CodeInvalid, "crc_token is required")
	}
	b, _ := json.Marshal(map[string]string{"response_token": SignBase64(secret, []byte(token))})
	return http.StatusOK, "application/json", b
}

// Verify checks x-twitter-webhooks-signature.
func (Twitter) Verify(h http.Header, body []byte, secret string) error {
	return checkSignature(h.Get(TwitterSignatureHeader), SignBase64(secret, body), TwitterSignatureHeader)
}

// flexID is an id sent as a string (DM users) or a number (tweets).
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*f = flexID(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*f = flexID(s)
	return nil
}

type twitterUser struct {
	ID             flexID `json:"id"`
	IDStr          string `json:"id_str"`
	Name           string `json:"name"`
	ScreenName     string `json:"screen_name"`
	FollowersCount int    `json:"followers_count"`
}

func (u twitterUser) id() string {
	if u.IDStr != "" {
		return u.IDStr
	}
	return string(u.ID)
}

type twitterPayload struct {
	ForUserID           string `json:"for_user_id"`
	DirectMessageEvents []struct {
		Type             string `json:"type"`
		ID               string `json:"id"`
		CreatedTimestamp string `json:"created_timestamp"`
		MessageCreate    struct {
			SenderID    string `json:"sender_id"`
			MessageData struct {
				Text string `json:"text"`
			} `json:"message_data"`
		} `json:"message_create"`
	} `json:"direct_message_events"`
	TweetCreateEvents []struct {
		CreatedAt     string      `json:"created_at"`
		IDStr         string      `json:"id_str"`
		Text          string      `json:"text"`
		Lang          string      `json:"lang"`
		User          twitterUser `json:"user"`
		ExtendedTweet *struct {
			FullText string `json:"full_text"`
		} `json:"extended_tweet"`
		RetweetedStatus json.RawMessage `json:"retweeted_status"`
	} `json:"tweet_create_events"`
	Users map[string]twitterUser `json:"users"`
}

// Parse reads direct_message_events (private; the thread is the
// conversation with the sender) and tweet_create_events (public; the
// thread is the author, so a second tweet joins the open enquiry). The
// account's own messages and retweets are left out.
func (Twitter) Parse(body []byte) ([]care.Intake, error) {
	var p twitterPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, syncproto.Errorf(syncproto.CodeInvalidJSON, "not an Account Activity payload: %v", err)
	}
	var out []care.Intake
	for _, ev := range p.DirectMessageEvents {
		mc := ev.MessageCreate
		if ev.Type != "message_create" || mc.SenderID == "" || mc.SenderID == p.ForUserID || strings.TrimSpace(mc.MessageData.Text) == "" {
			continue
		}
		u := p.Users[mc.SenderID]
		in := care.Intake{
			Channel: "twitter", ExternalID: "tw-dm-" + ev.ID, Handle: handle(u.ScreenName, mc.SenderID), Customer: u.Name,
			Text: mc.MessageData.Text, Language: triage.GuessLanguage(mc.MessageData.Text),
			Public: false, Followers: u.FollowersCount, Thread: "dm:" + mc.SenderID,
		}
		if ms, err := strconv.ParseInt(ev.CreatedTimestamp, 10, 64); err == nil {
			t := time.UnixMilli(ms).UTC()
			in.ReceivedAt = &t
		}
		out = append(out, in)
	}
	for _, tw := range p.TweetCreateEvents {
		if tw.User.id() == p.ForUserID || len(tw.RetweetedStatus) > 0 || tw.IDStr == "" {
			continue
		}
		text := tw.Text
		if tw.ExtendedTweet != nil && tw.ExtendedTweet.FullText != "" {
			text = tw.ExtendedTweet.FullText
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		lang := tw.Lang
		if !supported(lang) {
			lang = triage.GuessLanguage(text)
		}
		in := care.Intake{
			Channel: "twitter", ExternalID: "tw-" + tw.IDStr, Handle: handle(tw.User.ScreenName, tw.User.id()), Customer: tw.User.Name,
			Text: text, Language: lang, Public: true, Followers: tw.User.FollowersCount, Thread: "author:" + tw.User.id(),
		}
		if t, err := time.Parse(time.RubyDate, tw.CreatedAt); err == nil {
			t = t.UTC()
			in.ReceivedAt = &t
		}
		out = append(out, in)
	}
	return out, nil
}

func handle(screenName, id string) string {
	if screenName != "" {
		return "@" + strings.TrimPrefix(screenName, "@")
	}
	return id
}

func supported(lang string) bool {
	for _, l := range triage.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

func errorJSON(code, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"error": syncproto.Error{Code: code, Message: msg}})
	return b
}
