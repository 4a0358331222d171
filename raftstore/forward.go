package raftstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/nodenet"
)

// retryPause is the wait between forwarding attempts while the leader is
// unknown or changing.
const retryPause = 50 * time.Millisecond

// applyAnywhere applies e locally on the leader and forwards it otherwise.
// While no leader is known, or the one it asked is no longer leader or
// cannot be reached, it retries until Config.ForwardHold has passed; a
// retried forward reuses e's ReqID, so it applies at most once.
func (s *Store) applyAnywhere(ctx context.Context, e *command.Envelope) (command.Result, error) {
	if err := checkProposal(e); err != nil {
		return command.Result{}, fmt.Errorf("%w: %w", ErrInvalidCommand, err)
	}
	hold := time.Now().Add(s.cfg.ForwardHold)
	var last error
	proposed := false
	for {
		res, err := s.applyOnce(ctx, e)
		proposed = proposed || err != nil && !notProposed(err)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return res, unproposed(err, proposed)
		}
		last = err
		if time.Now().After(hold) {
			break
		}
		select {
		case <-ctx.Done():
			return command.Result{}, unproposed(fmt.Errorf("%w: %w (last: %w)", ErrTimeout, ctx.Err(), last), proposed)
		case <-time.After(retryPause):
		}
	}
	if errors.Is(last, ErrNoLeader) {
		return command.Result{}, unproposed(fmt.Errorf("applying %s: %w within %v", e.Type, ErrNoLeader, s.cfg.ForwardHold), proposed)
	}
	return command.Result{}, unproposed(fmt.Errorf("applying %s: %w: leader unreachable for %v: %w", e.Type, ErrNoLeader, s.cfg.ForwardHold, last), proposed)
}

// errNotProposed marks an Apply error after which the command is known
// not to be in any log: every attempt was refused before raft took it
// (no leader known, not the leader, the leader could not be dialled). The
// spool uses it to tell "not applied" from "outcome unknown".
var errNotProposed = errors.New("command was not proposed")

// notProposedError wraps an error with errNotProposed, keeping its message.
type notProposedError struct{ error }

func (e notProposedError) Unwrap() error        { return e.error }
func (e notProposedError) Is(target error) bool { return target == errNotProposed }

// unproposed marks err with errNotProposed when no attempt reached raft.
func unproposed(err error, proposed bool) error {
	if err == nil || proposed {
		return err
	}
	return notProposedError{err}
}

// notProposed reports whether one attempt's error proves the command
// did not reach raft.
func notProposed(err error) bool {
	return errors.Is(err, ErrNoLeader) || errors.Is(err, ErrNotLeader) || errors.Is(err, ErrDiskFull) ||
		errors.Is(err, ErrInvalidCommand) || errors.Is(err, nodenet.ErrNotSent)
}

// applyOnce applies on this node if it leads, else forwards to the leader
// once and waits until this node has applied the entry too (so a read after
// the write sees it), unless its disk is full: then it cannot store the
// entry until there is room, and the write is done once the leader has
// committed it.
func (s *Store) applyOnce(ctx context.Context, e *command.Envelope) (command.Result, error) {
	if s.IsLeader() {
		res, _, err := s.applyLocal(ctx, e)
		return res, err
	}
	_, addr := s.Leader()
	if addr == "" {
		return command.Result{}, ErrNoLeader
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.cancelOnLeaderChange(fctx, cancel, addr)
	res, idx, err := s.cfg.Net.Apply(fctx, addr, e)
	if err != nil {
		return command.Result{}, fmt.Errorf("forwarding %s to the leader at %s: %w", e.Type, addr, fromRemote(err))
	}
	if s.disk.check() == nil {
		s.waitApplied(ctx, idx)
	} // else this node cannot store the entry until its disk has room: the others hold it
	return res, nil
}

// cancelOnLeaderChange ends a forward to the leader at addr once this node
// no longer sees it as the leader: behind a partition the request (or its
// answer) is lost, and the forward would otherwise wait out the caller's
// whole deadline. Raft clears the leader after its heartbeat timeout.
func (s *Store) cancelOnLeaderChange(ctx context.Context, cancel context.CancelFunc, addr string) {
	t := time.NewTicker(leaderCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, a := s.Leader(); a != addr {
				cancel()
				return
			}
		}
	}
}

// leaderCheck is how often a forward in flight checks the leader.
const leaderCheck = 50 * time.Millisecond

// retryable reports whether a forward may be tried again: nothing was
// applied, or the ReqID makes a repeat harmless.
func retryable(err error) bool {
	switch {
	case errors.Is(err, ErrInvalidCommand), errors.Is(err, ErrClosed), errors.Is(err, ErrForbidden), errors.Is(err, ErrDiskFull):
		return false
	}
	return true
}

// waitApplied waits, bounded by ctx and ApplyTimeout, until this node's
// index holds log index idx (holds: not raft's AppliedIndex alone, which
// moves when entries are handed to the FSM, before it has applied them,
// nor the index's serial, which a restored backup sets to another
// cluster's log index). Giving up is not an error: the entry is committed.
func (s *Store) waitApplied(ctx context.Context, idx uint64) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	defer cancel()
	_ = s.waitFSM(ctx, idx)
}

// toRemote translates a store error into the RPC's error codes.
func toRemote(err error) error {
	code := nodenet.CodeInternal
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotLeader):
		code = nodenet.CodeNotLeader
	case errors.Is(err, ErrNoLeader):
		code = nodenet.CodeNoLeader
	case errors.Is(err, ErrLeadershipLost):
		code = nodenet.CodeLost
	case errors.Is(err, ErrTimeout):
		code = nodenet.CodeTimeout
	case errors.Is(err, ErrInvalidCommand):
		code = nodenet.CodeInvalid
	case errors.Is(err, ErrClosed):
		code = nodenet.CodeClosed
	case errors.Is(err, ErrForbidden):
		code = nodenet.CodeForbidden
	case errors.Is(err, ErrNotMember):
		code = nodenet.CodeNotFound
	}
	return &nodenet.RemoteError{Code: code, Msg: err.Error()}
}

// fromRemote translates an RPC error back into the sentinel errors; a
// transport error is returned as it is (retryable).
func fromRemote(err error) error {
	var re *nodenet.RemoteError
	if !errors.As(err, &re) {
		return err
	}
	var sentinel error
	switch re.Code {
	case nodenet.CodeNotLeader, nodenet.CodeNotServing:
		sentinel = ErrNotLeader
	case nodenet.CodeNoLeader:
		sentinel = ErrNoLeader
	case nodenet.CodeLost:
		sentinel = ErrLeadershipLost
	case nodenet.CodeTimeout:
		sentinel = ErrTimeout
	case nodenet.CodeInvalid:
		sentinel = ErrInvalidCommand
	case nodenet.CodeClosed:
		sentinel = ErrNotLeader // the leader is stopping; another will take over
	case nodenet.CodeForbidden:
		sentinel = ErrForbidden
	case nodenet.CodeNotFound:
		sentinel = ErrNotMember
	default:
		return err
	}
	return fmt.Errorf("%w (remote: %s)", sentinel, re.Msg)
}

// rpcHandler serves the inter-node RPC for a Store.
type rpcHandler struct{ s *Store }

// Apply proposes a forwarded command; only the leader accepts it.
func (h rpcHandler) Apply(ctx context.Context, e *command.Envelope) (command.Result, uint64, error) {
	if !h.s.IsLeader() {
		return command.Result{}, 0, toRemote(ErrNotLeader)
	}
	res, idx, err := h.s.applyLocal(ctx, e)
	if err == nil {
		h.s.nudgeFollowers()
	}
	return res, idx, toRemote(err)
}

// nudgeFollowers asks the nudger for a barrier; at most one waits.
func (s *Store) nudgeFollowers() {
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// nudger makes the leader send the new commit index to followers right
// after a forwarded command committed. Raft otherwise tells idle followers
// only on its next AppendEntries (CommitTimeout, 50-100 ms), and the
// forwarding follower waits for its own apply. A barrier is a log entry, so
// it is replicated at once and carries the commit index; bursts share one
// barrier in flight.
func (s *Store) nudger() {
	for {
		select {
		case <-s.stop:
			return
		case <-s.nudge:
		}
		if s.IsLeader() {
			_ = s.raft.Barrier(s.cfg.ApplyTimeout).Error() // best effort: a failure only delays followers
		}
	}
}

// Join adds a node (see Store.join).
func (h rpcHandler) Join(ctx context.Context, req nodenet.JoinRequest, peer string) (nodenet.JoinResponse, error) {
	jr, err := h.s.join(ctx, req, peer)
	return jr, toRemote(err)
}

// Remove removes a member.
func (h rpcHandler) Remove(ctx context.Context, id string) error {
	return toRemote(h.s.RemoveMember(ctx, id))
}

// Status describes this node.
func (h rpcHandler) Status(context.Context) (nodenet.NodeStatus, error) {
	return h.s.localStatus(), nil
}

// localStatus is this node's view of itself.
func (s *Store) localStatus() nodenet.NodeStatus {
	st := nodenet.NodeStatus{
		NodeID: s.id, State: s.raft.State().String(),
		AppliedIndex: s.raft.AppliedIndex(), CommitIndex: s.raft.CommitIndex(), LastIndex: s.raft.LastIndex(),
		LastContact: s.lastContact(), Reads: cmp.Or(int(s.reads.Load()), command.Version),
	}
	_, lid := s.raft.LeaderWithID()
	st.LeaderID = string(lid)
	return st
}

// lastContact is the time since the leader was last heard from, in
// seconds: 0 on the leader, -1 when never.
func (s *Store) lastContact() float64 {
	if s.raft.State() == raft.Leader {
		return 0
	}
	lc := s.raft.LastContact()
	if lc.IsZero() {
		return -1
	}
	return time.Since(lc).Seconds()
}
