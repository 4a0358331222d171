package raftstore

import (
	"context"
	"testing"
	"time"
)

// TestRestart_AfterACrashWithOnlyABarrierPastTheSnapshotServesAtOnce: a
// follower that crashes when the only entries past its snapshot are ones
// the FSM does not apply (a leader's barrier or no-op) holds everything it
// had; restarted without a leader it serves at once, as after a clean
// stop, instead of waiting for a leader to replay nothing.
func TestRestart_AfterACrashWithOnlyABarrierPastTheSnapshotServesAtOnce(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	a, b := votersWithPairs(t, ctx, ca, 10)
	want, bDir, bAddr := b.Index().Load().Counts(), b.cfg.Dir, b.Addr()
	if err := b.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	snap := b.lastSnapshotIndex()
	if err := a.raft.Barrier(10 * time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	last := a.raft.LastIndex()
	eventually(t, 10*time.Second, "b to store the barrier", func() bool { return b.raft.LastIndex() >= last })
	if last <= snap {
		t.Fatalf("no entry past b's snapshot (%d, last %d)", snap, last)
	}
	crash(t, b)
	a.Close()
	again := mirrorAt(t, bDir, ca, "b", bAddr, false, twoVoters)
	if err := again.ReplayPending(); err != nil {
		t.Fatalf("restarted with only a barrier past its snapshot: %v", err)
	}
	if got := again.Index().Load().Counts(); got != want {
		t.Fatalf("b holds %+v, want %+v", got, want)
	}
	if err := again.CaughtUp(); err == nil {
		t.Fatal("CaughtUp without a leader")
	}
}
