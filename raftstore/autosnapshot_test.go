package raftstore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

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

// The size trigger scales with the state: once a snapshot holds the
// state, commands of less than half its size (but past SnapshotBytes) do
// not write it all again; commands of more than half do.
func TestStore_SnapshotBySizeWaitsForHalfTheLastSnapshot(t *testing.T) {
	const batch = 500 // pairs per entry, ~40 KB
	s := openStore(t, t.TempDir(), func(c *Config) { c.SnapshotBytes, c.TrailingBytes = 16<<10, 1<<30 })
	for i := range 8 {
		mustApply(t, s, command.Batch, "", pairBatch(t, "192.0.2.7", i*batch, batch).Body)
	}
	if err := s.raft.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		t.Fatal(err)
	}
	size, first := s.lastSnapshotSize(), s.lastSnapshotIndex()
	mustApply(t, s, command.Batch, "", pairBatch(t, "192.0.2.7", 8*batch, batch).Body)
	if n := s.fsm.sinceSnapshot.Load(); n < 16<<10 || n >= size/2 {
		t.Fatalf("one entry applied %d bytes, want between SnapshotBytes and half the %d-byte snapshot", n, size)
	}
	time.Sleep(3*snapshotCheckEvery + time.Second)
	if got := s.lastSnapshotIndex(); got != first {
		t.Fatalf("a snapshot at %d after %d bytes of commands past a %d-byte snapshot at %d", got, s.fsm.sinceSnapshot.Load(), size, first)
	}
	for i := 9; s.fsm.sinceSnapshot.Load() < size/2; i++ {
		mustApply(t, s, command.Batch, "", pairBatch(t, "192.0.2.7", i*batch, batch).Body)
	}
	eventually(t, 3*snapshotCheckEvery, "a snapshot past half the last one", func() bool { return s.lastSnapshotIndex() > first })
}

func TestSnapshotRule_Due(t *testing.T) {
	const mib = 1 << 20
	r := snapshotRule{minBytes: 64 * mib, trailing: 4 * mib, quietChecks: 5}
	for _, tc := range []struct {
		name    string
		n, last uint64
		idle    int
		want    string
	}{
		{"nothing applied", 0, 0, 9, ""},
		{"an import past SnapshotBytes, no snapshot yet", 64 * mib, 0, 0, "applied bytes"},
		{"an import past SnapshotBytes, a small snapshot", 64 * mib, 100 * mib, 0, "applied bytes"},
		{"64 MiB past an 837 MB snapshot (10M pairs)", 64 * mib, 837e6, 0, ""},
		{"half an 837 MB snapshot past it", 419e6, 837e6, 0, "applied bytes"},
		{"a 2-s pause of an import", 50 * mib, 837e6, 1, ""},
		{"a pause of 8 s", 50 * mib, 837e6, 4, ""},
		{"an import ended (10 s quiet)", 50 * mib, 837e6, 5, "quiet after applying"},
		{"an import ended long ago", 50 * mib, 837e6, 50, "quiet after applying"},
		{"quiet, within TrailingBytes", 4 * mib, 0, 5, ""},
		{"quiet, past TrailingBytes, small state", 5 * mib, 10 * mib, 5, "quiet after applying"},
		{"quiet, 5 MiB of single writes past an 8 GB snapshot", 5 * mib, 8e9, 5, ""},
		{"quiet, 1/64 of an 8 GB snapshot past it", 126e6, 8e9, 5, "quiet after applying"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.due(tc.n, tc.last, tc.idle); got != tc.want {
				t.Errorf("due(%d, %d, %d) = %q, want %q", tc.n, tc.last, tc.idle, got, tc.want)
			}
		})
	}
}

func TestQuietChecks(t *testing.T) {
	for d, want := range map[time.Duration]int{time.Second: 1, 2 * time.Second: 1, 3 * time.Second: 2, 10 * time.Second: 5} {
		if got := quietChecks(d); got != want {
			t.Errorf("quietChecks(%v) = %d, want %d", d, got, want)
		}
	}
}
