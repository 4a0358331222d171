package raftstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/raft"
)

// Staleness is how long this node has gone without hearing from a
// leader: 0 on the leader and on the only server of a one-node
// configuration (which leads or soon will); otherwise the time since the
// last leader contact, or since start when there was none since then (a
// node that was leader itself counts the time it last led). It is what
// Stale compares with its limit.
func (s *Store) Staleness() time.Duration {
	d, _ := s.staleness()
	return d
}

// staleness is Staleness and whether it counts from the start of the
// process (no leader heard from, or led, since).
func (s *Store) staleness() (time.Duration, bool) {
	if s.raft.State() == raft.Leader || s.solo() {
		return 0, false
	}
	last, fromStart := s.started, true
	if lc := s.raft.LastContact(); lc.After(last) {
		last, fromStart = lc, false
	}
	if led := time.Unix(0, s.ledAt.Load()); led.After(last) {
		last, fromStart = led, false
	}
	return time.Since(last), fromStart
}

// Stale reports an error naming the reason when Staleness exceeds limit
// (limit ≤ 0 never does): a node that has not heard from the leader for
// that long may miss confirmations every other mirror already answers.
func (s *Store) Stale(limit time.Duration) error {
	if limit <= 0 {
		return nil
	}
	d, fromStart := s.staleness()
	switch {
	case d <= limit:
		return nil
	case fromStart:
		return fmt.Errorf("stale: no contact with the leader since start %v ago (limit %v)", d.Round(time.Second), limit)
	}
	return fmt.Errorf("stale: no contact with the leader for %v (limit %v)", d.Round(time.Second), limit)
}

// CaughtUp reports nil when this node knows a leader and has applied what
// it knows to be committed, else why not. A node that is not caught up
// still answers DNS from what it holds.
func (s *Store) CaughtUp() error {
	if s.raft.State() == raft.Shutdown {
		return ErrClosed
	}
	if _, id := s.raft.LeaderWithID(); id == "" {
		return fmt.Errorf("no leader known (last leader contact %v ago)", s.Staleness().Round(time.Second))
	}
	switch c := s.raft.CommitIndex(); {
	case c == 0:
		return errors.New("no commit index from the leader yet")
	case !s.holds(c):
		return fmt.Errorf("catching up: index holds log index %d of %d committed", s.Index().Load().Serial(), c)
	}
	return nil
}

// holds reports whether the index holds every entry up to log index idx
// that raft hands to the FSM. Raft's AppliedIndex alone does not say so:
// it moves when entries are handed to the FSM, before they are applied;
// the FSM's seen moves once they are published (see fsmTarget).
func (s *Store) holds(idx uint64) bool {
	return s.raft.AppliedIndex() >= idx && s.fsm.seen.Load() >= s.fsmTarget(idx)
}

// solo reports whether this node is the only server of its configuration.
func (s *Store) solo() bool {
	conf, err := s.configuration()
	return err == nil && len(conf.Servers) == 1 && conf.Servers[0].ID == raft.ServerID(s.id)
}

// ReplayPending reports, until this node has replayed them, that it
// opened with command entries past the snapshot it restored (no-ops,
// barriers and configuration entries change no answer): it stopped
// without its shutdown snapshot (a crash, a kill, a snapshot cut short),
// so its index lacks entries it had applied, and may have answered, before
// the stop. Raft replays them once a leader tells it the commit index. It
// is nil after a clean stop, on a new node, and once the node has applied
// up to that index or caught up with a leader.
func (s *Store) ReplayPending() error {
	switch {
	case s.cleanStop >= 0 && uint64(s.cleanStop) <= s.openedApplied: // the snapshot holds all its index held
		return nil
	case s.openedLast <= s.openedApplied || s.holds(s.openedLast) || s.CaughtUp() == nil:
		return nil
	}
	return fmt.Errorf("restarted with log entries %d to %d past its snapshot (an unclean stop): not replayed yet, index holds %d; they replay once a leader confirms the commit index",
		s.openedApplied+1, s.openedLast, s.Index().Load().Serial())
}

// lastCommandAfter is the index of the last command entry (one the FSM
// applies to the index) in the log after index from up to last, or from
// when there is none: no-ops, barriers and configuration entries past the
// snapshot leave nothing to replay. An entry that cannot be read counts
// as a command.
func (s *Store) lastCommandAfter(from, last uint64) uint64 {
	var l raft.Log
	for i := last; i > from; i-- {
		if err := s.logs.GetLog(i, &l); err != nil || l.Type == raft.LogCommand {
			return i
		}
	}
	return from
}

// HasData reports whether this node started on existing Raft state (a
// snapshot or log from an earlier run), so its index holds data worth
// serving before it catches up.
func (s *Store) HasData() bool { return s.hadState }

// cleanStopFile records, after a clean stop, the log index the index held
// then (the FSM's last entry, not raft's AppliedIndex, which also counts
// no-ops and barriers).
const cleanStopFile = "clean-stop"

// markCleanStop records a clean stop with the index holding log index idx.
func (s *Store) markCleanStop(idx uint64) {
	p := filepath.Join(s.cfg.Dir, "raft", cleanStopFile)
	if err := os.WriteFile(p, []byte(strconv.FormatUint(idx, 10)+"\n"), 0o600); err != nil {
		s.log.Warn("recording the clean stop; the next start withdraws DNS until it has caught up", "err", err)
	}
}

// takeCleanStop reads and removes the clean-stop record: the log index the
// index held at the last run's clean stop, or -1 when it crashed (or the record is
// unreadable).
func (s *Store) takeCleanStop() int64 {
	p := filepath.Join(s.cfg.Dir, "raft", cleanStopFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return -1
	}
	if err := os.Remove(p); err != nil {
		s.log.Warn("removing the clean-stop record", "err", err)
		return -1 // a crash of this run must not look clean
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
