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

// TestBinaryGate_AnswersCountOnlyInTheirTermAndUntilTheMemberJoinsAgain:
// binary entries stay off while a member's answer is not from this
// leader's term (it led before, another leader took a join or saw a
// member downgraded, and it leads again) or predates the member's latest
// join (a node rebuilt on an older release rejoins under its old ID and
// has not answered yet); a member that does not answer in the check
// counts as old then.
func TestBinaryGate_AnswersCountOnlyInTheirTermAndUntilTheMemberJoinsAgain(t *testing.T) {
	conf := raft.Configuration{Servers: []raft.Server{{ID: "a"}, {ID: "b"}, {ID: "c"}}}
	heard := map[raft.ServerID]int{"b": command.Version, "c": command.Version}
	silent := map[raft.ServerID]int{"c": command.Version} // b does not answer
	for _, tc := range []struct {
		name string
		run  func(g *binaryGate) bool // allowed at the end
		want bool
	}{
		{"every member answered in this term", func(g *binaryGate) bool {
			g.set(5, g.generation(), heard, conf, "a")
			return g.allowed(5)
		}, true},
		{"a silent member keeps its answer within the term", func(g *binaryGate) bool {
			g.set(5, g.generation(), heard, conf, "a")
			g.set(5, g.generation(), silent, conf, "a")
			return g.allowed(5)
		}, true},
		{"leading again in a later term, before a check", func(g *binaryGate) bool {
			g.set(5, g.generation(), heard, conf, "a")
			return g.allowed(7)
		}, false},
		{"leading again, a member silent in the new term", func(g *binaryGate) bool {
			g.set(5, g.generation(), heard, conf, "a")
			g.set(7, g.generation(), silent, conf, "a")
			return g.allowed(7)
		}, false},
		{"a member joins again and has not answered", func(g *binaryGate) bool {
			g.set(5, g.generation(), heard, conf, "a")
			g.off("b")
			g.set(5, g.generation(), silent, conf, "a")
			return g.allowed(5)
		}, false},
		{"a member joins again and answers", func(g *binaryGate) bool {
			g.set(5, g.generation(), heard, conf, "a")
			g.off("b")
			g.set(5, g.generation(), heard, conf, "a")
			return g.allowed(5)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.run(&binaryGate{}); got != tc.want {
				t.Errorf("binary entries allowed: %v, want %v", got, tc.want)
			}
		})
	}
}
