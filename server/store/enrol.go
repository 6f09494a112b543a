package store

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// Enrolment is a one-time code waiting to be exchanged for a device's
// credential. Only the code's SHA-256 is stored.
type Enrolment struct {
	DeviceID  string    `json:"device_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateDeviceEnrolment registers a device that has no credential yet,
// with its enrolment code, in one transaction.
func (s *Store) CreateDeviceEnrolment(ctx context.Context, d *Device, codeHash []byte, expires time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktDevices)
		if b.Get([]byte(d.ID)) != nil {
			return syncproto.Errorf(syncproto.CodeConflict, "device %s exists already", d.ID)
		}
		if err := putJSON(b, []byte(d.ID), d); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bktEnrol), codeHash, &Enrolment{DeviceID: d.ID, ExpiresAt: expires})
	})
}

// RotateDevice gives an existing, unrevoked device a new enrolment code,
// dropping any code it had. Its current credential keeps working until the
// new code is exchanged, so a tablet in flight is not cut off by a rotation
// it cannot act on yet.
func (s *Store) RotateDevice(ctx context.Context, id string, codeHash []byte, expires time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var d Device
		ok, err := getJSON(tx.Bucket(bktDevices), []byte(id), &d)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("device", id)
		}
		if d.RevokedAt != nil {
			return syncproto.Errorf(syncproto.CodeRevoked, "device %s was revoked; register a new one", id)
		}
		if err := deleteEnrolments(tx, id); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bktEnrol), codeHash, &Enrolment{DeviceID: id, ExpiresAt: expires})
	})
}

// Enrol exchanges an enrolment code (by its hash) for a credential: the
// code is used up, and the device's token hash becomes tokenHash, in one
// transaction. An unknown, used or expired code, or a revoked device, is
// unauthorized or revoked and changes nothing but dropping an expired code.
func (s *Store) Enrol(ctx context.Context, codeHash, tokenHash []byte, now time.Time) (*Device, error) {
	var d Device
	err := s.db.Update(func(tx *bolt.Tx) error {
		eb := tx.Bucket(bktEnrol)
		var en Enrolment
		ok, err := getJSON(eb, codeHash, &en)
		if err != nil {
			return err
		}
		if !ok {
			return syncproto.Errorf(syncproto.CodeUnauthorized, "unknown or used enrolment code")
		}
		if err := eb.Delete(codeHash); err != nil {
			return err
		}
		if !now.Before(en.ExpiresAt) {
			return errExpiredCode
		}
		db := tx.Bucket(bktDevices)
		if ok, err := getJSON(db, []byte(en.DeviceID), &d); err != nil || !ok {
			return syncproto.Errorf(syncproto.CodeUnauthorized, "unknown or used enrolment code")
		}
		if d.RevokedAt != nil {
			return syncproto.Errorf(syncproto.CodeRevoked, "device %s was revoked", d.ID)
		}
		d.TokenHash = tokenHash
		return putJSON(db, []byte(d.ID), &d)
	})
	if err == errExpiredCode {
		// The deletion of the spent code must stick, so commit it and then
		// answer the refusal.
		_ = s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bktEnrol).Delete(codeHash) })
		return nil, syncproto.Errorf(syncproto.CodeUnauthorized, "the enrolment code has expired")
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

var errExpiredCode = syncproto.Errorf(syncproto.CodeUnauthorized, "the enrolment code has expired")

// deleteEnrolments drops every waiting code of a device.
func deleteEnrolments(tx *bolt.Tx, deviceID string) error {
	return deleteWhere(tx.Bucket(bktEnrol), func(v []byte) (bool, error) {
		var en Enrolment
		if err := json.Unmarshal(v, &en); err != nil {
			return false, err
		}
		return en.DeviceID == deviceID, nil
	})
}

// deviceTokenMatches compares in constant time; an empty stored hash (a
// device not enrolled yet) never matches.
func deviceTokenMatches(stored, presented []byte) bool {
	return len(stored) > 0 && subtle.ConstantTimeCompare(stored, presented) == 1
}
