package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/cabincare/cabincare/server/care"
	"github.com/cabincare/cabincare/syncproto"
)

// Adapter is one platform's webhook.
type Adapter interface {
	// Name is the route segment: /api/v1/webhooks/{Name}.
	Name() string
	// Handshake answers the platform's GET check that the endpoint is
	// ours: a status, a content type and a body.
	Handshake(q url.Values, secret, verifyToken string) (status int, contentType string, body []byte)
	// Verify checks the signature of a POST over its raw body, in constant
	// time. It returns an unauthorized *syncproto.Error when the signature
	// is missing or wrong.
	Verify(h http.Header, body []byte, secret string) error
	// Parse turns a verified payload into messages. Events that are not
	// customer messages (our own echoes, reads, deliveries) are left out.
	Parse(body []byte) ([]care.Intake, error)
}

// Registry holds the adapters by name.
type Registry struct {
	adapters map[string]Adapter
}

// NewRegistry returns a registry of the given adapters.
func NewRegistry(as ...Adapter) *Registry {
	r := &Registry{adapters: map[string]Adapter{}}
	for _, a := range as {
		r.adapters[a.Name()] = a
	}
	return r
}

// Default is the registry of the adapters this package has.
func Default() *Registry { return NewRegistry(Twitter{}, Meta{}) }

// Get returns the adapter of a name.
func (r *Registry) Get(name string) (Adapter, bool) {
	a, ok := r.adapters[name]
	return a, ok
}

// Names lists the adapters' names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.adapters))
	for n := range r.adapters {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func sign(secret string, msg []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(msg)
	return m.Sum(nil)
}

// SignHex is "sha256=" + hex(HMAC-SHA256(secret, body)): Meta's
// X-Hub-Signature-256.
func SignHex(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(sign(secret, body))
}

// SignBase64 is "sha256=" + base64(HMAC-SHA256(secret, body)): X's
// x-twitter-webhooks-signature and CRC response token.
func SignBase64(secret string, body []byte) string {
	return "sha256=" + base64.StdEncoding.EncodeToString(sign(secret, body))
}

// checkSignature compares a signature header with the expected value in
// constant time.
func checkSignature(got, want, header string) error {
	if strings.TrimSpace(got) == "" {
		return syncproto.Errorf(syncproto.CodeUnauthorized, "the %s header is missing", header)
	}
	if !hmac.Equal([]byte(strings.TrimSpace(got)), []byte(want)) {
		return syncproto.Errorf(syncproto.CodeUnauthorized, "the %s signature does not match the body", header)
	}
	return nil
}
