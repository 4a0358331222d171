package raftstore

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/nodenet"
)

// mirror opens a TLS cluster node in dir on the LAN profile with the given
// changes to its Config; bootstrap makes it the first node.
func mirror(t *testing.T, dir, ca, id string, bootstrap bool, mod func(*Config)) *Store {
	t.Helper()
	return mirrorAt(t, dir, ca, id, "127.0.0.1:0", bootstrap, mod)
}

// mirrorAt is mirror on a given inter-node address (a restart).
func mirrorAt(t *testing.T, dir, ca, id, addr string, bootstrap bool, mod func(*Config)) *Store {
	t.Helper()
	n, err := nodenetOn(t, ca, id, addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Dir: dir, NodeID: id, Net: n, Bootstrap: bootstrap, Logger: quietLogger(), Profile: ProfileLAN,
		JoinTokenHash: HashJoinToken("s"), ForwardHold: 3 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// roles returns each member's suffrage as the leader's configuration has it.
func roles(t *testing.T, s *Store) map[string]raft.ServerSuffrage {
	t.Helper()
	conf, err := s.configuration()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]raft.ServerSuffrage{}
	for _, srv := range conf.Servers {
		out[string(srv.ID)] = srv.Suffrage
	}
	return out
}

func TestPromote_JoinsAsNonVoterAndIsPromotedOnceStable(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	const after = 2 * time.Second
	limits := func(c *Config) { c.Voters = 2; c.PromoteAfter = after }
	a := mirror(t, t.TempDir(), ca, "a", true, limits)
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	mustApply(t, a, command.PairPut, "", command.PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.9"})
	b := mirror(t, t.TempDir(), ca, "b", false, limits)
	joined := time.Now()
	if err := b.JoinCluster(ctx, a.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	if r := roles(t, a)["b"]; r != raft.Nonvoter {
		t.Fatalf("b joined as %v, want a non-voter", r)
	}
	eventually(t, 15*time.Second, "b to be promoted", func() bool { return roles(t, a)["b"] == raft.Voter })
	if took := time.Since(joined); took < after {
		t.Fatalf("b promoted %v after joining, before the %v stabilisation period", took, after)
	}
	if b.Index().Load().Counts().Pairs != 1 {
		t.Fatal("b was promoted before it caught up")
	}

	// With the voters complete, a third node stays a non-voter mirror.
	c := mirror(t, t.TempDir(), ca, "c", false, limits)
	if err := c.JoinCluster(ctx, b.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(after + 2*watchEvery)
	if r := roles(t, a)["c"]; r != raft.Nonvoter {
		t.Fatalf("c is %v with %d voters wanted and 2 present, want a non-voter", r, 2)
	}

	// Removing a voter makes room: the healthy non-voter is promoted.
	if err := a.RemoveMember(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "c to be promoted in b's place", func() bool { return roles(t, a)["c"] == raft.Voter })
}

func TestPromote_DeadNonVoterIsNotPromoted(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	limits := func(c *Config) { c.Voters = 3; c.PromoteAfter = time.Second }
	a := mirror(t, t.TempDir(), ca, "a", true, limits)
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	b := mirror(t, t.TempDir(), ca, "b", false, limits)
	if err := b.JoinCluster(ctx, a.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	b.Close() // dies while it would be catching up
	time.Sleep(3 * time.Second)
	if r := roles(t, a)["b"]; r != raft.Nonvoter {
		t.Fatalf("a dead node became %v", r)
	}
	// The quorum never counted it: the leader still commits alone.
	mustApply(t, a, command.PairPut, "", command.PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.9"})
}

func TestMemberHealthy_Table(t *testing.T) {
	const commit = 1000
	for _, tc := range []struct {
		name string
		st   nodenet.NodeStatus
		want bool
	}{
		{"caught up follower", nodenet.NodeStatus{State: "Follower", LastContact: 0.1, AppliedIndex: commit}, true},
		{"within the lag", nodenet.NodeStatus{State: "Follower", LastContact: 0.1, AppliedIndex: commit - promoteMaxLag}, true},
		{"too far behind", nodenet.NodeStatus{State: "Follower", LastContact: 0.1, AppliedIndex: commit - promoteMaxLag - 1}, false},
		{"no contact yet", nodenet.NodeStatus{State: "Follower", LastContact: -1, AppliedIndex: commit}, false},
		{"contact too old", nodenet.NodeStatus{State: "Follower", LastContact: 5, AppliedIndex: commit}, false},
		{"candidate", nodenet.NodeStatus{State: "Candidate", LastContact: 0.1, AppliedIndex: commit}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := memberHealthy(tc.st, commit, time.Second); got != tc.want {
				t.Fatalf("healthy = %v, want %v", got, tc.want)
			}
		})
	}
}
