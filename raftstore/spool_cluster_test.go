package raftstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/command"
)

// spoolNode is one restartable node of a test cluster: same folder, same
// address, same certificate name.
type spoolNode struct {
	t    *testing.T
	ca   string
	id   string
	dir  string
	addr string
	s    *Store
	reg  *prometheus.Registry
}

// start opens the node on its folder and address (a fresh port the first
// time).
func (n *spoolNode) start(bootstrap bool) {
	n.t.Helper()
	addr := n.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	net, err := nodenetOn(n.t, n.ca, n.id, addr)
	if err != nil {
		n.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n.reg = prometheus.NewRegistry()
	s, err := Open(ctx, Config{Dir: n.dir, NodeID: n.id, Net: net, Bootstrap: bootstrap, Logger: quietLogger(), Registerer: n.reg,
		JoinTokenHash: HashJoinToken("s"), Voters: 3, PromoteAfter: 50 * time.Millisecond,
		ForwardHold: time.Second, ApplyTimeout: 2 * time.Second})
	if err != nil {
		net.Close()
		n.t.Fatal(err)
	}
	n.s, n.addr = s, s.Addr()
	n.t.Cleanup(func() { s.Close() })
}

func (n *spoolNode) stop() {
	n.t.Helper()
	if err := n.s.Close(); err != nil {
		n.t.Fatalf("closing %s: %v", n.id, err)
	}
}

// spoolCluster starts three voters a (the leader), b and c.
func spoolCluster(t *testing.T) []*spoolNode {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ns []*spoolNode
	for i, id := range []string{"a", "b", "c"} {
		n := &spoolNode{t: t, ca: ca, id: id, dir: t.TempDir()}
		n.start(i == 0)
		if i > 0 {
			if err := n.s.JoinCluster(ctx, ns[0].addr, "s"); err != nil {
				t.Fatal(err)
			}
		}
		if err := n.s.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		ns = append(ns, n)
	}
	eventually(t, 20*time.Second, "three voters", func() bool {
		ms, err := ns[0].s.Members(ctx)
		voters := 0
		for _, m := range ms {
			if m.Voter {
				voters++
			}
		}
		return err == nil && voters == 3
	})
	return ns
}

func TestApplyOrSpool_NoQuorumSpoolsDurablyAndCommitsOnce(t *testing.T) {
	const bulk = 200
	ns := spoolCluster(t)
	a, b, c := ns[0], ns[1], ns[2]
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	now := time.Now().Unix()
	group := env(t, command.EntityPut, now, "", command.EntityBody{Group: true, Name: "umkc", Prefixes: []string{"198.51.100.0/24"}})
	pair := env(t, command.PairPut, now, "pair-1", command.PairBody{Sender: "dave@umkc.edu", IP: "198.51.100.7"})
	bad := env(t, command.MembersAdd, now, "bad-1", command.MembersBody{Entity: 999, Prefixes: []string{"192.0.2.0/24"}})

	// With quorum, ApplyOrSpool is Apply.
	if res, spooled, err := a.s.ApplyOrSpool(ctx, env(t, command.PairPut, now, "", command.PairBody{Sender: "before@x.example", IP: "192.0.2.1"})); err != nil || spooled || !res.Created {
		t.Fatalf("with quorum: %+v spooled=%v %v", res, spooled, err)
	}

	b.stop()
	c.stop()
	for _, e := range []*command.Envelope{group, pair, pair, bad} {
		res, spooled, err := a.s.ApplyOrSpool(ctx, e)
		if err != nil || !spooled {
			t.Fatalf("%s without quorum: %+v spooled=%v %v, want spooled", e.Type, res, spooled, err)
		}
	}
	if group.ReqID == "" {
		t.Fatal("a spooled envelope without a ReqID was not given one")
	}
	del := env(t, command.PairDelete, now, "", command.PairBody{Sender: "before@x.example", IP: "192.0.2.1"})
	if _, spooled, err := a.s.ApplyOrSpool(ctx, del); spooled || !errors.Is(err, ErrNoLeader) {
		t.Fatalf("a delete without quorum: spooled=%v %v, want ErrNoLeader and no spool", spooled, err)
	}
	if p, _ := a.s.SpoolCounts(); p != 3 {
		t.Fatalf("pending %d, want 3 (the repeated ReqID is one entry)", p)
	}
	// More writes queue behind the pending ones at once (no 1 s wait each).
	start := time.Now()
	for i := range bulk {
		e := env(t, command.PairPut, now, "", command.PairBody{Sender: fmt.Sprintf("u%d@umkc.edu", i), IP: "198.51.100.7"})
		if _, spooled, err := a.s.ApplyOrSpool(ctx, e); err != nil || !spooled {
			t.Fatalf("bulk write %d: spooled=%v %v", i, spooled, err)
		}
	}
	t.Logf("spooled %d writes in %v (fsync each)", bulk, time.Since(start))

	// The spool survives a restart of the node that holds it.
	a.stop()
	a.start(false)
	pending, _, err := a.s.SpoolEntries()
	if err != nil || len(pending) != 3+bulk || pending[0].Envelope.ReqID != group.ReqID || pending[1].Envelope.Time != now {
		t.Fatalf("after restart: %d entries %v, want the %d entries in order with their times", len(pending), err, 3+bulk)
	}

	b.start(false)
	c.start(false)
	start = time.Now()
	eventually(t, 30*time.Second, "the spool to drain", func() bool { p, _ := a.s.SpoolCounts(); return p == 0 })
	t.Logf("the quorum back, %d spooled writes committed in %v", 3+bulk, time.Since(start))
	_, failed, err := a.s.SpoolEntries()
	if err != nil || len(failed) != 1 || failed[0].Envelope.ReqID != "bad-1" || failed[0].Rejection == nil || failed[0].Rejection.Code != command.NotFound {
		t.Fatalf("failed entries %+v %v, want bad-1 rejected not_found", failed, err)
	}
	// The replay counts an entry just after it leaves the spool: look
	// again until the last one is counted.
	eventually(t, 5*time.Second, "spool metrics pending 0, committed 2+bulk, failed 1", func() bool {
		m := gather(t, a.reg)
		return m["wlns_spool_pending"] == 0 && m["wlns_spool_committed_total"] == 2+bulk && m["wlns_spool_failed_total"] == 1
	})
	for _, n := range ns {
		eventually(t, 10*time.Second, n.id+" to apply the spooled writes", func() bool {
			cn := n.s.Index().Load().Counts()
			return cn.Pairs == 2+bulk && cn.Entities == 2
		})
	}

	// A late repeat of a committed entry is a duplicate, not a double.
	res, spooled, err := a.s.ApplyOrSpool(ctx, pair)
	if err != nil || spooled || !res.Duplicate {
		t.Fatalf("repeating a committed spooled write: %+v spooled=%v %v, want a duplicate", res, spooled, err)
	}
	time.Sleep(200 * time.Millisecond)
	if cn := c.s.Index().Load().Counts(); cn.Pairs != 2+bulk || cn.Entities != 2 {
		t.Fatalf("counts after the repeat: %+v, want %d pairs, 2 entities", cn, 2+bulk)
	}
}
