package raftstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
)

// TestStore_OpenRemovesASnapshotCutShort: a shutdown snapshot the process
// did not finish (--shutdown-timeout passed while it was written, a kill)
// leaves its temporary folder; raft ignores it but never removes it, so
// every such stop kept a partial copy of the state on disk for good. The
// next Open removes it and keeps the finished snapshots and the data.
func TestStore_OpenRemovesASnapshotCutShort(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.9"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raftDir := filepath.Join(dir, "raft")
	snaps, err := raft.NewFileSnapshotStore(raftDir, 2, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := snaps.Create(raft.SnapshotVersionMax, 1000, 2, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	// The process ends here: the sink is neither closed nor cancelled.
	before := listSnapshotFolders(t, raftDir)
	if len(before) < 2 || !containsTmp(before) {
		t.Fatalf("setup: snapshot folders %v, want a finished one and a .tmp", before)
	}

	s = openStore(t, dir, nil)
	after := listSnapshotFolders(t, raftDir)
	if containsTmp(after) {
		t.Fatalf("snapshot folders after reopening %v: the partial snapshot is still there", after)
	}
	if len(after) != len(before)-1 {
		t.Fatalf("snapshot folders %v after reopening, %v before: a finished snapshot went too", after, before)
	}
	if s.Index().Load().Counts().Pairs != 1 {
		t.Fatalf("reopened store holds %d pairs, want 1", s.Index().Load().Counts().Pairs)
	}
}

func listSnapshotFolders(t *testing.T, raftDir string) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(raftDir, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func containsTmp(names []string) bool {
	for _, n := range names {
		if strings.HasSuffix(n, ".tmp") {
			return true
		}
	}
	return false
}
