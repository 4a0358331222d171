package raftstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
)

// TestStore_BinaryEntriesOnlyWhenEveryMemberReadsThem: while a member
// says it runs a build before binary entries (version 6), the leader
// writes single writes as JSON entries; once every member reads them, as
// binary ones, and every node applies them, written on the leader or
// forwarded by a follower.
func TestStore_BinaryEntriesOnlyWhenEveryMemberReadsThem(t *testing.T) {
	a, fs := threeNodes(t)
	fs[1].reads.Store(6)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := 0
	write := func(s *Store) byte {
		t.Helper()
		n++
		e := env(t, command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: fmt.Sprintf("w%d@example.org", n), IP: "192.0.2.1"})
		if r, err := s.Apply(ctx, e); err != nil || r.Err != nil {
			t.Fatal(err, r.Err)
		}
		var l raft.Log
		for i := a.raft.LastIndex(); i > 0; i-- {
			if err := a.logs.GetLog(i, &l); err != nil {
				t.Fatal(err)
			}
			if l.Type == raft.LogCommand {
				return l.Data[0]
			}
		}
		return 0
	}
	time.Sleep(3 * watchEvery) // the leader has asked every member
	for range 3 {
		if b := write(a); b != '{' {
			t.Fatalf("with a member on version 6 the leader wrote an entry starting %#x", b)
		}
	}
	fs[1].reads.Store(0)
	eventually(t, 10*time.Second, "a binary entry once every member reads them", func() bool { return write(a) == command.BinaryMark })
	if b := write(fs[0]); b != command.BinaryMark {
		t.Errorf("a write forwarded by a follower went into an entry starting %#x", b)
	}
	for _, s := range append(fs, a) {
		eventually(t, 10*time.Second, "every write applied on every node", func() bool {
			return s.Index().Load().Counts().Pairs == n
		})
	}
	a.binary.off()
	if b := write(a); b != '{' {
		t.Errorf("after a join began the leader wrote an entry starting %#x", b)
	}
}
