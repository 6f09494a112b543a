package fleet

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// Ensure each health rule fires exactly past its threshold, with a reason
// that names the figure and the threshold.
func TestDeviceAlerts(t *testing.T) {
	th := DefaultThresholds()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	skew := func(d time.Duration) *int64 { v := d.Milliseconds(); return &v }
	flights := map[string]store.Flight{
		"SOON": {ID: "SOON", DepartsAt: at(time.Hour)},
		"LATE": {ID: "LATE", DepartsAt: at(5 * time.Hour)},
		"GONE": {ID: "GONE", DepartsAt: at(-time.Hour)},
		"NONE": {ID: "NONE"},
	}
	for _, tc := range []struct {
		name   string
		v      DeviceView
		recent []int
		rule   string // "" for no alert
		reason string
	}{
		{"OK/Healthy", DeviceView{Flights: []string{"SOON"}, LastSync: at(-time.Minute), SkewMs: skew(time.Second), Protocol: syncproto.ProtocolVersion}, nil, "", ""},
		{"OK/NotSyncedAtThreshold", DeviceView{Flights: []string{"SOON"}, LastSync: at(-th.NotSynced)}, nil, "", ""},
		{"NotSynced", DeviceView{Flights: []string{"SOON"}, LastSync: at(-th.NotSynced - time.Second)}, nil, RuleNotSynced, "not synced for 15m1s (threshold 15m0s), and flight SOON departs in 1h0m0s"},
		{"NotSynced/Never", DeviceView{Flights: []string{"SOON"}}, nil, RuleNotSynced, "never synced"},
		{"OK/NotSyncedFlightFarOff", DeviceView{Flights: []string{"LATE"}, LastSync: at(-2 * time.Hour)}, nil, "", ""},
		{"OK/NotSyncedFlightGone", DeviceView{Flights: []string{"GONE"}, LastSync: at(-2 * time.Hour)}, nil, "", ""},
		{"OK/NotSyncedNoDeparture", DeviceView{Flights: []string{"NONE"}, LastSync: at(-2 * time.Hour)}, nil, "", ""},
		{"OutboxStale", DeviceView{Pending: 3, OldestPending: at(-th.OutboxAge - time.Minute)}, nil, RuleOutboxStale, "3 ops waiting to be sent, the oldest for 31m0s (threshold 30m0s)"},
		{"OK/OutboxFresh", DeviceView{Pending: 3, OldestPending: at(-th.OutboxAge + time.Minute)}, nil, "", ""},
		{"OutboxDeep", DeviceView{Pending: th.OutboxDepth}, nil, RuleOutboxGrowing, "500 ops waiting to be sent (threshold 500)"},
		{"OutboxGrowing", DeviceView{Pending: 9}, []int{1, 2, 5, 9}, RuleOutboxGrowing, "grew in each of the last 3 minutes, to 9 ops"},
		{"OK/OutboxFlat", DeviceView{Pending: 9}, []int{1, 2, 2, 9}, "", ""},
		{"OK/OutboxShortHistory", DeviceView{Pending: 9}, []int{2, 5, 9}, "", ""},
		{"ClockAhead", DeviceView{SkewMs: skew(th.ClockSkew + time.Second)}, nil, RuleClockSkew, "device clock is 2m1s ahead of the ground's (threshold 2m0s)"},
		{"ClockBehind", DeviceView{SkewMs: skew(-10 * time.Minute)}, nil, RuleClockSkew, "10m0s behind"},
		{"OK/ClockAtThreshold", DeviceView{SkewMs: skew(-th.ClockSkew)}, nil, "", ""},
		{"ProtocolOutdated", DeviceView{Protocol: syncproto.ProtocolVersion + 1, AppVersion: "9.0"}, nil, RuleProtocolOutdated, fmt.Sprintf("protocol %d, the ground speaks %d", syncproto.ProtocolVersion+1, syncproto.ProtocolVersion)},
		{"ProtocolRefused", DeviceView{ProtocolRefused: true}, nil, RuleProtocolOutdated, "protocol 0"},
		{"SyncErrors", DeviceView{SyncErrors: 3, LastSyncError: "timeout: silent"}, nil, RuleSyncErrors, "3 sync sessions in a row ended on an error (threshold 3); last: timeout: silent"},
		{"OK/SyncErrorsBelow", DeviceView{SyncErrors: 2}, nil, "", ""},
		{"OK/Revoked", DeviceView{Revoked: true, SyncErrors: 9, SkewMs: skew(time.Hour)}, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.v.ID = "dev"
			got := deviceAlerts(th, now, &tc.v, flights, tc.recent)
			if tc.rule == "" {
				if len(got) != 0 {
					t.Fatalf("got %+v, want no alert", got)
				}
				return
			}
			if len(got) != 1 || got[0].Rule != tc.rule || got[0].DeviceID != "dev" || !strings.Contains(got[0].Reason, tc.reason) {
				t.Fatalf("got %+v, want one %s alert with %q", got, tc.rule, tc.reason)
			}
		})
	}
}

// Ensure the alert order is critical first, then by id.
func TestSortAlerts(t *testing.T) {
	a := []Alert{{ID: "b", Severity: SeverityWarning}, {ID: "z", Severity: SeverityCritical}, {ID: "a", Severity: SeverityWarning}, {ID: "c", Severity: SeverityCritical}}
	sortAlerts(a)
	var got string
	for _, x := range a {
		got += x.ID
	}
	if got != "czab" {
		t.Fatalf("got %s, want czab", got)
	}
}
