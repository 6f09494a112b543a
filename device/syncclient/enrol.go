package syncclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/cabincare/cabincare/syncproto"
)

// Credential is what a tablet keeps to prove who it is to the ground.
type Credential struct {
	DeviceID string `json:"device_id"`
	Token    string `json:"token"`
}

// Enrol exchanges a one-time enrolment code for this tablet's credential
// at the ground (POST /api/v1/enrol). The ground answers a used, expired
// or unknown code with unauthorized; that error is returned as a
// *syncproto.Error so the caller can say so plainly.
func Enrol(ctx context.Context, hc *http.Client, ground, code string) (Credential, error) {
	u, err := url.Parse(ground)
	if err != nil {
		return Credential{}, fmt.Errorf("ground URL %q: %w", ground, err)
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v1/enrol"
	body, _ := json.Marshal(map[string]string{"code": code})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Credential{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Credential{}, fmt.Errorf("enrol at %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Credential{}, fmt.Errorf("enrol at %s: %w", u.Host, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error syncproto.Error `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Code != "" {
			return Credential{}, &e.Error
		}
		return Credential{}, fmt.Errorf("enrol at %s: %s", u.Host, resp.Status)
	}
	var c Credential
	if err := json.Unmarshal(raw, &c); err != nil || c.DeviceID == "" || c.Token == "" {
		return Credential{}, fmt.Errorf("enrol at %s: unexpected answer", u.Host)
	}
	return c, nil
}
