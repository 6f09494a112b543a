package webhook_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cabincare/cabincare/server/webhook"
	"github.com/cabincare/cabincare/syncproto"
)

const secret = "test-webhook-secret"

func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "webhooks", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Ensure each adapter accepts its own signature and refuses a missing,
// wrong, re-keyed or tampered one with unauthorized.
func TestVerify(t *testing.T) {
	body := sample(t, "twitter_dm.json")
	for _, tc := range []struct {
		name   string
		ad     webhook.Adapter
		header string
		sig    func([]byte) string
	}{
		{"Twitter", webhook.Twitter{}, webhook.TwitterSignatureHeader, func(b []byte) string { return webhook.SignBase64(secret, b) }},
		{"Meta", webhook.Meta{}, webhook.MetaSignatureHeader, func(b []byte) string { return webhook.SignHex(secret, b) }},
	} {
		t.Run(tc.name+"/OK", func(t *testing.T) {
			h := http.Header{}
			h.Set(tc.header, tc.sig(body))
			if err := tc.ad.Verify(h, body, secret); err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
		})
		for name, h := range map[string]http.Header{
			"ErrMissing":     {},
			"ErrEmpty":       {tc.header: {""}},
			"ErrWrongSecret": {tc.header: {webhook.SignHex("other", body)}},
			"ErrOtherFormat": {tc.header: {webhook.SignBase64(secret, body) + "x"}},
			"ErrTampered":    {tc.header: {tc.sig(append([]byte(" "), body...))}},
		} {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				err := tc.ad.Verify(h, body, secret)
				if got := syncproto.ErrorCode(err); got != syncproto.CodeUnauthorized {
					t.Fatalf("Verify = %v, want code unauthorized", err)
				}
			})
		}
	}
}

func TestHandshake(t *testing.T) {
	t.Run("TwitterCRC", func(t *testing.T) {
		status, ctype, body := webhook.Twitter{}.Handshake(url.Values{"crc_token": {"abc123"}}, secret, "")
		var got struct {
			ResponseToken string `json:"response_token"`
		}
		if err := json.Unmarshal(body, &got); err != nil || status != 200 || ctype != "application/json" {
			t.Fatalf("CRC = %d %s %s", status, ctype, body)
		}
		if want := webhook.SignBase64(secret, []byte("abc123")); got.ResponseToken != want {
			t.Errorf("response_token = %s, want %s", got.ResponseToken, want)
		}
		if status, _, _ := (webhook.Twitter{}).Handshake(url.Values{}, secret, ""); status != 400 {
			t.Errorf("no crc_token: status %d, want 400", status)
		}
	})
	t.Run("MetaChallenge", func(t *testing.T) {
		q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"vt"}, "hub.challenge": {"1158201444"}}
		status, _, body := webhook.Meta{}.Handshake(q, secret, "vt")
		if status != 200 || string(body) != "1158201444" {
			t.Fatalf("challenge = %d %s, want 200 1158201444", status, body)
		}
		q.Set("hub.verify_token", "wrong")
		if status, _, _ := (webhook.Meta{}).Handshake(q, secret, "vt"); status != 403 {
			t.Errorf("wrong token: status %d, want 403", status)
		}
		if status, _, _ := (webhook.Meta{}).Handshake(q, secret, ""); status != 403 {
			t.Errorf("no configured token: status %d, want 403", status)
		}
		if status, _, _ := (webhook.Meta{}).Handshake(url.Values{"hub.mode": {"subscribe"}}, secret, "vt"); status != 400 {
			t.Errorf("no challenge: status %d, want 400", status)
		}
	})
}

// Ensure the sample payloads become the customer messages they hold, and
// echoes, reads and retweets are left out.
func TestParse(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	for _, tc := range []struct {
		file      string
		ad        webhook.Adapter
		n         int
		channel   string
		ext       string
		handle    string
		customer  string
		language  string
		public    bool
		followers int
		thread    string
		received  time.Time
	}{
		{"twitter_dm.json", webhook.Twitter{}, 1, "twitter", "tw-dm-1861234567890123456", "@jamesoc_dublin", "James O'Connor", "en", false, 412, "dm:1187034209355476993", at("2026-11-24T07:40:00Z")},
		{"twitter_dm_followup.json", webhook.Twitter{}, 1, "twitter", "tw-dm-1861239876543210987", "@jamesoc_dublin", "James O'Connor", "en", false, 412, "dm:1187034209355476993", at("2026-11-24T08:10:00Z")},
		{"twitter_mention.json", webhook.Twitter{}, 1, "twitter", "tw-1861310000000000000", "@juliendbs", "Julien Dubois", "en", true, 18250, "author:902345678123456789", at("2026-11-24T21:05:12Z")},
		{"meta_messenger.json", webhook.Meta{}, 1, "messenger", "ms-m_Xq3bT0x9c2Lk7vYp8WzR1aNfD4sHgJmE6uQoIyC5tB", "6523498712340987", "", "nl", false, 0, "6523498712340987", at("2026-11-24T09:30:00Z")},
		{"meta_instagram.json", webhook.Meta{}, 1, "instagram", "", "1143879925643210", "", "en", false, 0, "1143879925643210", at("2026-11-25T07:00:00Z")},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ins, err := tc.ad.Parse(sample(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(ins) != tc.n {
				t.Fatalf("messages = %d, want %d: %+v", len(ins), tc.n, ins)
			}
			in := ins[0]
			if in.Channel != tc.channel || tc.ext != "" && in.ExternalID != tc.ext || in.Handle != tc.handle || in.Customer != tc.customer {
				t.Errorf("message = %s %s %s %q, want %s %s %s %q", in.Channel, in.ExternalID, in.Handle, in.Customer, tc.channel, tc.ext, tc.handle, tc.customer)
			}
			if in.Language != tc.language || in.Public != tc.public || in.Followers != tc.followers || in.Thread != tc.thread {
				t.Errorf("message = lang %s public %v followers %d thread %s, want %s %v %d %s", in.Language, in.Public, in.Followers, in.Thread, tc.language, tc.public, tc.followers, tc.thread)
			}
			if in.ReceivedAt == nil || !in.ReceivedAt.Equal(tc.received) {
				t.Errorf("received_at = %v, want %s", in.ReceivedAt, tc.received)
			}
			if in.Text == "" {
				t.Error("no text")
			}
		})
	}
	t.Run("ErrNotJSON", func(t *testing.T) {
		for _, ad := range []webhook.Adapter{webhook.Twitter{}, webhook.Meta{}} {
			if _, err := ad.Parse([]byte("not json")); syncproto.ErrorCode(err) != syncproto.CodeInvalidJSON {
				t.Errorf("%s: err = %v, want invalid_json", ad.Name(), err)
			}
		}
		if _, err := (webhook.Meta{}).Parse([]byte(`{"object":"whatsapp_business_account","entry":[]}`)); syncproto.ErrorCode(err) != syncproto.CodeInvalid {
			t.Errorf("other object: err = %v, want invalid", err)
		}
	})
}

func TestRegistry(t *testing.T) {
	r := webhook.Default()
	if got := r.Names(); len(got) != 2 || got[0] != "meta" || got[1] != "twitter" {
		t.Fatalf("names = %v, want [meta twitter]", got)
	}
	if _, ok := r.Get("fax"); ok {
		t.Error("Get(fax) found an adapter")
	}
}
