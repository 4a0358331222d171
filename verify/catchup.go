package verify

import (
	"context"
	"time"

	"github.com/wlns/wlns/record"
)

// A challenge's mail goes out once the leader has committed it, but the
// link in it (or the reply to it) may reach a follower that has not yet
// applied that entry: on a loaded mirror that is seconds, and the sender
// was told "This link is not valid" for a challenge the cluster holds.
// So a well-formed token this node does not know makes it catch up with
// the leader once (a consistent read) before the answer is "unknown".

// ConsistentReader is implemented by a store that can wait until it holds
// every write the leader had acknowledged (raftstore.Store.ConsistentRead).
type ConsistentReader interface {
	ConsistentRead(ctx context.Context) error
}

const (
	// catchUpWait bounds how long a page, a confirmation or an inbound
	// RCPT waits for this node to catch up with the leader.
	catchUpWait = 3 * time.Second
	// catchUpSlots bounds the catch-ups in flight: random tokens from
	// the internet cost the leader at most this many reads at a time,
	// and past it an unknown token is answered from what this node holds.
	catchUpSlots = 8
)

// Lookup returns the open, unexpired challenge for token as Open does, but
// when this node does not hold it and the token is well-formed, it first
// waits (bounded) until the node holds what the leader has committed.
func (s *Service) Lookup(ctx context.Context, token string) *record.Challenge {
	if c := s.Open(token); c != nil || HashToken(token) == "" {
		return c
	}
	cr, ok := s.store.(ConsistentReader)
	if !ok {
		return nil
	}
	select {
	case s.catchUp <- struct{}{}:
		defer func() { <-s.catchUp }()
	default:
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, catchUpWait)
	defer cancel()
	if err := cr.ConsistentRead(ctx); err != nil {
		s.cfg.Logger.Debug("unknown token: could not catch up with the leader", "err", err)
		return nil
	}
	return s.Open(token)
}
