package fleet

import (
	"fmt"
	"sort"
	"time"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// Thresholds tune the health rules. DefaultThresholds gives the values
// documented in the README (and the ground's --alert-* flags).
type Thresholds struct {
	// NotSynced: a device not synced for longer than this while one of
	// its flights departs within DepartureWindow is an alert.
	NotSynced       time.Duration
	DepartureWindow time.Duration
	// OutboxAge: an outbox whose oldest op is older than this.
	OutboxAge time.Duration
	// OutboxDepth: an outbox this deep; OutboxGrowth: an outbox that grew
	// in this many per-minute samples in a row.
	OutboxDepth  int
	OutboxGrowth int
	// ClockSkew: a device clock further than this from the ground's.
	ClockSkew time.Duration
	// SyncErrors: this many sessions in a row ended on an error.
	SyncErrors int
	// MinTablets: an enquiry handed to a flight departing within
	// ReadinessWindow must be stored on at least this many of its tablets.
	MinTablets      int
	ReadinessWindow time.Duration
}

// DefaultThresholds returns the defaults.
func DefaultThresholds() Thresholds {
	return Thresholds{
		NotSynced: 15 * time.Minute, DepartureWindow: 3 * time.Hour,
		OutboxAge: 30 * time.Minute, OutboxDepth: 500, OutboxGrowth: 3,
		ClockSkew: 2 * time.Minute, SyncErrors: 3,
		MinTablets: 1, ReadinessWindow: 90 * time.Minute,
	}
}

// Rules, as they appear in Alert.Rule and the devices' problems.
const (
	RuleNotSynced        = "not_synced"             // not synced for too long while its flight departs soon
	RuleOutboxStale      = "outbox_stale"           // the oldest unsent op is too old
	RuleOutboxGrowing    = "outbox_growing"         // the outbox is too deep or keeps growing
	RuleClockSkew        = "clock_skew"             // the device clock is too far from the ground's
	RuleProtocolOutdated = "protocol_outdated"      // the device speaks another protocol version
	RuleSyncErrors       = "sync_errors"            // sessions keep ending on errors
	RuleNotOnTablets     = "enquiry_not_on_tablets" // an enquiry of a flight departing soon is on too few tablets
)

// Severities.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
)

// Alert is one health problem with its reason. ID is stable while the
// condition holds (rule + target), so clients can diff alert lists.
type Alert struct {
	ID         string     `json:"id"`
	Rule       string     `json:"rule"`
	Severity   string     `json:"severity"`
	DeviceID   string     `json:"device_id,omitempty"`
	DeviceName string     `json:"device_name,omitempty"`
	FlightID   string     `json:"flight_id,omitempty"`
	EnquiryID  string     `json:"enquiry_id,omitempty"`
	Reason     string     `json:"reason"`
	Since      *time.Time `json:"since,omitempty"`
}

// departsWithin reports whether f departs in [now, now+window] and how
// long until it does.
func departsWithin(f store.Flight, now time.Time, window time.Duration) (time.Duration, bool) {
	if f.DepartsAt == nil {
		return 0, false
	}
	in := f.DepartsAt.Sub(now)
	return in, in >= 0 && in <= window
}

// deviceAlerts applies the device rules to v at now. recent holds the
// outbox depth of the device's last per-minute samples, oldest first.
func deviceAlerts(th Thresholds, now time.Time, v *DeviceView, flights map[string]store.Flight, recent []int) []Alert {
	if v.Revoked {
		return nil
	}
	var out []Alert
	add := func(rule, sev, flight, reason string, since *time.Time) {
		id := rule + ":" + v.ID
		if flight != "" {
			id += ":" + flight
		}
		out = append(out, Alert{ID: id, Rule: rule, Severity: sev, DeviceID: v.ID, DeviceName: v.Name, FlightID: flight, Reason: reason, Since: since})
	}
	for _, fl := range v.Flights {
		f, ok := flights[fl]
		if !ok {
			continue
		}
		in, soon := departsWithin(f, now, th.DepartureWindow)
		if !soon {
			continue
		}
		if v.LastSync == nil {
			add(RuleNotSynced, SeverityCritical, fl, fmt.Sprintf("never synced, and flight %s departs in %s", fl, round(in)), nil)
			continue
		}
		if age := now.Sub(*v.LastSync); age > th.NotSynced {
			since := v.LastSync.Add(th.NotSynced)
			add(RuleNotSynced, SeverityCritical, fl, fmt.Sprintf("not synced for %s (threshold %s), and flight %s departs in %s", round(age), th.NotSynced, fl, round(in)), &since)
		}
	}
	if v.Pending > 0 && v.OldestPending != nil {
		if age := now.Sub(*v.OldestPending); age > th.OutboxAge {
			since := v.OldestPending.Add(th.OutboxAge)
			add(RuleOutboxStale, SeverityWarning, "", fmt.Sprintf("%d ops waiting to be sent, the oldest for %s (threshold %s)", v.Pending, round(age), th.OutboxAge), &since)
		}
	}
	switch {
	case th.OutboxDepth > 0 && v.Pending >= th.OutboxDepth:
		add(RuleOutboxGrowing, SeverityWarning, "", fmt.Sprintf("%d ops waiting to be sent (threshold %d)", v.Pending, th.OutboxDepth), nil)
	case growing(recent, th.OutboxGrowth) && v.Pending > 0:
		add(RuleOutboxGrowing, SeverityWarning, "", fmt.Sprintf("the outbox grew in each of the last %d minutes, to %d ops", th.OutboxGrowth, v.Pending), nil)
	}
	if v.SkewMs != nil && th.ClockSkew > 0 {
		skew := time.Duration(*v.SkewMs) * time.Millisecond
		if skew.Abs() > th.ClockSkew {
			dir := "ahead of"
			if skew < 0 {
				dir = "behind"
			}
			add(RuleClockSkew, SeverityWarning, "", fmt.Sprintf("device clock is %s %s the ground's (threshold %s)", round(skew.Abs()), dir, th.ClockSkew), nil)
		}
	}
	if v.ProtocolRefused || v.Protocol != 0 && v.Protocol != syncproto.ProtocolVersion {
		add(RuleProtocolOutdated, SeverityCritical, "", fmt.Sprintf("device speaks sync protocol %d, the ground speaks %d: update the app (app version %q)", v.Protocol, syncproto.ProtocolVersion, v.AppVersion), nil)
	}
	if th.SyncErrors > 0 && v.SyncErrors >= th.SyncErrors {
		add(RuleSyncErrors, SeverityWarning, "", fmt.Sprintf("%d sync sessions in a row ended on an error (threshold %d); last: %s", v.SyncErrors, th.SyncErrors, v.LastSyncError), v.LastSyncErrorAt)
	}
	return out
}

// growing reports whether the last n+1 depths rose at every step.
func growing(recent []int, n int) bool {
	if n <= 0 || len(recent) < n+1 {
		return false
	}
	tail := recent[len(recent)-n-1:]
	for i := 1; i < len(tail); i++ {
		if tail[i] <= tail[i-1] {
			return false
		}
	}
	return true
}

// readinessAlerts turns a flight's readiness into one alert per enquiry
// stored on too few tablets.
func readinessAlerts(r *Readiness) []Alert {
	var out []Alert
	for _, e := range r.Enquiries {
		if e.Ready {
			continue
		}
		who := e.PassengerName
		if e.Seat != "" {
			who += ", seat " + e.Seat
		}
		out = append(out, Alert{
			ID: RuleNotOnTablets + ":" + e.ID, Rule: RuleNotOnTablets, Severity: SeverityCritical,
			FlightID: r.Flight.ID, EnquiryID: e.ID,
			Reason: fmt.Sprintf("enquiry for %s is on %d of the %d tablets of flight %s, which departs in %s; at least %d wanted",
				who, e.OnTablets, len(r.Devices), r.Flight.ID, round(time.Duration(*r.DepartsInSeconds)*time.Second), r.MinTablets),
		})
	}
	return out
}

func sortAlerts(a []Alert) {
	sort.Slice(a, func(i, j int) bool {
		if a[i].Severity != a[j].Severity {
			return a[i].Severity == SeverityCritical
		}
		return a[i].ID < a[j].ID
	})
}

// round keeps durations readable in reasons: whole minutes past an hour,
// whole seconds below.
func round(d time.Duration) time.Duration {
	if d >= time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}
