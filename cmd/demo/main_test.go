package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the demo's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func getJSON(t *testing.T, url, token string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Ensure the demo loads the real samples, both tablets receive the
// assigned enquiries, and an outcome recorded with the link cut reaches the
// ground when the link is restored.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stdinR, stdinW := io.Pipe()
	var out syncBuffer
	ready := make(chan *system, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--ground-addr", "127.0.0.1:0", "--cabin-addrs", "127.0.0.1:0,127.0.0.1:0", "--samples", "../../testdata", "--data", t.TempDir()}, stdinR, &out, io.Discard, ready)
	}()
	var sys *system
	select {
	case sys = <-ready:
	case err := <-done:
		t.Fatalf("demo ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not start")
	}
	defer func() {
		cancel()
		stdinW.Close()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	}()
	if sys.Samples.Assigned < 3 || sys.Samples.Enquiries <= sys.Samples.Assigned || sys.Samples.Flights < 2 {
		t.Fatalf("samples loaded = %+v: want flights, some enquiries assigned and some left for the agent", sys.Samples)
	}
	if !strings.Contains(out.String(), sys.Ground.URL()+"/#token="+sys.Token) {
		t.Fatalf("the guide does not show the console URL:\n%s", out.String())
	}

	type list struct {
		Enquiries []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"enquiries"`
	}
	if !strings.Contains(out.String(), sys.Crew[0].StaffNumber+" / "+sys.Crew[0].PIN) {
		t.Fatalf("the guide does not show the crew sign-in:\n%s", out.String())
	}
	// Crew sign in on each tablet with the printed credentials, once the
	// roster has arrived in sync.
	tokens := make([]string, len(sys.Cabins))
	for i, c := range sys.Cabins {
		m := sys.Crew[i%len(sys.Crew)]
		waitFor(t, "crew sign-in on "+c.URL(), func() bool {
			resp, err := http.Post(c.URL()+"/api/v1/session", "application/json", strings.NewReader(`{"staff_number":"`+m.StaffNumber+`","pin":"`+m.PIN+`"}`))
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var s struct{ Token string }
			if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&s) != nil {
				return false
			}
			tokens[i] = s.Token
			return true
		})
		waitFor(t, "enquiries on "+c.URL(), func() bool {
			var l list
			getJSON(t, c.URL()+"/api/v1/enquiries", tokens[i], &l)
			return len(l.Enquiries) == sys.Samples.Assigned
		})
	}

	var l list
	getJSON(t, sys.Cabins[0].URL()+"/api/v1/enquiries", tokens[0], &l)
	enq := l.Enquiries[0].ID
	io.WriteString(stdinW, "off\n")
	waitFor(t, "tablet offline", func() bool {
		var s struct{ Connected bool }
		getJSON(t, sys.Cabins[0].URL()+"/api/v1/status", "", &s)
		return !s.Connected
	})
	req, _ := http.NewRequest("POST", sys.Cabins[0].URL()+"/api/v1/enquiries/"+enq+"/resolve", strings.NewReader(`{"outcome":"resolved","note":"Served first; she was delighted."}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tokens[0])
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("resolve offline: %v %v", err, resp)
	}
	resp.Body.Close()
	var e struct{ Status string }
	getJSON(t, sys.Ground.URL()+"/api/v1/enquiries/"+enq, sys.Token, &e)
	if e.Status == "resolved" {
		t.Fatal("the outcome reached the ground through a cut link")
	}
	io.WriteString(stdinW, "on\n")
	waitFor(t, "outcome on the ground", func() bool {
		getJSON(t, sys.Ground.URL()+"/api/v1/enquiries/"+enq, sys.Token, &e)
		return e.Status == "resolved"
	})
	var attributed struct {
		History []struct {
			Kind  string
			Actor struct{ Staff, Name string }
		}
	}
	getJSON(t, sys.Ground.URL()+"/api/v1/enquiries/"+enq, sys.Token, &attributed)
	found := false
	for _, h := range attributed.History {
		if h.Kind == "outcome" {
			found = h.Actor.Staff == sys.Crew[0].StaffNumber && h.Actor.Name == sys.Crew[0].Name
		}
	}
	if !found {
		t.Errorf("outcome not attributed to %s (%s): %+v", sys.Crew[0].Name, sys.Crew[0].StaffNumber, attributed.History)
	}
	waitFor(t, "outcome on the other tablet", func() bool {
		getJSON(t, sys.Cabins[1].URL()+"/api/v1/enquiries/"+enq, tokens[1], &e)
		return e.Status == "resolved"
	})
}
