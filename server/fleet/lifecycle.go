package fleet

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// Auditor records an admin's action in the audit log.
type Auditor interface {
	Record(ctx context.Context, actor, action, target string, detail map[string]any)
}

// AuditStore is where StoreAuditor writes: the ground's audit log.
type AuditStore interface {
	AppendAudit(ctx context.Context, e store.AuditEvent) error
}

// StoreAuditor appends each action to the audit log (GET /api/v1/audit)
// and logs it; a failed write is logged, never lost silently.
type StoreAuditor struct {
	Store AuditStore
	Now   func() time.Time
	Log   interface {
		Info(msg string, args ...any)
		Error(msg string, args ...any)
	}
}

// Record implements Auditor.
func (a *StoreAuditor) Record(ctx context.Context, actor, action, target string, detail map[string]any) {
	e := store.AuditEvent{At: a.Now().UTC(), Kind: action, Actor: actor, Subject: "device:" + target}
	if len(detail) > 0 {
		if b, err := json.Marshal(detail); err == nil {
			e.Detail = string(b)
		}
	}
	if err := a.Store.AppendAudit(ctx, e); err != nil {
		a.Log.Error("audit write failed", "actor", actor, "action", action, "target", target, "err", err)
		return
	}
	a.Log.Info("audit", "actor", actor, "action", action, "target", target)
}

// Lifecycle actions, as audited (kinds of the audit log, beside those of
// server/store).
const (
	ActionRename         = "device_renamed"
	ActionResync         = "device_resync"
	ActionDecommission   = "device_decommission"   // requested
	ActionDecommissioned = "device_decommissioned" // done: revoked and forgotten
	ActionRevoke         = store.AuditDeviceRevoked
)

func (m *Monitor) audit(ctx context.Context, actor, action, target string, detail map[string]any) {
	if m.Auditor != nil {
		m.Auditor.Record(ctx, actor, action, target, detail)
	}
	m.log().Info("device lifecycle action", "actor", actor, "action", action, "device", target)
}

// MaxNameLen bounds a device name.
const MaxNameLen = syncproto.MaxShortLen

// Rename gives a device a new name.
func (m *Monitor) Rename(ctx context.Context, actor, id, name string) (*DeviceView, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxNameLen {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "name is required (at most %d bytes)", MaxNameLen)
	}
	var old string
	err := m.Store.UpdateDevice(ctx, id, func(d *store.Device) error {
		old, d.Name = d.Name, name
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.audit(ctx, actor, ActionRename, id, map[string]any{"from": old, "to": name})
	m.publishDevice(ctx, id)
	return m.Device(ctx, id, 0)
}

// Resync forces a full resync: the device drops its cursors and what it
// pulled, keeps its outbox, and pulls everything again. The request is a
// flag the next handshake serves, so it survives the device being offline;
// a connected device is disconnected with CodeResync to reconnect now.
func (m *Monitor) Resync(ctx context.Context, actor, id string) (*DeviceView, error) {
	err := m.Store.UpdateDevice(ctx, id, func(d *store.Device) error {
		if d.RevokedAt != nil {
			return syncproto.Errorf(syncproto.CodeConflict, "device %s is revoked", id)
		}
		d.Repull = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	online := m.Sessions.Disconnect(id, syncproto.CodeResync, "an admin asked for a full resync: reconnect and pull again")
	m.audit(ctx, actor, ActionResync, id, map[string]any{"online": online})
	m.publishDevice(ctx, id)
	return m.Device(ctx, id, 0)
}

// Revoke revokes a device's token and disconnects it at once.
func (m *Monitor) Revoke(ctx context.Context, actor, id string) (*DeviceView, error) {
	if err := m.revoke(ctx, id); err != nil {
		return nil, err
	}
	m.audit(ctx, actor, ActionRevoke, id, nil)
	m.publishDevice(ctx, id)
	return m.Device(ctx, id, 0)
}

func (m *Monitor) revoke(ctx context.Context, id string) error {
	err := m.Store.UpdateDevice(ctx, id, func(d *store.Device) error {
		if d.RevokedAt == nil {
			t := m.now().UTC()
			d.RevokedAt = &t
		}
		return nil
	})
	if err != nil {
		return err
	}
	m.Sessions.Disconnect(id, syncproto.CodeRevoked, "this device was revoked")
	return nil
}

// Decommission retires a device: once its outbox is empty (now, if it is
// connected and reported none pending; else at its next report of an
// empty outbox), it is revoked and forgotten. It reports whether that
// happened at once; otherwise the view shows decommissioning.
func (m *Monitor) Decommission(ctx context.Context, actor, id string) (done bool, v *DeviceView, err error) {
	err = m.Store.UpdateDevice(ctx, id, func(d *store.Device) error {
		if d.RevokedAt != nil {
			return syncproto.Errorf(syncproto.CodeConflict, "device %s is revoked; it cannot drain its outbox any more", id)
		}
		if d.Decommissioning == nil {
			t := m.now().UTC()
			d.Decommissioning = &t
		}
		return nil
	})
	if err != nil {
		return false, nil, err
	}
	d, err := m.Store.Device(ctx, id)
	if err != nil {
		return false, nil, err
	}
	// Only a live report is trusted to say the outbox is empty: an offline
	// tablet may have recorded ops since its last one. A device that never
	// connected has nothing to send.
	live, online := m.Sessions.Live(id)
	drained := d.LastSeen == nil || online && live.State.Outbox == 0
	m.audit(ctx, actor, ActionDecommission, id, map[string]any{"online": online, "drained": drained})
	if drained {
		m.finishDecommission(ctx, d)
		return true, nil, nil
	}
	m.mu.Lock()
	m.initLocked()
	m.decom[id] = true
	m.mu.Unlock()
	m.publishDevice(ctx, id)
	v, err = m.Device(ctx, id, 0)
	return false, v, err
}

func (m *Monitor) finishDecommission(ctx context.Context, d *store.Device) {
	if err := m.revoke(ctx, d.ID); err != nil {
		m.log().Error("decommission: revoke", "device", d.ID, "err", err)
		return
	}
	if err := m.Store.ForgetDevice(ctx, d.ID); err != nil {
		m.log().Error("decommission: forget", "device", d.ID, "err", err)
		return
	}
	m.mu.Lock()
	delete(m.sampled, d.ID)
	delete(m.recent, d.ID)
	delete(m.decom, d.ID)
	m.mu.Unlock()
	m.audit(ctx, "system", ActionDecommissioned, d.ID, map[string]any{"name": d.Name})
	m.publishDevice(ctx, d.ID)
}
