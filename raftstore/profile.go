package raftstore

import (
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Profile names for Config.Profile.
const (
	// ProfileWAN suits nodes 100–300 ms apart (mirrors on different
	// continents); it is the default.
	ProfileWAN = "wan"
	// ProfileLAN suits nodes a few milliseconds apart: hashicorp/raft's
	// own defaults.
	ProfileLAN = "lan"
)

// Profile is the set of Raft timings for a distance between nodes.
// docs/cluster.md explains each number.
type Profile struct {
	// Name is ProfileWAN or ProfileLAN.
	Name string
	// HeartbeatTimeout is how long a follower waits without hearing from
	// the leader before it calls an election; the leader sends heartbeats
	// ten times as often.
	HeartbeatTimeout time.Duration
	// ElectionTimeout is how long a candidate waits for votes.
	ElectionTimeout time.Duration
	// LeaderLeaseTimeout is how long a leader stays leader without hearing
	// from a quorum.
	LeaderLeaseTimeout time.Duration
	// CommitTimeout is how long the leader waits before telling idle
	// followers the new commit index.
	CommitTimeout time.Duration
	// TransportTimeout bounds one Raft RPC; an InstallSnapshot gets it once
	// per 256 KiB of snapshot (hashicorp's TimeoutScale).
	TransportTimeout time.Duration
	// TrailingLogs is how many entries stay in the log after a snapshot, so
	// a mirror that was away briefly catches up from the log.
	TrailingLogs uint64
	// SnapshotThreshold is how many entries since the last snapshot start a
	// new one.
	SnapshotThreshold uint64
}

// ProfileByName returns the named profile; "" is ProfileWAN.
func ProfileByName(name string) (Profile, error) {
	switch name {
	case "", ProfileWAN:
		return Profile{Name: ProfileWAN, HeartbeatTimeout: 3 * time.Second, ElectionTimeout: 3 * time.Second,
			LeaderLeaseTimeout: 1500 * time.Millisecond, CommitTimeout: 50 * time.Millisecond,
			TransportTimeout: 10 * time.Second, TrailingLogs: 32768, SnapshotThreshold: 8192}, nil
	case ProfileLAN:
		return Profile{Name: ProfileLAN, HeartbeatTimeout: time.Second, ElectionTimeout: time.Second,
			LeaderLeaseTimeout: 500 * time.Millisecond, CommitTimeout: 50 * time.Millisecond,
			TransportTimeout: 10 * time.Second, TrailingLogs: 10240, SnapshotThreshold: 8192}, nil
	}
	return Profile{}, fmt.Errorf("raft profile %q: want %s or %s", name, ProfileWAN, ProfileLAN)
}

// apply sets the profile's timings on rc.
func (p Profile) apply(rc *raft.Config) {
	rc.HeartbeatTimeout, rc.ElectionTimeout = p.HeartbeatTimeout, p.ElectionTimeout
	rc.LeaderLeaseTimeout, rc.CommitTimeout = p.LeaderLeaseTimeout, p.CommitTimeout
}

// soloTimeout is the heartbeat and election timeout of a node that is the
// only server of its configuration: nobody else can lead, so there is no
// reason to wait for a WAN heartbeat before electing itself (a one-node
// server starts in a second or two). It is raised to the lease timeout,
// which raft requires to be no longer. timings switches to the profile's
// as soon as a second server is in the configuration.
const soloTimeout = time.Second

// timings makes Raft's reloadable timings match the configuration size:
// solo timings for a lone server, the profile's otherwise. It runs at
// start and on every watch tick.
func (s *Store) timings(conf raft.Configuration) {
	hb, el := s.profile.HeartbeatTimeout, s.profile.ElectionTimeout
	if len(conf.Servers) == 1 && conf.Servers[0].ID == raft.ServerID(s.id) {
		solo := max(soloTimeout, s.profile.LeaderLeaseTimeout)
		hb, el = min(hb, solo), min(el, solo)
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cur := s.raft.ReloadableConfig()
	if cur.HeartbeatTimeout == hb && cur.ElectionTimeout == el {
		return
	}
	cur.HeartbeatTimeout, cur.ElectionTimeout = hb, el
	if err := s.raft.ReloadConfig(cur); err != nil {
		s.log.Warn("changing raft timings", "heartbeat", hb, "election", el, "err", err)
		return
	}
	s.log.Debug("raft timings", "heartbeat", hb, "election", el, "servers", len(conf.Servers))
}
