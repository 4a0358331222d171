package raftstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

// snapshotCount is how many snapshots a node's data folder holds.
func snapshotCount(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, "raft", "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func TestCatchUp_BrieflyAwayMirrorCatchesUpFromTheLog(t *testing.T) {
	for _, tc := range []struct {
		name     string
		trailing uint64 // 0: the profile's
		snapshot bool   // whether the mirror must be sent a snapshot
	}{
		{"WAN profile keeps the log", 0, false},
		{"a log truncated behind the mirror", 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca := newCA(t)
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			mod := func(c *Config) { c.Profile = ProfileWAN; c.TrailingLogs = tc.trailing }
			a := mirror(t, t.TempDir(), ca, "a", true, mod)
			if err := a.WaitReady(ctx); err != nil {
				t.Fatal(err)
			}
			bDir := t.TempDir()
			b := mirror(t, bDir, ca, "b", false, mod) // a non-voter: a alone is the quorum
			if err := b.JoinCluster(ctx, a.Addr(), "s"); err != nil {
				t.Fatal(err)
			}
			mustApply(t, a, command.PairPut, "", command.PairBody{Sender: "before@example.org", IP: "192.0.2.9"})
			eventually(t, 10*time.Second, "b to catch up", func() bool { return b.Index().Load().Counts().Pairs == 1 })
			bAddr := b.Addr()
			b.Close() // takes its own shutdown snapshot
			own := snapshotCount(t, bDir)

			for i := range 50 {
				mustApply(t, a, command.PairPut, "", command.PairBody{Sender: fmt.Sprintf("away%d@example.org", i), IP: "192.0.2.9"})
			}
			if err := a.raft.Snapshot().Error(); err != nil { // compacts down to TrailingLogs
				t.Fatal(err)
			}
			back := mirrorAt(t, bDir, ca, "b", bAddr, false, mod)
			eventually(t, 15*time.Second, "b to catch up again", func() bool { return back.Index().Load().Counts().Pairs == 51 })
			if got := snapshotCount(t, bDir) > own; got != tc.snapshot {
				t.Fatalf("b was sent a snapshot: %v, want %v (snapshots %d, own %d)", got, tc.snapshot, snapshotCount(t, bDir), own)
			}
		})
	}
}
