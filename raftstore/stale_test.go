package raftstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

func TestStale_LeaderAndLoneServerAreNeverStale(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	if err := s.Stale(time.Nanosecond); err != nil {
		t.Fatalf("a one-node cluster is stale: %v", err)
	}
	if d := s.Staleness(); d != 0 {
		t.Fatalf("staleness %v on the leader, want 0", d)
	}
	if err := s.Stale(0); err != nil {
		t.Fatalf("limit 0 (off) reported %v", err)
	}
}

func TestStale_CutOffFollowerIsStaleUntilTheLeaderReturns(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	aDir := t.TempDir()
	a := mirror(t, aDir, ca, "a", true, nil)
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	b := mirror(t, t.TempDir(), ca, "b", false, nil) // stays a non-voter: a alone is the quorum
	if err := b.JoinCluster(ctx, a.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	const limit = 700 * time.Millisecond
	if err := b.Stale(limit); err != nil {
		t.Fatalf("a follower in contact is stale: %v", err)
	}
	aAddr := a.Addr()
	a.Close()
	var stale error
	eventually(t, 10*time.Second, "b to become stale", func() bool { stale = b.Stale(limit); return stale != nil })
	if !strings.Contains(stale.Error(), "stale: no contact with the leader for") {
		t.Fatalf("reason %q does not say what happened", stale)
	}
	mirrorAt(t, aDir, ca, "a", aAddr, false, nil)
	eventually(t, 15*time.Second, "b to hear from the leader again", func() bool { return b.Stale(limit) == nil })
}

func TestRestart_FollowerServesItsDataWithoutALeader(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	voters := func(c *Config) { c.Voters = 2; c.PromoteAfter = -1 }
	a := mirror(t, t.TempDir(), ca, "a", true, voters)
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	bDir := t.TempDir()
	b := mirror(t, bDir, ca, "b", false, voters)
	if err := b.JoinCluster(ctx, a.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		mustApply(t, a, command.PairPut, "", command.PairBody{Sender: fmt.Sprintf("u%d@example.org", i), IP: "192.0.2.9"})
	}
	want := a.Index().Load().Counts()
	eventually(t, 10*time.Second, "b to catch up", func() bool { return b.Index().Load().Counts() == want })

	// b stops cleanly, then the only other voter goes away: b restarts
	// with no quorum to learn the commit index from.
	bAddr := b.Addr()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	again := mirrorAt(t, bDir, ca, "b", bAddr, false, voters)
	if got := again.Index().Load().Counts(); got != want {
		t.Fatalf("restarted without a leader, b holds %+v, want %+v", got, want)
	}
	if !again.HasData() {
		t.Fatal("HasData is false on a restarted node")
	}
	if err := again.CaughtUp(); err == nil || !strings.Contains(err.Error(), "no leader known") {
		t.Fatalf("CaughtUp: %v, want no leader known", err)
	}
	var stale error
	eventually(t, 10*time.Second, "b to become stale", func() bool { stale = again.Stale(500 * time.Millisecond); return stale != nil })
	if !strings.Contains(stale.Error(), "since start") {
		t.Fatalf("reason %q, want no contact since start", stale)
	}
}

// crash stops s as a kill would: no shutdown snapshot.
func crash(t *testing.T, s *Store) {
	t.Helper()
	s.closeOnce.Do(func() {
		close(s.stop)
		if err := s.raft.Shutdown().Error(); err != nil {
			t.Fatal(err)
		}
		_ = s.closeParts()
	})
}

func TestRestart_AfterACrashReplayIsPendingUntilALeaderReturns(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	voters := func(c *Config) { c.Voters = 2; c.PromoteAfter = -1 }
	aDir := t.TempDir()
	a := mirror(t, aDir, ca, "a", true, voters)
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	bDir := t.TempDir()
	b := mirror(t, bDir, ca, "b", false, voters)
	if err := b.JoinCluster(ctx, a.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		mustApply(t, a, command.PairPut, "", command.PairBody{Sender: fmt.Sprintf("u%d@example.org", i), IP: "192.0.2.9"})
	}
	// An import large enough that applying it takes the FSM a while after
	// raft has handed it over (and counts it applied).
	if _, err := a.Apply(ctx, importEnvelope(t, 0, 20000, false)); err != nil {
		t.Fatal(err)
	}
	want := a.Index().Load().Counts()
	eventually(t, 10*time.Second, "b to catch up", func() bool { return b.Index().Load().Counts() == want })
	if err := b.ReplayPending(); err != nil {
		t.Fatalf("a running node reports %v", err)
	}

	aAddr, bAddr := a.Addr(), b.Addr()
	crash(t, b)
	a.Close()
	again := mirrorAt(t, bDir, ca, "b", bAddr, false, voters)
	err := again.ReplayPending()
	if err == nil || !strings.Contains(err.Error(), "past its snapshot") {
		t.Fatalf("after a crash without a leader: ReplayPending %v, index %+v", err, again.Index().Load().Counts())
	}
	mirrorAt(t, aDir, ca, "a", aAddr, false, voters)
	eventually(t, 15*time.Second, "the replay once a leader is back", func() bool { return again.ReplayPending() == nil })
	if got := again.Index().Load().Counts(); got != want {
		t.Fatalf("ReplayPending reports the replay done while b holds %+v, want %+v", got, want)
	}
}
