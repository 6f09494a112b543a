package store

import (
	"context"
	"crypto/subtle"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/server/auth"
	"github.com/cabincare/cabincare/syncproto"
)

// Flight is one flight on one date. Its id is "NUMBER-DATE" (KL0641-2026-11-23),
// short enough for crew to type.
type Flight struct {
	ID          string     `json:"id"`
	Number      string     `json:"number"`
	Date        string     `json:"date"`
	Origin      string     `json:"origin"`
	Destination string     `json:"destination"`
	DepartsAt   *time.Time `json:"departs_at,omitempty"`
	ArrivesAt   *time.Time `json:"arrives_at,omitempty"`
	Aircraft    string     `json:"aircraft,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	// ClosedAt is when a supervisor closed the flight: tablets then purge
	// its passenger data (closed.go).
	ClosedAt *time.Time `json:"closed_at,omitempty"`
}

// CreateFlight stores a new flight; one that exists already is a conflict.
func (s *Store) CreateFlight(ctx context.Context, f *Flight) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktFlights)
		if b.Get([]byte(f.ID)) != nil {
			return syncproto.Errorf(syncproto.CodeConflict, "flight %s exists already", f.ID)
		}
		return putJSON(b, []byte(f.ID), f)
	})
}

// Flight returns one flight.
func (s *Store) Flight(ctx context.Context, id string) (*Flight, error) {
	var f Flight
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		ok, err = getJSON(tx.Bucket(bktFlights), []byte(id), &f)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("flight", id)
	}
	return &f, nil
}

// Flights lists every flight by date, then number.
func (s *Store) Flights(ctx context.Context) ([]Flight, error) {
	var out []Flight
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktFlights).ForEach(func(k, v []byte) error {
			var f Flight
			if _, err := getJSON(tx.Bucket(bktFlights), k, &f); err != nil {
				return err
			}
			out = append(out, f)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date < out[j].Date
		}
		return out[i].Number < out[j].Number
	})
	return out, err
}

// Device is a registered tablet. Its token is kept only as a SHA-256 hash:
// tokens are 256-bit random, so a fast hash is enough and a stolen database
// gives no usable credential.
type Device struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	TokenHash []byte     `json:"token_hash"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// Flights the device serves, as of its last handshake or subscribe.
	Flights []string `json:"flights"`
	// Cursors are the device's acknowledged cursors per flight.
	Cursors  map[string]uint64 `json:"cursors"`
	LastSeen *time.Time        `json:"last_seen,omitempty"`
	LastSync *time.Time        `json:"last_sync,omitempty"`
	// State is the device's last report (handshake or heartbeat), and
	// StateAt when the ground received it: skew is State.Clock - StateAt.
	State   syncproto.DeviceState `json:"state"`
	StateAt *time.Time            `json:"state_at,omitempty"`
	// Protocol is the version of the device's last hello, kept even when
	// the hello was refused for it, so an outdated app shows up.
	Protocol int `json:"protocol,omitempty"`
	// ProtocolRefused is true while the last hello was refused for its
	// protocol version.
	ProtocolRefused bool `json:"protocol_refused,omitempty"`
	// SyncErrors counts sessions in a row that ended on an error; a
	// completed exchange resets it. LastSyncError is the latest one.
	SyncErrors      int        `json:"sync_errors,omitempty"`
	LastSyncError   string     `json:"last_sync_error,omitempty"`
	LastSyncErrorAt *time.Time `json:"last_sync_error_at,omitempty"`
	// Repull asks the device to drop its cursors and pull everything again
	// at its next handshake (an admin's forced resync).
	Repull bool `json:"repull,omitempty"`
	// Decommissioning is set when an admin decommissioned the device: it
	// is revoked and forgotten once its outbox is empty.
	Decommissioning *time.Time `json:"decommissioning,omitempty"`
	// CursorLag is derived on read: changes of its flights not yet stored.
	CursorLag int `json:"-"`
	// Binding is which flights the device may serve, set by an admin;
	// empty means any flight of the airline.
	Binding Binding `json:"binding"`
}

// Binding limits the flights a device may serve: those flown by one of
// Aircraft (registrations, matched to the flight's aircraft), and those
// listed in Flights. Both empty: any flight.
type Binding struct {
	Aircraft []string `json:"aircraft"`
	Flights  []string `json:"flights"`
}

// Open reports whether the binding allows every flight.
func (b Binding) Open() bool { return len(b.Aircraft) == 0 && len(b.Flights) == 0 }

// OutOfScope returns the flights of the list that the device's binding does
// not allow, in the list's order. A flight the ground does not know is out
// of scope for a bound device (its aircraft cannot be checked).
func (s *Store) OutOfScope(ctx context.Context, deviceID string, flights []string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		var d Device
		ok, err := getJSON(tx.Bucket(bktDevices), []byte(deviceID), &d)
		if err != nil || !ok || d.Binding.Open() {
			return err
		}
		for _, id := range flights {
			if slices.Contains(d.Binding.Flights, id) {
				continue
			}
			var f Flight
			ok, err := getJSON(tx.Bucket(bktFlights), []byte(id), &f)
			if err != nil {
				return err
			}
			if !ok || f.Aircraft == "" || !slices.ContainsFunc(d.Binding.Aircraft, func(a string) bool { return strings.EqualFold(a, f.Aircraft) }) {
				out = append(out, id)
			}
		}
		return nil
	})
	return out, err
}

// HashToken hashes a device token for storage and comparison.
func HashToken(token string) []byte { return auth.HashToken(token) }

// CreateDevice registers a device.
func (s *Store) CreateDevice(ctx context.Context, d *Device) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktDevices)
		if b.Get([]byte(d.ID)) != nil {
			return syncproto.Errorf(syncproto.CodeConflict, "device %s exists already", d.ID)
		}
		return putJSON(b, []byte(d.ID), d)
	})
}

// Authenticate checks a device's credential in constant time. Unknown
// device, wrong token and revoked device all answer unauthorized or
// revoked, and say nothing about which part was wrong beyond that.
func (s *Store) Authenticate(ctx context.Context, id, token string) (*Device, error) {
	d, err := s.Device(ctx, id)
	want := HashToken(token)
	if err != nil {
		// Compare anyway so the timing of an unknown id matches a known one.
		subtle.ConstantTimeCompare(want, make([]byte, len(want)))
		return nil, syncproto.Errorf(syncproto.CodeUnauthorized, "unknown device or bad token")
	}
	if !deviceTokenMatches(d.TokenHash, want) {
		return nil, syncproto.Errorf(syncproto.CodeUnauthorized, "unknown device or bad token")
	}
	if d.RevokedAt != nil {
		return nil, syncproto.Errorf(syncproto.CodeRevoked, "device %s was revoked", id)
	}
	return d, nil
}

// Device returns one device, with its cursor lag.
func (s *Store) Device(ctx context.Context, id string) (*Device, error) {
	var d Device
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if ok, err = getJSON(tx.Bucket(bktDevices), []byte(id), &d); ok {
			d.CursorLag = deviceLag(tx, &d)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("device", id)
	}
	return &d, nil
}

// Devices lists every device by name, with cursor lags.
func (s *Store) Devices(ctx context.Context) ([]Device, error) {
	var out []Device
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktDevices)
		return b.ForEach(func(k, v []byte) error {
			var d Device
			if _, err := getJSON(b, k, &d); err != nil {
				return err
			}
			d.CursorLag = deviceLag(tx, &d)
			out = append(out, d)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].ID < out[j].ID
	})
	return out, err
}

func deviceLag(tx *bolt.Tx, d *Device) int {
	n := 0
	for _, f := range d.Flights {
		n += lag(tx, f, d.Cursors[f])
	}
	return n
}

// UpdateDevice reads, changes and writes one device in one transaction.
func (s *Store) UpdateDevice(ctx context.Context, id string, fn func(*Device) error) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktDevices)
		var d Device
		ok, err := getJSON(b, []byte(id), &d)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("device", id)
		}
		if err := fn(&d); err != nil {
			return err
		}
		return putJSON(b, []byte(id), &d)
	})
}
