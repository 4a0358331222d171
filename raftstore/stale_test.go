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

// twoVoters is the voters' configuration of the restart tests: a leader
// and one follower, neither of which can elect itself alone.
func twoVoters(c *Config) { c.Voters = 2; c.PromoteAfter = -1 }

// votersWithPairs starts voters a (leading) and b, applies pairs pairs and
// waits until b holds them.
func votersWithPairs(t *testing.T, ctx context.Context, ca string, pairs int) (a, b *Store) {
	t.Helper()
	a = mirror(t, t.TempDir(), ca, "a", true, twoVoters)
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	b = mirror(t, t.TempDir(), ca, "b", false, twoVoters)
	if err := b.JoinCluster(ctx, a.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	for i := range pairs {
		mustApply(t, a, command.PairPut, "", command.PairBody{Sender: fmt.Sprintf("u%d@example.org", i), IP: "192.0.2.9"})
	}
	want := a.Index().Load().Counts()
	eventually(t, 10*time.Second, "b to catch up", func() bool { return b.Index().Load().Counts() == want })
	return a, b
}

func TestRestart_FollowerServesItsDataWithoutALeader(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	a, b := votersWithPairs(t, ctx, ca, 20)
	want, bDir := b.Index().Load().Counts(), b.cfg.Dir

	// b stops cleanly, then the only other voter goes away: b restarts
	// with no quorum to learn the commit index from.
	bAddr := b.Addr()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	again := mirrorAt(t, bDir, ca, "b", bAddr, false, twoVoters)
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
	a, b := votersWithPairs(t, ctx, ca, 10)
	aDir, bDir := a.cfg.Dir, b.cfg.Dir
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
	again := mirrorAt(t, bDir, ca, "b", bAddr, false, twoVoters)
	err := again.ReplayPending()
	if err == nil || !strings.Contains(err.Error(), "past its snapshot") {
		t.Fatalf("after a crash without a leader: ReplayPending %v, index %+v", err, again.Index().Load().Counts())
	}
	mirrorAt(t, aDir, ca, "a", aAddr, false, twoVoters)
	eventually(t, 15*time.Second, "the replay once a leader is back", func() bool { return again.ReplayPending() == nil })
	if got := again.Index().Load().Counts(); got != want {
		t.Fatalf("ReplayPending reports the replay done while b holds %+v, want %+v", got, want)
	}
}

// TestRestart_CleanStopServesEverythingItHeldAlone stops a follower
// cleanly, then the leader: restarted alone, the follower holds what its
// index held when it stopped and serves at once (ReplayPending nil),
// whatever its last entries were.
func TestRestart_CleanStopServesEverythingItHeldAlone(t *testing.T) {
	cases := []struct {
		name string
		// last runs with a leading and b following, and returns the
		// follower to stop and the leader; stop ends what it started once
		// the follower has stopped.
		last func(t *testing.T, a, b *Store) (follower, leader *Store, stop func())
	}{
		{"a new leader's no-op is its last entry", func(t *testing.T, a, b *Store) (*Store, *Store, func()) {
			before := a.raft.LastIndex()
			if err := a.raft.LeadershipTransfer().Error(); err != nil {
				t.Fatal(err)
			}
			eventually(t, 10*time.Second, "a to apply b's no-op", func() bool {
				last := b.raft.LastIndex()
				return b.IsLeader() && last > before && a.raft.AppliedIndex() == last
			})
			if a.raft.AppliedIndex() <= a.fsm.seen.Load() {
				t.Fatalf("a's last entry reached the FSM (applied %d, FSM %d): not the case under test", a.raft.AppliedIndex(), a.fsm.seen.Load())
			}
			return a, b, func() {}
		}},
		{"writes arrive while it stops", func(t *testing.T, a, b *Store) (*Store, *Store, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; ctx.Err() == nil; i++ {
					wctx, wcancel := context.WithTimeout(ctx, time.Second)
					_, _ = a.Apply(wctx, env(t, command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: fmt.Sprintf("w%d@example.org", i), IP: "192.0.2.9"}))
					wcancel()
				}
			}()
			held := b.fsm.seen.Load()
			eventually(t, 10*time.Second, "b to apply the writes", func() bool { return b.fsm.seen.Load() > held+20 })
			return b, a, func() { cancel(); <-done }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ca := newCA(t)
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			a, b := votersWithPairs(t, ctx, ca, 10)

			// The follower stops cleanly, then the leader: the follower
			// restarts with no quorum to learn the commit index from.
			f, l, stop := tc.last(t, a, b)
			fDir, fAddr, fID := f.cfg.Dir, f.Addr(), f.id
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			stop()
			held := f.Index().Load().Counts() // the index no longer moves once f is closed
			l.Close()
			again := mirrorAt(t, fDir, ca, fID, fAddr, false, twoVoters)
			if err := again.ReplayPending(); err != nil {
				t.Fatalf("after a clean stop: %v (index %+v)", err, again.Index().Load().Counts())
			}
			if got := again.Index().Load().Counts(); got != held {
				t.Fatalf("restarted alone, %s holds %+v, it held %+v when it stopped", fID, got, held)
			}
		})
	}
}
