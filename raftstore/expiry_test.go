package raftstore

import (
	"context"
	"testing"

	"github.com/wlns/wlns/command"
)

func TestStore_RestartKeepsLastQueried(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.1"})
	id := entityIDOf(s.Index().Load(), "192.0.2.1")
	touchAt := func(s *Store, age int64) int64 {
		touch := command.TouchBody{Entities: []command.TouchEntity{{ID: id, Pairs: []command.TouchItem{{Key: "dave@umkc.edu", Age: age}}}}}
		e := env(t, command.Touch, t0+10*86400, "", touch)
		if r, err := s.Apply(context.Background(), e); err != nil || r.Err != nil {
			t.Fatalf("touch: %v %v", err, r.Err)
		}
		return e.Time - age
	}
	lq := func(s *Store) int64 { return s.Index().Load().Pair(id, []byte("dave@umkc.edu")).LastQueried }
	want := touchAt(s, 100)
	s.Close()
	// Replayed from the log.
	s = openStore(t, dir, nil)
	if got := lq(s); got != want {
		t.Fatalf("after restart (log replay) LastQueried = %d, want %d", got, want)
	}
	want = touchAt(s, 50)
	if err := s.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Restored from the snapshot.
	s = openStore(t, dir, nil)
	if got := lq(s); got != want {
		t.Fatalf("after restart (snapshot) LastQueried = %d, want %d", got, want)
	}
	s.Close()
}
