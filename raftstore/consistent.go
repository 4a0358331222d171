package raftstore

import (
	"context"
	"fmt"
)

// ConsistentRead returns once this node's index holds every write the
// leader had acknowledged when ConsistentRead was called, so a read of
// Index() that follows sees them (a leader-consistent read). On the leader
// it confirms leadership with a quorum (VerifyLeader, no log entry); on a
// follower it asks the leader for its read index over the inter-node port
// and waits, bounded by ctx, until its own state machine has applied that
// far. It returns ErrNoLeader when no leader is known and ErrNotLeader
// when leadership was lost meanwhile; the caller answers 503.
func (s *Store) ConsistentRead(ctx context.Context) error {
	idx, err := s.readIndex(ctx)
	if err != nil {
		return fmt.Errorf("leader-consistent read: %w", err)
	}
	if err := s.waitFSM(ctx, idx); err != nil {
		return fmt.Errorf("leader-consistent read: waiting to apply index %d: %w", idx, err)
	}
	return nil
}

// readIndex is the leader's read index, asked locally or over the port.
func (s *Store) readIndex(ctx context.Context) (uint64, error) {
	if s.IsLeader() {
		return s.leaderReadIndex(ctx)
	}
	_, addr := s.Leader()
	if addr == "" {
		return 0, ErrNoLeader
	}
	if s.cfg.Net == nil {
		return 0, ErrNotLeader
	}
	// A leader behind a partition is known but unreachable: answer within
	// the forward hold rather than the caller's whole deadline.
	rctx, cancel := context.WithTimeout(ctx, s.cfg.ForwardHold)
	defer cancel()
	idx, err := s.cfg.Net.ReadIndex(rctx, addr)
	if err != nil {
		return 0, fromRemote(err)
	}
	return idx, nil
}

// leaderReadIndex is the index every acknowledged write is at or below:
// the last log index, read before leadership is confirmed. (The commit
// index of a new leader lags until its first entry commits; the last
// index never does, and what is past the commit index commits within a
// round trip or the wait ends with the caller's context.)
func (s *Store) leaderReadIndex(ctx context.Context) (uint64, error) {
	if !s.IsLeader() {
		return 0, ErrNotLeader
	}
	idx := s.raft.LastIndex()
	if err := wait(ctx, s.raft.VerifyLeader()); err != nil {
		return 0, fmt.Errorf("verifying leadership: %w", err)
	}
	return idx, nil
}

// waitFSM waits until the state machine has applied every entry up to idx
// it is given (see fsmTarget).
func (s *Store) waitFSM(ctx context.Context, idx uint64) error {
	err := s.fsm.applied.waitFor(ctx, s.stop, func() bool {
		return s.holds(idx)
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}

// ReadIndex serves a follower's leader-consistent read.
func (h rpcHandler) ReadIndex(ctx context.Context) (uint64, error) {
	idx, err := h.s.leaderReadIndex(ctx)
	return idx, toRemote(err)
}
