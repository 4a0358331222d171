package raftstore

import (
	"context"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/nodenet"
)

// watchEvery is how often a node checks its timings and, on the leader,
// the non-voters waiting for promotion.
const watchEvery = time.Second

// promoteMaxLag is how many committed entries a non-voter may be behind
// the leader and still count as healthy (raft-autopilot's MaxTrailingLogs
// is 250).
const promoteMaxLag = 256

// watch runs until Close: it notes when this node leads (for Staleness),
// keeps the election timings right for the configuration's size, and on
// the leader checks which command form every member reads (binary.go)
// and promotes healthy non-voters while voters are missing.
func (s *Store) watch() {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	healthy := map[raft.ServerID]time.Time{}
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		conf, err := s.configuration()
		if err != nil {
			continue
		}
		s.timings(conf)
		if s.raft.State() != raft.Leader {
			clear(healthy)
			s.binary.off()
			continue
		}
		s.ledAt.Store(time.Now().UnixNano())
		s.checkBinary()
		s.promote(conf, healthy)
	}
}

// promote checks each non-voter of conf and promotes the one healthy for
// longest, once it has been healthy for PromoteAfter, while there are
// fewer than Config.Voters voters. healthy holds since when each non-voter
// has been healthy without a break.
func (s *Store) promote(conf raft.Configuration, healthy map[raft.ServerID]time.Time) {
	voters, members := 0, map[raft.ServerID]bool{}
	var waiting []raft.Server
	for _, srv := range conf.Servers {
		members[srv.ID] = true
		switch srv.Suffrage {
		case raft.Voter:
			voters++
		case raft.Nonvoter:
			waiting = append(waiting, srv)
		}
	}
	for id := range healthy {
		if !members[id] {
			delete(healthy, id)
		}
	}
	if voters >= s.cfg.Voters || len(waiting) == 0 || s.cfg.Net == nil {
		return
	}
	now := time.Now()
	var best *raft.Server
	for i, srv := range waiting {
		if !s.healthyMember(srv) {
			delete(healthy, srv.ID)
			continue
		}
		since, ok := healthy[srv.ID]
		if !ok {
			healthy[srv.ID], since = now, now
		}
		if now.Sub(since) >= s.cfg.PromoteAfter && (best == nil || since.Before(healthy[best.ID])) {
			best = &waiting[i]
		}
	}
	if best == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ApplyTimeout)
	defer cancel()
	if err := wait(ctx, s.raft.AddVoter(best.ID, best.Address, 0, s.cfg.ApplyTimeout)); err != nil {
		s.log.Warn("promoting a non-voter", "node_id", best.ID, "err", err)
		return
	}
	s.log.Info("promoted a non-voter to voter", "node_id", best.ID, "healthy_for", now.Sub(healthy[best.ID]).Round(time.Second),
		"voters", voters+1, "want", s.cfg.Voters)
	delete(healthy, best.ID)
}

// healthyMember asks a member for its status: healthy means it follows,
// heard from the leader within a heartbeat timeout, and has applied all
// but promoteMaxLag of what the leader has committed.
func (s *Store) healthyMember(srv raft.Server) bool {
	ctx, cancel := context.WithTimeout(context.Background(), memberProbe)
	defer cancel()
	st, err := s.cfg.Net.Status(ctx, string(srv.Address))
	if err != nil {
		return false
	}
	return memberHealthy(st, s.raft.CommitIndex(), s.profile.HeartbeatTimeout)
}

// memberHealthy judges a member's status against the leader's commit index.
func memberHealthy(st nodenet.NodeStatus, commit uint64, contact time.Duration) bool {
	switch {
	case st.State != raft.Follower.String():
		return false
	case st.LastContact < 0 || st.LastContact > contact.Seconds():
		return false
	case st.AppliedIndex+promoteMaxLag < commit:
		return false
	}
	return true
}
