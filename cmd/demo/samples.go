package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cabincare/cabincare/server/care"
)

// client is a minimal client of the ground REST API: the demo loads its
// samples the way an integration would, through the API.
type client struct {
	base  string
	token string
}

func (c *client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1"+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(raw, out)
	}
	return resp.StatusCode, nil
}

// newDevice registers a tablet and returns its one-time enrolment code,
// which the tablet exchanges for its credential as it opens.
func (c *client) newDevice(ctx context.Context, name string) (string, error) {
	var d struct {
		Code string `json:"enrolment_code"`
	}
	_, err := c.do(ctx, "POST", "/devices", map[string]string{"name": name}, &d)
	return d.Code, err
}

// summary counts what the demo loaded.
type summary struct {
	Flights   int
	Enquiries int
	Assigned  int
}

type sampleEnquiry struct {
	Channel      string     `json:"channel"`
	ExternalID   string     `json:"external_id"`
	Handle       string     `json:"handle"`
	Customer     string     `json:"customer"`
	Text         string     `json:"text"`
	Language     string     `json:"language"`
	ReceivedAt   *time.Time `json:"received_at"`
	Flight       string     `json:"flight"`
	Date         string     `json:"date"`
	Seat         string     `json:"seat"`
	Instructions string     `json:"instructions"`
}

// loadSamples creates the sample flights and the demo enquiries, and
// assigns to flight the enquiries about it that carry instructions.
func loadSamples(ctx context.Context, api *client, dir, flight string) (summary, error) {
	var sum summary
	err := eachLine(filepath.Join(dir, "flights.ndjson"), func(raw []byte) error {
		// A sample flight line is exactly the API's flight body.
		var f care.NewFlight
		if err := json.Unmarshal(raw, &f); err != nil {
			return err
		}
		if _, err := api.do(ctx, "POST", "/flights", f, nil); err != nil {
			return err
		}
		sum.Flights++
		return nil
	})
	if err != nil {
		return sum, err
	}
	err = eachLine(filepath.Join(dir, "demo.ndjson"), func(raw []byte) error {
		var s sampleEnquiry
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		var e struct {
			ID string `json:"id"`
		}
		in := map[string]any{"channel": s.Channel, "external_id": s.ExternalID, "handle": s.Handle, "customer": s.Customer, "text": s.Text, "language": s.Language, "received_at": s.ReceivedAt}
		if _, err := api.do(ctx, "POST", "/enquiries", in, &e); err != nil {
			return err
		}
		sum.Enquiries++
		if s.Flight+"-"+s.Date != flight || s.Instructions == "" {
			return nil // left for the agent to assign
		}
		assign := map[string]string{"flight_id": flight, "passenger_name": s.Customer, "seat": s.Seat, "instructions": s.Instructions}
		if _, err := api.do(ctx, "POST", "/enquiries/"+e.ID+"/assign", assign, nil); err != nil {
			return err
		}
		sum.Assigned++
		return nil
	})
	return sum, err
}

func eachLine(path string, fn func([]byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("samples: %w (run the demo from the repository root, or pass --samples)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("%s line %d: %w", path, n, err)
		}
	}
	return sc.Err()
}
