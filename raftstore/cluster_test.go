package raftstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// join adds s to the leader's cluster as a voter (the join command of a
// later issue will do this over the API).
func join(t *testing.T, leader, s *Store) {
	t.Helper()
	f := leader.raft.AddVoter(raft.ServerID(s.NodeID()), raft.ServerAddress(s.Addr()), 0, 10*time.Second)
	if err := f.Error(); err != nil {
		t.Fatalf("adding %s: %v", s.NodeID(), err)
	}
}

func TestCluster_FollowerCatchesUpFromSnapshotAndLog(t *testing.T) {
	leader := openStore(t, t.TempDir(), func(c *Config) { c.TrailingLogs = 5; c.SnapshotThreshold = 5 })
	for i := range 5 {
		if _, err := leader.Apply(context.Background(), pairBatch(t, fmt.Sprintf("192.0.2.%d", i), i*100, 100)); err != nil {
			t.Fatal(err)
		}
	}
	mustApply(t, leader, command.TokenPut, "", command.TokenBody{Name: "ops", Hash: secretHash("x"), Role: "admin"})
	// Snapshot and compact, so a new follower must be sent the snapshot.
	if err := leader.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustApply(t, leader, command.PairPut, "", command.PairBody{Sender: fmt.Sprintf("tail%d@example.org", i), IP: "203.0.113.1"})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	follower, err := Open(ctx, Config{Dir: dir, Bind: "127.0.0.1:0", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follower.Close() })
	join(t, leader, follower)
	if err := follower.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	want := leader.Index().Load().Counts()
	eventually(t, 10*time.Second, "follower to catch up", func() bool { return follower.Index().Load().Counts() == want })
	if snaps, err := os.ReadDir(filepath.Join(dir, "raft", "snapshots")); err != nil || len(snaps) == 0 {
		t.Fatalf("the follower was not sent a snapshot: %v %v", snaps, err)
	}
	if id, a := follower.Leader(); id != leader.NodeID() || a != leader.Addr() {
		t.Fatalf("follower sees leader %s at %s, want %s at %s", id, a, leader.NodeID(), leader.Addr())
	}
	if follower.IsLeader() || follower.Token(secretHash("x")) == nil {
		t.Fatal("follower is leader or lacks the token")
	}
	if _, err := follower.Apply(ctx, env(t, command.PairPut, 1, "", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"})); err == nil {
		t.Fatal("a follower accepted a write")
	}

	// A write on the leader reaches the follower; so does a restart of it.
	mustApply(t, leader, command.PairPut, "", command.PairBody{Sender: "late@example.org", IP: "203.0.113.1"})
	ent := leader.Index().Load().EntityOf(addr("203.0.113.1"))
	eventually(t, 10*time.Second, "replication", func() bool {
		return follower.Index().Load().Pair(ent.ID, []byte("late@example.org")) != nil
	})
	follower.Close()
	follower2, err := Open(ctx, Config{Dir: dir, Bind: follower.Addr(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follower2.Close() })
	if err := follower2.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if follower2.Index().Load().Pair(ent.ID, []byte("late@example.org")) == nil {
		t.Fatal("restarted follower lost data")
	}
}
