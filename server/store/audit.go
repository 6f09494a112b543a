package store

import (
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Audit event kinds. Each names one security-relevant event; the list is
// the contract of GET /api/v1/audit?kind=.
const (
	AuditLogin          = "login"           // a password login succeeded
	AuditLoginFailed    = "login_failed"    // wrong password, unknown user, disabled account or rate limited
	AuditLogout         = "logout"          //
	AuditUserCreated    = "user_created"    //
	AuditRoleChanged    = "role_changed"    // detail: "from -> to"
	AuditUserChanged    = "user_changed"    // password reset or account disabled/enabled
	AuditTokenIssued    = "token_issued"    // an API token
	AuditTokenRevoked   = "token_revoked"   //
	AuditAuthFailed     = "auth_failed"     // a bad bearer token, session or CSRF token on the API
	AuditForbidden      = "forbidden"       // a valid user asked for what their role does not allow
	AuditDeviceCreated  = "device_created"  // with an enrolment code
	AuditDeviceEnrolled = "device_enrolled" // a code was exchanged for a credential
	AuditEnrolFailed    = "enrol_failed"    // an unknown, used or expired code
	AuditDeviceRotated  = "device_rotated"  // a new enrolment code replaces the credential once used
	AuditDeviceRevoked  = "device_revoked"  //
	AuditDeviceRefused  = "device_refused"  // a sync handshake with a bad or revoked credential
	AuditOpRefused      = "op_refused"      // a device op the ground refused for scope or identity
	AuditScopeRefused   = "scope_refused"   // a device subscribed to a flight it may not serve
	AuditDeviceBound    = "device_bound"    // an admin set the flights a device may serve
	AuditCrewChanged    = "crew_changed"    // a crew member added to or removed from the roster
	AuditPurge          = "purge"           // a tablet reported a flight's passenger data gone
	AuditFlightClosed   = "flight_closed"   // a supervisor closed a flight: tablets purge it
)

// AuditEvent is one entry of the audit log. Entries are only appended.
type AuditEvent struct {
	Seq     uint64    `json:"seq"`
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Actor   string    `json:"actor"`             // who did it: user:NAME, admin-token, device:ID, or the username tried
	Subject string    `json:"subject,omitempty"` // what it was done to: a user, a device, a flight, an op
	Remote  string    `json:"remote,omitempty"`  // the client address
	Code    string    `json:"code,omitempty"`    // the error code of a refusal
	Detail  string    `json:"detail,omitempty"`
}

// AuditFilter selects audit events; zero fields match everything.
type AuditFilter struct {
	Kind, Actor, Subject string
	Since, Until         time.Time // Since inclusive, Until exclusive
	Before               uint64    // only events with a smaller seq (paging back)
	Limit                int
}

// AppendAudit appends e to the audit log, numbering and stamping it.
// Devices may be refused in bursts, so appends share commits (Batch).
func (s *Store) AppendAudit(ctx context.Context, e AuditEvent) error {
	if e.At.IsZero() {
		e.At = s.Now().UTC()
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktAudit)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.Seq = seq
		return putJSON(b, binary.BigEndian.AppendUint64(nil, seq), &e)
	})
}

// Audit returns the events f selects, newest first.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	out := []AuditEvent{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktAudit)
		c := b.Cursor()
		var k []byte
		if f.Before > 0 {
			c.Seek(binary.BigEndian.AppendUint64(nil, f.Before))
			k, _ = c.Prev()
		} else {
			k, _ = c.Last()
		}
		for ; k != nil && len(out) < f.Limit; k, _ = c.Prev() {
			var e AuditEvent
			if _, err := getJSON(b, k, &e); err != nil {
				return err
			}
			if !f.Since.IsZero() && e.At.Before(f.Since) {
				break // older events only from here on
			}
			if !f.Until.IsZero() && !e.At.Before(f.Until) ||
				f.Kind != "" && e.Kind != f.Kind ||
				f.Actor != "" && e.Actor != f.Actor ||
				f.Subject != "" && e.Subject != f.Subject {
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
