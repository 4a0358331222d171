package raftstore

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
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
		if err := s.replay(ctx); err != nil {
			next, failedWith = time.Now().Add(backoff), leader
			s.log.Debug("write spool: replay paused", "err", err, "retry_in", backoff)
			backoff = min(backoff*2, spoolMaxWait)
			continue
		}
		backoff, next = spoolMinWait, time.Time{}
	}
}

// spoolWindow is how many pending pair and VERP writes replay at once:
// they never depend on each other (only on entities, which replay alone),
// so they may commit in any order, and raft groups concurrent proposals
// into one log append instead of one round trip each.
const spoolWindow = 32

// replay commits pending entries until the spool is empty or one cannot be
// committed now (its error is returned; the entry stays pending, first).
func (s *Store) replay(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, addr := s.Leader(); addr == "" {
			return ErrNoLeader
		}
		es, err := s.spool.sp.firstN(spoolWindow)
		if err != nil || len(es) == 0 {
			return err
		}
		run := independentRun(es)
		errs := make([]error, len(run))
		var wg sync.WaitGroup
		for i, e := range run {
			wg.Go(func() { errs[i] = s.replayOne(ctx, e) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
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

// entityRepeated is entity.put's repeated hook: a create refused as a
// Conflict by the entity an earlier attempt made.
func entityRepeated(f *FSM, e *command.Envelope, unknown bool, rej *command.Rejection) bool {
	var b command.EntityBody
	return unknown && rej.Code == command.Conflict && e.DecodeBody(&b) == nil && b.ID == 0 && entityExists(f.ix.Load(), &b)
}

// batchRepeated is a Batch's repeated hook: a list report's batch (the
// report with the VERP challenge's open) refused as NotFound.
func batchRepeated(_ *FSM, e *command.Envelope, unknown bool, rej *command.Rejection) bool {
	var b command.BatchBody
	return unknown && rej.Code == command.NotFound && e.DecodeBody(&b) == nil &&
		slices.ContainsFunc(b.Commands, func(c command.Envelope) bool { return c.Type == command.ChallengeReport })
}

// confirmRepeated and reportRepeated are the repeated hooks of the
// challenge answers (answered).
func confirmRepeated(f *FSM, e *command.Envelope, unknown bool, rej *command.Rejection) bool {
	var b command.ChallengeConfirmBody
	ok := e.DecodeBody(&b) == nil
	return answered(f, unknown, rej, ok, b.TokenHash, record.ChallengeConfirmed)
}

func reportRepeated(f *FSM, e *command.Envelope, unknown bool, rej *command.Rejection) bool {
	var b command.ChallengeReportBody
	ok := e.DecodeBody(&b) == nil
	return answered(f, unknown, rej, ok, b.TokenHash, reportStates[b.Report])
}

// reportStates is the state each report leaves its challenge in.
var reportStates = map[string]record.ChallengeState{"forgery": record.ChallengeForged, "list": record.ChallengeList}

// answered decides a challenge answer refused as NotFound: it was given
// by an earlier attempt (unknown), or meanwhile by another request (the
// body decoded, ok, and the token is in the state want): the token
// confirmed, for a confirmation, or reported the same way, for a report.
// That happens when a sender answers on a mirror cut off from the cluster
// (the answer is spooled) and again on another (it commits): what the
// sender asked for holds, so the entry is done, not failed. An answer that
// conflicts (a confirmation of a token reported as forged) still fails.
func answered(f *FSM, unknown bool, rej *command.Rejection, ok bool, hash string, want record.ChallengeState) bool {
	if rej.Code != command.NotFound {
		return false
	}
	if unknown {
		return true
	}
	c := f.Challenge(hash)
	return ok && c != nil && want != "" && c.State == want
}

// entityExists reports whether v holds an entity like the one b creates:
// same kind and group name, owning every prefix of b.
func entityExists(v *index.View, b *command.EntityBody) bool {
	want, rej := entityFromBody(b)
	if rej != nil {
		return false
	}
	var got *record.Entity
	if len(want.Prefixes) > 0 {
		got = v.PrefixOwner(want.Prefixes[0])
	} else {
		v.EachEntity(func(e index.EntityRef) bool {
			if e.Group() && groupKey(e.Name()) == groupKey(want.Name) {
				got = e.Entity()
			}
			return got == nil
		})
	}
	if got == nil || got.Group != want.Group || groupKey(got.Name) != groupKey(want.Name) {
		return false
	}
	for _, p := range want.Prefixes {
		if o := v.PrefixOwner(p); o == nil || o.ID != got.ID {
			return false
		}
	}
	return true
}
