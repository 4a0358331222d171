package raftstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/wlns/wlns/command"
)

// Replay pacing: the loop looks every spoolMinWait whether it has pending
// entries and a leader is known (both local reads). After a failed replay
// it waits, doubling from spoolMinWait up to spoolMaxWait, unless the
// leader changed meanwhile: then it tries again at once.
const (
	spoolMinWait = 200 * time.Millisecond
	spoolMaxWait = 10 * time.Second
)

// spoolLoop replays pending entries, oldest first, whenever a leader is
// known. It ends with ctx.
func (s *Store) spoolLoop(ctx context.Context) {
	defer close(s.spool.done)
	backoff, next, failedWith := spoolMinWait, time.Time{}, ""
	window := 1 // see replayer.run
	tick := time.NewTicker(spoolMinWait)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.spool.kick:
		case <-tick.C:
		}
		_, leader := s.Leader()
		if p, _ := s.spool.sp.counts(); p == 0 || leader == "" || time.Now().Before(next) && leader == failedWith {
			continue
		}
		if err := s.replay(ctx, &window); err != nil {
			next, failedWith = time.Now().Add(backoff), leader
			s.log.Debug("write spool: replay paused", "err", err, "retry_in", backoff)
			backoff = min(backoff*2, spoolMaxWait)
			continue
		}
		backoff, next = spoolMinWait, time.Time{}
	}
}

// spoolWindow is how many pending pair and VERP writes replay at once at
// most: they never depend on each other (only on entities, which replay
// alone), so they may commit in any order, and raft groups concurrent
// proposals into one log append instead of one round trip each.
const spoolWindow = 32

// replay commits pending entries until the spool is empty or one cannot be
// committed now (its error is returned; the entry stays pending, first).
// window is the size of the next round (see replayer.run).
func (s *Store) replay(ctx context.Context, window *int) error {
	return replayer{
		leader: func() bool { _, addr := s.Leader(); return addr != "" },
		firstN: s.spool.sp.firstN,
		one:    s.replayOne,
	}.run(ctx, window)
}

// replayer is the replay's rounds, apart from the store they act on.
type replayer struct {
	// leader reports whether a leader is known.
	leader func() bool
	// firstN returns up to n of the oldest pending entries.
	firstN func(n int) ([]SpoolEntry, error)
	// one commits and files one entry (Store.replayOne).
	one func(ctx context.Context, e SpoolEntry) error
}

// run replays rounds of independent entries until none are pending or a
// round fails. A round sends up to *window entries; each round that
// committed doubles the window, up to spoolWindow, and a failed one halves
// it (the loop starts it at 1: a slow start). The node
// holding the spool is often a follower just restarted, which forwards
// each entry to the leader on a pooled connection, and its pool is empty
// then; 32 forwards at once were 32 mutual TLS handshakes at once, which
// under load (two cores, load average 25, -race) did not finish within
// the apply timeout, so the whole round failed, kept no connection, and
// the next round after the back-off did the same (a 203-entry spool did
// not drain in 30 s). Rounds of 1, 2, 4, ... open at most as many new
// connections as the pool already holds, and after a failed round the
// next one needs fewer.
func (r replayer) run(ctx context.Context, window *int) error {
	for ctx.Err() == nil {
		if !r.leader() {
			return ErrNoLeader
		}
		es, err := r.firstN(*window)
		if err != nil || len(es) == 0 {
			return err
		}
		run := independentRun(es)
		errs := make([]error, len(run))
		var wg sync.WaitGroup
		for i, e := range run {
			wg.Go(func() { errs[i] = r.one(ctx, e) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			*window = max(*window/2, 1)
			return err
		}
		*window = min(2**window, spoolWindow)
	}
	return ctx.Err()
}

// independentRun is the leading entries of es that may replay together: a
// run of pair and VERP writes, or else the first entry alone.
func independentRun(es []SpoolEntry) []SpoolEntry {
	n := 0
	for n < len(es) && (es[n].Envelope.Type == command.PairPut || es[n].Envelope.Type == command.VerpPut) {
		n++
	}
	return es[:max(n, 1)]
}

// replayOne applies one entry and files it: committed (or already applied)
// entries leave the spool, rejected ones go to the failed list, and an
// entry without an answer stays, marked Unknown when it may have committed.
func (s *Store) replayOne(ctx context.Context, e SpoolEntry) error {
	actx, cancel := context.WithTimeout(ctx, s.cfg.ApplyTimeout)
	res, err := s.Apply(actx, e.Envelope)
	cancel()
	switch {
	case errors.Is(err, ErrClosed):
		return err
	case errors.Is(err, ErrInvalidCommand):
		e.Rejection = command.Reject(command.Invalid, "%v", err)
		return s.spoolFailed(e)
	case err != nil:
		e.Attempts++
		e.Unknown = e.Unknown || !errors.Is(err, errNotProposed)
		e.LastError = err.Error()
		if uerr := s.spool.sp.update(e); uerr != nil {
			return uerr
		}
		return err
	}
	rej := firstRejection(res)
	if rej == nil || s.alreadyApplied(e, rej) {
		if rej != nil {
			s.log.Info("write spool: entry was already applied", "type", e.Envelope.Type, "req_id", e.Envelope.ReqID, "rejection", rej)
		}
		if err := s.spool.sp.done(e); err != nil {
			return err
		}
		s.spool.committed.Inc()
		return nil
	}
	e.Rejection = rej
	return s.spoolFailed(e)
}

// spoolFailed moves e to the failed list.
func (s *Store) spoolFailed(e SpoolEntry) error {
	e.Failed = time.Now().UTC()
	s.log.Warn("write spool: the cluster rejected a spooled write", "type", e.Envelope.Type, "req_id", e.Envelope.ReqID, "rejection", e.Rejection)
	if err := s.spool.sp.fail(e); err != nil {
		return err
	}
	s.spool.failed.Inc()
	return nil
}

// firstRejection is res's rejection or that of a batch's first rejected
// command.
func firstRejection(res command.Result) *command.Rejection {
	if res.Err != nil {
		return res.Err
	}
	for _, r := range res.Results {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// alreadyApplied decides whether a rejection of a replayed entry only says
// that an earlier attempt of the same entry committed, or that another
// request did what it asked (its kind's repeated hook, FSM.Repeated). The
// ReqID window (24 h of command time, 100k IDs) answers Duplicate for most
// repeats; the hooks cover repeats past the window, and only for entries
// whose earlier attempt may have committed (Unknown):
//
//   - pair.put, verp.put, members.add are refreshes: a repeat is never
//     rejected for being a repeat, so no rule is needed.
//   - entity.put with ID 0 creates an entity; a repeat is refused as a
//     Conflict (the prefix, or the group name, belongs to the entity the
//     first attempt made). It counts as applied when an entity of the same
//     kind and name holding all its prefixes exists; otherwise someone
//     else took them and it fails.
//   - challenge.confirm and challenge.report act on a token once; a repeat
//     is NotFound. It counts as applied (answerRepeated also for an entry
//     never proposed, when the token was answered alike meanwhile).
//
// An entry that was never proposed (no leader was known at every attempt)
// cannot have committed, so the same rejections mark it failed: someone
// else took the prefix, or the token expired or was used elsewhere.
func (s *Store) alreadyApplied(e SpoolEntry, rej *command.Rejection) bool {
	return s.fsm.Repeated(e.Envelope, e.Unknown, rej)
}
