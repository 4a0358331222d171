package raftstore

import (
	"fmt"
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
	if c, a := s.raft.CommitIndex(), s.raft.AppliedIndex(); a < c {
		return fmt.Errorf("catching up: applied index %d of %d committed", a, c)
	}
	return nil
}

// solo reports whether this node is the only server of its configuration.
func (s *Store) solo() bool {
	conf, err := s.configuration()
	return err == nil && len(conf.Servers) == 1 && conf.Servers[0].ID == raft.ServerID(s.id)
}

// HasData reports whether this node started on existing Raft state (a
// snapshot or log from an earlier run), so its index holds data worth
// serving before it catches up.
func (s *Store) HasData() bool { return s.hadState }
