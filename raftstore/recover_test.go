package raftstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

// reopenTLS starts a stopped TLS node again on its data folder and address.
func reopenTLS(t *testing.T, ca, dir, id, addr string) *Store {
	t.Helper()
	n, err := nodenetOn(t, ca, id, addr)
	if err != nil {
		t.Fatalf("reopening the port %s: %v", addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, Config{Dir: dir, NodeID: id, Net: n, Logger: quietLogger(), JoinTokenHash: HashJoinToken("s"),
		Voters: 3, PromoteAfter: -1, ForwardHold: time.Second})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestRecover_LoneSurvivorLeadsWithEverythingCommitted loses two of three
// voters for good: the survivor, recovered with itself only, elects
// itself, holds every committed write and what it spooled meanwhile,
// accepts writes, and a fresh node joins it.
func TestRecover_LoneSurvivorLeadsWithEverythingCommitted(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, fs := threeNodes(t)
	b, c := fs[0], fs[1]
	const committed = 20
	for i := range committed {
		mustApply(t, a, command.PairPut, "", command.PairBody{Sender: fmt.Sprintf("u%d@example.org", i), IP: "192.0.2.1"})
	}
	eventually(t, 10*time.Second, "b to apply every write", func() bool { return b.Index().Load().Counts().Pairs == committed })
	a.Close()
	c.Close()

	// Without a quorum b spools a confirmation.
	spooled := env(t, command.PairPut, time.Now().Unix(), "while-alone", command.PairBody{Sender: "spooled@example.org", IP: "192.0.2.1"})
	if _, ok, err := b.ApplyOrSpool(ctx, spooled); err != nil || !ok {
		t.Fatalf("write without a quorum: spooled=%v err=%v, want spooled", ok, err)
	}
	bDir, bAddr := b.cfg.Dir, b.Addr()
	b.Close()

	rep, err := Recover(ctx, bDir, []Survivor{{ID: "b", Address: bAddr}}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Old) != 3 || len(rep.New) != 1 || rep.New[0].ID != "b" || !rep.New[0].Voter || rep.LastIndex == 0 {
		t.Fatalf("report %+v: want old a, b, c and new b alone", rep)
	}
	t.Logf("recover took %v, last index %d", rep.Took, rep.LastIndex)

	start := time.Now()
	s := reopenTLS(t, ca, bDir, "b", bAddr)
	eventually(t, 20*time.Second, "the survivor to lead", s.IsLeader)
	t.Logf("leader %v after the restart", time.Since(start))
	eventually(t, 10*time.Second, "the spooled write to commit", func() bool { return s.Index().Load().Counts().Pairs == committed+1 })
	mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "after@example.org", IP: "192.0.2.1"})
	if !s.IsMember() {
		t.Fatal("the recovered node does not see itself as a member at its address")
	}

	d := tlsNode(t, ca, "d", false, "s")
	if err := d.JoinCluster(ctx, s.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "a fresh node to catch up", func() bool { return d.Index().Load().Counts().Pairs == committed+2 })
	ms, err := s.Members(ctx)
	if err != nil || len(ms) != 2 {
		t.Fatalf("members %+v %v, want b and d", ms, err)
	}
}
