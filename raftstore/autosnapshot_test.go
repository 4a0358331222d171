package raftstore

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

// A bulk import is a few big entries: far below the entry-count threshold,
// it must still be snapshotted so a restart does not replay it.
func TestStore_SnapshotsAfterManyBytesOfFewEntries(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, func(c *Config) { c.SnapshotBytes = 64 << 10 })
	for i := 0; i < 3; i++ {
		mustApply(t, s, command.Batch, "", pairBatch(t, "192.0.2.7", i*500, 500).Body)
	}
	snaps := filepath.Join(dir, "raft", "snapshots")
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, _ := os.ReadDir(snaps)
		if len(entries) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot in %s after 3 entries of ~%d KiB with SnapshotBytes 64 KiB", snaps, 500*80/1024)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := s.fsm.sinceSnapshot.Load(); got >= 64<<10 {
		t.Errorf("byte count after the snapshot = %d, want it reset", got)
	}
}
