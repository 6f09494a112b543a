package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cabincare/cabincare/server"
)

const testToken = "admin-cli-token"

// startServer runs an in-process ground server for the CLI to talk to.
func startServer(t *testing.T) string {
	t.Helper()
	srv := server.New(server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AdminToken: testToken})
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return srv.URL()
}

func post(t *testing.T, url, body string, out any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// admin runs "ground admin" against url and returns its output.
func admin(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := runAdmin(context.Background(), append([]string{"--url", url, "--token", testToken}, args...), &out, &errb)
	return out.String() + errb.String(), err
}

// Ensure each admin command prints its table or confirmation, acts
// through the API, and reports the API's error code on a refusal.
func TestAdminCLI(t *testing.T) {
	url := startServer(t)
	var dev struct {
		ID string `json:"id"`
	}
	post(t, url+"/api/v1/devices", `{"name":"tablet-1"}`, &dev)
	post(t, url+"/api/v1/flights", `{"number":"KL0641","date":"2026-11-23","origin":"AMS","destination":"JFK"}`, nil)

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"devices"}, []string{"ID", "PROBLEMS", dev.ID, "tablet-1", "offline", "never", "1 devices"}},
		{[]string{"alerts"}, []string{"no alerts"}},
		{[]string{"rename", dev.ID, "purser"}, []string{`renamed to "purser"`}},
		{[]string{"devices", "--online", "false"}, []string{"purser", "1 devices"}},
		{[]string{"devices", "--online", "true"}, []string{"0 devices"}},
		{[]string{"readiness", "KL0641-2026-11-23"}, []string{"KL0641-2026-11-23: READY, no departure time; 0 tablets; 0 of 0 enquiries"}},
		{[]string{"resync", dev.ID}, []string{"will pull everything again at its next connection"}},
		{[]string{"decommission", dev.ID}, []string{"decommissioned: revoked and forgotten"}},
	} {
		out, err := admin(t, url, tc.args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output does not contain %q:\n%s", tc.args, w, out)
			}
		}
	}

	// Refusals carry the API's code; usage errors name the usage.
	_, err := admin(t, url, "revoke", dev.ID)
	var ae *apiError
	if !errors.As(err, &ae) || ae.Code != "not_found" || ae.Status != 404 {
		t.Fatalf("revoke a forgotten device: got %v", err)
	}
	if _, err := admin(t, url, "rename", "x"); err == nil || !strings.Contains(err.Error(), "usage: ground admin rename DEVICE NAME") {
		t.Fatalf("rename without a name: got %v", err)
	}
	if _, err := admin(t, url, "frobnicate"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unknown command: got %v", err)
	}
	var out, errb bytes.Buffer
	if err := runAdmin(context.Background(), []string{"--url", url, "--token", "wrong", "devices"}, &out, &errb); !errors.As(err, &ae) || ae.Code != "unauthorized" {
		t.Fatalf("wrong token: got %v", err)
	}
}

// Ensure --log-level is honoured on the ground, and the health thresholds
// are in --help and checked.
func TestGroundFlags(t *testing.T) {
	var errb bytes.Buffer
	err := run(context.Background(), []string{"--log-level", "loud", "--admin-token", "x", "--data", t.TempDir()}, &errb)
	if err == nil || !strings.Contains(err.Error(), `log level "loud"`) {
		t.Fatalf("bad level: got %v", err)
	}
	err = run(context.Background(), []string{"--alert-clock-skew", "0s", "--admin-token", "x", "--data", t.TempDir()}, &errb)
	if err == nil || !strings.Contains(err.Error(), "must be positive") {
		t.Fatalf("zero threshold: got %v", err)
	}
	errb.Reset()
	_ = run(context.Background(), []string{"--help"}, &errb)
	for _, f := range []string{"-log-level", "-alert-not-synced", "-alert-departure-window", "-alert-outbox-age", "-alert-outbox-depth",
		"-alert-outbox-growth", "-alert-clock-skew", "-alert-sync-errors", "-readiness-min-tablets", "-readiness-window", "-alert-interval", "-close-after"} {
		if !strings.Contains(errb.String(), f) {
			t.Errorf("--help does not list %s", f)
		}
	}
}
