package care

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/cabincare/cabincare/server/store"
	"github.com/cabincare/cabincare/syncproto"
)

// MergeRequest names the enquiry to absorb into the one merged into.
type MergeRequest struct {
	From   string `json:"from"`
	Reason string `json:"reason"`
}

// Merge absorbs enquiry from into enquiry into: the same customer and the
// same issue, written twice. Both keep their histories: from closes with a
// pointer to into (merged_into), and into takes a copy of from's thread
// (each message marked with where it came from) and its unanswered time.
// The two ops are written in one transaction. Refused (illegal_transition)
// when either is closed, when from may be in the crew's hands (assigned or
// acknowledged: recall it first), or when the two are one.
func (s *Service) Merge(ctx context.Context, by syncproto.Actor, into uuid.UUID, in MergeRequest) (*syncproto.Enquiry, error) {
	from, err := uuid.Parse(strings.TrimSpace(in.From))
	if err != nil {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "from %q is not an enquiry id", in.From)
	}
	if from == into {
		return nil, syncproto.Errorf(syncproto.CodeInvalid, "an enquiry cannot be merged with itself")
	}
	s.mergeMu.Lock()
	defer s.mergeMu.Unlock()
	survivor, _, err := s.Store.Enquiry(ctx, into)
	if err != nil {
		return nil, err
	}
	absorbed, _, err := s.Store.Enquiry(ctx, from)
	if err != nil {
		return nil, err
	}
	intoID := into
	away := s.newOp(from, syncproto.KindMerge, by, syncproto.MergeData{Into: &intoID, Reason: in.Reason})
	away.ID = s.IDs.New()
	msgs := absorbed.Messages
	if len(msgs) > syncproto.MaxMergedMessages {
		msgs = msgs[len(msgs)-syncproto.MaxMergedMessages:]
	}
	fromID := from
	take := s.newOp(into, syncproto.KindMerge, by, syncproto.MergeData{From: &fromID, Reason: in.Reason, Messages: msgs, AwaitingSince: absorbed.AwaitingSince})
	take.ID = s.IDs.New()
	// Check both before writing either, so a refusal changes nothing.
	if err := absorbed.Check(&away); err != nil {
		return nil, err
	}
	if err := survivor.Check(&take); err != nil {
		return nil, err
	}
	if err := take.Validate(); err != nil {
		return nil, err
	}
	rs, err := s.Store.Apply(ctx, []syncproto.Op{away, take}, store.Scope{Strict: true})
	if err != nil {
		return nil, err
	}
	var flights []string
	for _, r := range rs {
		if r.Result == syncproto.ResultRefused {
			// Only a concurrent change can get here (the checks passed);
			// report it. The other op may have been applied: both are
			// legal on their own and the fold keeps them consistent.
			return nil, &syncproto.Error{Code: r.Code, Message: r.Message}
		}
		flights = append(flights, r.Flights...)
	}
	if len(flights) > 0 && s.Notify != nil {
		s.Notify(flights)
	}
	if s.OnApplied != nil {
		s.OnApplied(rs)
	}
	return rs[1].Enquiry, nil
}
