package raftstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Two mirrors of a cluster upgraded from the previous release (a format-1
// snapshot at index 11, pairs in the log past it, several in one second)
// hold the same records: one restores the old snapshot and replays the log
// past it, the other replays the whole log (it never took a snapshot).
// They must show secondaries one zone serial.
func TestStore_UpgradedMirrorsShowOneZoneSerial(t *testing.T) {
	serial := func(dropSnapshot bool) (uint32, int) {
		dir := t.TempDir()
		untar(t, "testdata/prev-release.tar.gz", dir)
		if dropSnapshot {
			if err := os.RemoveAll(filepath.Join(dir, "raft", "snapshots")); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		s, err := Open(ctx, Config{Dir: dir, Bind: "127.0.0.1:0", Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		eventually(t, 30*time.Second, "every pair applied", func() bool { return s.Index().Load().Counts().Pairs == 352 })
		v := s.Index().Load()
		return v.ZoneSerial(), v.Counts().Pairs
	}
	restored, n1 := serial(false)
	replayed, n2 := serial(true)
	if restored != replayed || n1 != n2 {
		t.Fatalf("zone serial %d (%d pairs) after the old snapshot and the log, %d (%d pairs) after the whole log; want one serial", restored, n1, replayed, n2)
	}
}
