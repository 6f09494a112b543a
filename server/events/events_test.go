package events

import (
	"testing"
	"time"
)

func recv(t *testing.T, s *Sub) (Event, bool) {
	t.Helper()
	select {
	case ev, ok := <-s.C:
		return ev, ok
	case <-time.After(time.Second):
		t.Fatal("no event")
		return Event{}, false
	}
}

// Ensure subscribers get the types they asked for, in order, with
// increasing ids.
func TestBroker(t *testing.T) {
	b := New(8, nil)
	all, alerts := b.Subscribe(), b.Subscribe(TypeAlert)
	b.Publish(TypeDevice, "d1")
	b.Publish(TypeAlert, "a1")
	if ev, _ := recv(t, all); ev.Type != TypeDevice || ev.Data != "d1" || ev.ID != 1 {
		t.Fatalf("all: got %+v", ev)
	}
	if ev, _ := recv(t, all); ev.Type != TypeAlert || ev.ID != 2 {
		t.Fatalf("all: got %+v", ev)
	}
	if ev, _ := recv(t, alerts); ev.Type != TypeAlert || ev.Data != "a1" {
		t.Fatalf("alerts: got %+v", ev)
	}
	b.Unsubscribe(alerts)
	b.Unsubscribe(alerts) // twice is fine
	if _, ok := recv(t, alerts); ok {
		t.Fatal("unsubscribed channel still open")
	}
	b.Close()
	if _, ok := recv(t, all); ok {
		t.Fatal("closed broker left a subscriber open")
	}
	if s := b.Subscribe(); func() bool { _, ok := <-s.C; return ok }() {
		t.Fatal("subscribe after close is open")
	}
}

// Ensure a subscriber that stops reading is dropped instead of blocking
// Publish, and others keep receiving.
func TestBrokerDropsSlowSubscriber(t *testing.T) {
	b := New(2, nil)
	slow, fast := b.Subscribe(), b.Subscribe()
	for i := range 5 {
		b.Publish(TypeEnquiry, i)
		recv(t, fast)
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != 2 || !slow.Dropped || fast.Dropped || b.Subscribers() != 1 {
		t.Fatalf("slow got %d, dropped %v; fast dropped %v; %d subscribers", n, slow.Dropped, fast.Dropped, b.Subscribers())
	}
}
