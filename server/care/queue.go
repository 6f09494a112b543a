package care

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/server/triage"
	"github.com/cabincare/cabincare/syncproto"
)

// CareStore is what the workflow needs of the ground-only care records.
type CareStore interface {
	ApplyCare(ctx context.Context, ops []syncproto.Op, scope store.Scope, care map[uuid.UUID]*store.Care) ([]store.Result, error)
	Care(ctx context.Context, id uuid.UUID) (*store.Care, error)
	UpdateCare(ctx context.Context, id uuid.UUID, fn func(*store.Care) error) (*store.Care, error)
	ThreadEnquiry(ctx context.Context, channel, thread string) (uuid.UUID, bool, error)
	Queue(ctx context.Context, f store.QueueFilter) ([]store.QueueItem, error)
	OpenStats(ctx context.Context) (int, time.Time, error)
	Figures(ctx context.Context, kind string, from, to time.Time) ([]store.Figure, error)
	Arrivals(ctx context.Context, from, to time.Time) ([]store.Arrival, error)
}

// MaxTarget bounds the response target an agent may set.
const MaxTarget = 7 * 24 * time.Hour

// SetTarget sets an enquiry's response target (its own SLA), or with 0
// goes back to the one its priority gives. The new deadline is stored.
func (s *Service) SetTarget(ctx context.Context, id uuid.UUID, target time.Duration) (*store.Care, error) {
	if target < 0 || target > MaxTarget {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "the target must be from 1 minute to %s (0 resets it)", MaxTarget)
	}
	if target > 0 && target < time.Minute {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "the target must be at least 1 minute")
	}
	return s.Store.UpdateCare(ctx, id, func(c *store.Care) error {
		if c.Status == syncproto.StatusClosed {
			return syncproto.Errorf(syncproto.CodeIllegalTransition, "cannot change the target of an enquiry that is closed")
		}
		if target == 0 {
			c.TargetSet = false
			c.Target = triage.Target(triage.Level(c.Priority.Level), c.SLA)
			return nil
		}
		c.Target, c.TargetSet = target, true
		return nil
	})
}
