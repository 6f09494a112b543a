package hub

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// The hub's security checks: which flights a device may serve, the audit
// trail of what it was refused, and a cap on how fast one device may send
// frames. They sit here, apart from the protocol's flow in session.go.

// auditf appends an audit event; a failure is logged, never the device's
// problem.
func (h *Hub) auditf(ctx context.Context, e store.AuditEvent) {
	if err := h.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		h.log.Error("audit append failed", "kind", e.Kind, "err", err)
	}
}

// auditRefusedHandshake records a bad or revoked credential, at most
// AuditPerAddress times per window per address, so a flood of garbage
// handshakes cannot fill the audit log.
func (h *Hub) auditRefusedHandshake(ctx context.Context, remote, deviceID string, err error) {
	host := remote
	if i := strings.LastIndexByte(remote, ':'); i > 0 {
		host = remote[:i]
	}
	if ok, _ := h.auditLimit.Allow(host); !ok {
		return
	}
	h.auditLimit.Fail(host)
	h.auditf(ctx, store.AuditEvent{Kind: store.AuditDeviceRefused, Actor: "device:" + trim(deviceID), Subject: "device:" + trim(deviceID), Remote: host, Code: syncproto.ErrorCode(err), Detail: syncproto.ErrorMessage(err)})
}

func trim(s string) string {
	if len(s) > syncproto.MaxShortLen {
		return s[:syncproto.MaxShortLen]
	}
	return s
}

// dropOutOfScope removes from flights those the device's binding does not
// allow: the device never receives their feeds, and ops it pushes for them
// are refused by the store's scope. Each refusal is logged and audited.
func (s *session) dropOutOfScope(ctx context.Context, flights map[string]uint64) error {
	refused, err := s.hub.store.OutOfScope(ctx, s.deviceID, slices.Sorted(maps.Keys(flights)))
	if err != nil {
		return err
	}
	for _, f := range refused {
		delete(flights, f)
	}
	if len(refused) > 0 {
		s.hub.log.Warn("device asked for flights it may not serve", "device", s.deviceID, "flights", refused)
		s.hub.auditf(ctx, store.AuditEvent{Kind: store.AuditScopeRefused, Actor: "device:" + s.deviceID, Subject: strings.Join(refused, ","), Remote: s.remote, Code: syncproto.CodeOutOfScope, Detail: "not in the device's binding"})
	}
	return nil
}

// auditRefusedOps records, once per push, the ops refused for scope or
// identity (the other refusals are ordinary workflow answers).
func (s *session) auditRefusedOps(ctx context.Context, results []syncproto.OpResult) {
	n, first, codes := 0, "", map[string]int{}
	for _, r := range results {
		if r.Result != syncproto.ResultRefused || (r.Code != syncproto.CodeOutOfScope && r.Code != syncproto.CodeForbidden) {
			continue
		}
		if n == 0 {
			first = r.ID.String()
		}
		n++
		codes[r.Code]++
	}
	if n == 0 {
		return
	}
	code := syncproto.CodeOutOfScope
	if codes[syncproto.CodeForbidden] > codes[code] {
		code = syncproto.CodeForbidden
	}
	s.hub.auditf(ctx, store.AuditEvent{Kind: store.AuditOpRefused, Actor: "device:" + s.deviceID, Subject: "op:" + first, Remote: s.remote, Code: code, Detail: fmt.Sprintf("%d op(s) refused: %v", n, codes)})
}

// frameBucket is a token bucket over the frames one session receives: a
// device that floods the ground is cut off with rate_limited instead of
// taking a core. One per session, used only by the reader: no lock.
type frameBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newFrameBucket(rate float64, burst int) *frameBucket {
	return &frameBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

func (b *frameBucket) take(now time.Time) bool {
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// recordPurges stores a device's purge receipts and audits each new one;
// it returns the flights whose receipts are stored. A malformed receipt is
// skipped (and stays unacknowledged), never a reason to end the session.
func (s *session) recordPurges(ctx context.Context, rs []syncproto.PurgeReceipt) ([]string, error) {
	var done []string
	for _, r := range rs {
		if len(done) >= 64 {
			break
		}
		added, err := s.hub.store.RecordPurge(ctx, s.deviceID, r)
		if err != nil {
			if syncproto.ErrorCode(err) == syncproto.CodeInvalid {
				continue
			}
			return nil, err
		}
		done = append(done, r.Flight)
		if !added {
			continue
		}
		s.hub.auditf(ctx, store.AuditEvent{Kind: store.AuditPurge, Actor: "device:" + s.deviceID, Subject: "flight:" + r.Flight, Remote: s.remote, Detail: fmt.Sprintf("%d enquiries, %d ops, at %s", r.Enquiries, r.Ops, r.At.UTC().Format(time.RFC3339))})
	}
	return done, nil
}
