package raftstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

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

	seen, err := ReadConfiguration(ctx, bDir, quietLogger())
	if err != nil || seen.NodeID != "b" || len(seen.Old) != 3 || seen.LastIndex == 0 {
		t.Fatalf("reading the stopped node's configuration: %+v %v, want b knowing a, b and c", seen, err)
	}
	plan, err := PlanRecovery(ctx, bDir, []Survivor{{ID: "b", Address: bAddr}}, quietLogger())
	if err != nil || len(plan.New) != 1 || len(plan.Old) != 3 || plan.LastIndex != seen.LastIndex {
		t.Fatalf("plan %+v %v, want b alone out of a, b and c", plan, err)
	}
	if again, _ := ReadConfiguration(ctx, bDir, quietLogger()); len(again.Old) != 3 {
		t.Fatalf("a planned recovery changed the configuration to %+v", again.Old)
	}
	rep, err := Recover(ctx, bDir, []Survivor{{ID: "b", Address: bAddr}}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	if rep.LastIndex != seen.LastIndex {
		t.Errorf("recovered up to index %d, the node held %d", rep.LastIndex, seen.LastIndex)
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

// TestRecover_RefusesAndChangesNothing: every refusal names its reason and
// leaves the folder as it was, so a corrected run still sees the old
// configuration.
func TestRecover_RefusesAndChangesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	s, err := Open(ctx, Config{Dir: dir, Bind: "127.0.0.1:0", Bootstrap: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "kept@example.org", IP: "192.0.2.1"})
	self := Survivor{ID: s.NodeID(), Address: s.Addr()}

	_, err = Recover(ctx, dir, []Survivor{self}, quietLogger())
	if !errors.Is(err, ErrDataInUse) || !strings.Contains(err.Error(), "stop wlns serve first") {
		t.Fatalf("recovering a running node: %v, want ErrDataInUse", err)
	}
	if _, err := ReadConfiguration(ctx, dir, quietLogger()); !errors.Is(err, ErrDataInUse) {
		t.Fatalf("reading a running node's configuration: %v, want ErrDataInUse", err)
	}
	mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "still@example.org", IP: "192.0.2.1"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	stateless := t.TempDir()
	if err := os.WriteFile(filepath.Join(stateless, nodeIDFile), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		dir       string
		survivors []Survivor
		want      string
	}{
		{"empty list", dir, nil, "no survivors"},
		{"duplicate ID", dir, []Survivor{self, {ID: self.ID, Address: "127.0.0.1:1"}}, "listed twice"},
		{"duplicate address", dir, []Survivor{self, {ID: "other", Address: self.Address}}, "two survivors"},
		{"no address", dir, []Survivor{self, {ID: "other"}}, "no address"},
		{"no port", dir, []Survivor{self, {ID: "other", Address: "10.0.0.1"}}, "HOST:PORT"},
		{"port 0", dir, []Survivor{self, {ID: "other", Address: "10.0.0.1:0"}}, "port 1-65535"},
		{"no ID", dir, []Survivor{self, {Address: "10.0.0.1:8300"}}, "no node ID"},
		{"no voter", dir, []Survivor{{ID: self.ID, Address: self.Address, NonVoter: true}}, "no voter"},
		{"self not listed", dir, []Survivor{{ID: "other", Address: "10.0.0.1:8300"}}, "is not among the survivors"},
		{"no node ID file", t.TempDir(), []Survivor{{ID: "x", Address: "10.0.0.1:8300"}}, "has no node ID"},
		{"no raft state", stateless, []Survivor{{ID: "x", Address: "10.0.0.1:8300"}}, "no raft state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Recover(ctx, tc.dir, tc.survivors, quietLogger())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Recover: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(stateless, "raft")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused recovery created raft state: %v", err)
	}

	rep, err := Recover(ctx, dir, []Survivor{self}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Old) != 1 || rep.Old[0] != (Member{ID: self.ID, Address: self.Address, Voter: true}) || len(rep.Warnings) != 1 {
		t.Fatalf("report %+v: want the untouched one-node configuration and a majority warning", rep)
	}
	again, err := Open(ctx, Config{Dir: dir, Bind: self.Address, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := again.Index().Load().Counts().Pairs; got != 2 {
		t.Fatalf("after recovery the node holds %d pairs, want 2", got)
	}
}

func TestRecoverWarnings_NameWhatToCheck(t *testing.T) {
	old := survivorConfiguration([]Survivor{{"a", "h1:1", false}, {"b", "h2:1", false}, {"c", "h3:1", false}, {"d", "h4:1", false}, {"e", "h5:1", false}})
	old.Servers = append(old.Servers, raft.Server{Suffrage: raft.Nonvoter, ID: "m", Address: "h6:1"})
	for _, tc := range []struct {
		name      string
		survivors []Survivor
		want      []string
	}{
		{"two of five", []Survivor{{"a", "h1:1", false}, {"b", "h2:1", false}}, []string{"non-voter m is left out"}},
		{"non-voter kept", []Survivor{{"a", "h1:1", false}, {"m", "h6:1", true}}, nil},
		{"non-voter made a voter", []Survivor{{"a", "h1:1", false}, {"m", "h6:1", false}}, nil},
		{"unknown ID", []Survivor{{"a", "h1:1", false}, {"z", "h9:1", false}}, []string{"z is not in this node's configuration", "non-voter m"}},
		{"moved", []Survivor{{"a", "h7:1", false}}, []string{"a was at h1:1, now listed at h7:1", "non-voter m"}},
		{"majority", []Survivor{{"a", "h1:1", false}, {"b", "h2:1", false}, {"c", "h3:1", false}, {"m", "h6:1", false}}, []string{"3 of the 5 old voters"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := recoverWarnings(old, tc.survivors)
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d containing %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d: %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

// TestRecover_TwoSurvivorsOfFiveElectAndKeepTheirSpools loses three of
// five voters: both survivors, recovered with the same list, elect a
// leader between them, and each one's spool commits what it took alone.
func TestRecover_TwoSurvivorsOfFiveElectAndKeepTheirSpools(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	nodes := []*Store{tlsNode(t, ca, "n0", true, "s")}
	if err := nodes[0].WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	nodes[0].cfg.Voters = 5
	for i := 1; i < 5; i++ {
		n := tlsNode(t, ca, fmt.Sprintf("n%d", i), false, "s")
		if err := n.JoinCluster(ctx, nodes[0].Addr(), "s"); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	mustApply(t, nodes[0], command.PairPut, "", command.PairBody{Sender: "before@example.org", IP: "192.0.2.1"})
	conf, err := nodes[0].configuration()
	if err != nil || len(conf.Servers) != 5 {
		t.Fatalf("configuration %+v %v, want five voters", conf, err)
	}
	for _, m := range membersOf(conf) {
		if !m.Voter {
			t.Fatalf("%s is not a voter", m.ID)
		}
	}
	survivors := nodes[3:]
	for _, s := range survivors {
		eventually(t, 10*time.Second, "survivors to apply the write", func() bool { return s.Index().Load().Counts().Pairs == 1 })
	}
	for _, n := range nodes[:3] {
		n.Close()
	}
	var list []Survivor
	for i, s := range survivors {
		e := env(t, command.PairPut, time.Now().Unix(), fmt.Sprintf("alone-%d", i), command.PairBody{Sender: fmt.Sprintf("alone%d@example.org", i), IP: "192.0.2.1"})
		if _, ok, err := s.ApplyOrSpool(ctx, e); err != nil || !ok {
			t.Fatalf("write without a quorum on %s: spooled=%v err=%v", s.NodeID(), ok, err)
		}
		list = append(list, Survivor{ID: s.NodeID(), Address: s.Addr()})
	}
	for _, s := range survivors {
		s.Close()
	}
	for _, s := range survivors {
		if _, err := Recover(ctx, s.cfg.Dir, list, quietLogger()); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	var back []*Store
	for i, s := range survivors {
		back = append(back, reopenTLS(t, ca, s.cfg.Dir, list[i].ID, list[i].Address))
	}
	eventually(t, 30*time.Second, "a leader among the survivors", func() bool { return back[0].IsLeader() || back[1].IsLeader() })
	t.Logf("leader %v after restarting both survivors", time.Since(start))
	for _, s := range back {
		eventually(t, 20*time.Second, "both spooled writes to commit everywhere", func() bool { return s.Index().Load().Counts().Pairs == 3 })
	}
	ms, err := back[0].Members(ctx)
	if err != nil || len(ms) != 2 || !ms[0].Voter || !ms[1].Voter {
		t.Fatalf("members %+v %v, want the two survivors as voters", ms, err)
	}
}

// TestRecover_EntryItCannotApplyChangesNothing: a log entry this build
// cannot apply (a newer wlns wrote it) fails the recovery before anything
// is written.
func TestRecover_EntryItCannotApplyChangesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	s, err := Open(ctx, Config{Dir: dir, Bind: "127.0.0.1:0", Bootstrap: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	self := Survivor{ID: s.NodeID(), Address: s.Addr()}
	s.Close()
	st, err := openOffline(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	last, _ := st.bolt.LastIndex()
	snapLast := max(last, lastSnapshot(t, st.snaps))
	bad := &raft.Log{Index: snapLast + 1, Term: 99, Type: raft.LogCommand, Data: []byte(`{"v":99,"type":"future.thing"}`)}
	if err := st.bolt.StoreLog(bad); err != nil {
		t.Fatal(err)
	}
	st.close()

	_, err = Recover(ctx, dir, []Survivor{self}, quietLogger())
	if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("recovering over an entry this build cannot apply: %v, want a refusal", err)
	}
	rep, err := ReadConfiguration(ctx, dir, quietLogger())
	if err != nil || rep.LastIndex != snapLast+1 || len(rep.Old) != 1 {
		t.Fatalf("after the refusal: %+v %v, want the log through index %d and the old configuration", rep, err, snapLast+1)
	}
}

// lastSnapshot is the index of the newest snapshot, 0 for none.
func lastSnapshot(t *testing.T, snaps raft.SnapshotStore) uint64 {
	t.Helper()
	metas, err := snaps.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) == 0 {
		return 0
	}
	return metas[0].Index
}

// TestRecover_SurvivingNonVoterStaysAMirror loses one of two voters; the
// surviving voter and the surviving non-voter, recovered with the same
// list, come back as a leader and a non-voting mirror that follows it.
func TestRecover_SurvivingNonVoterStaysAMirror(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a := tlsNode(t, ca, "a", true, "s") // Voters: 2, so c stays a non-voter
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	b, c := tlsNode(t, ca, "b", false, "s"), tlsNode(t, ca, "c", false, "s")
	for _, n := range []*Store{b, c} {
		if err := n.JoinCluster(ctx, a.Addr(), "s"); err != nil {
			t.Fatal(err)
		}
	}
	mustApply(t, a, command.PairPut, "", command.PairBody{Sender: "before@example.org", IP: "192.0.2.1"})
	eventually(t, 10*time.Second, "c to apply the write", func() bool { return c.Index().Load().Counts().Pairs == 1 })
	a.Close()
	list := []Survivor{{ID: "b", Address: b.Addr()}, {ID: "c", Address: c.Addr(), NonVoter: true}}
	b.Close()
	c.Close()
	for _, n := range []*Store{b, c} {
		rep, err := Recover(ctx, n.cfg.Dir, list, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Old) != 3 || rep.Old[2] != (Member{ID: "c", Address: list[1].Address}) || len(rep.Warnings) != 0 {
			t.Fatalf("report on %s: %+v, want c a non-voter before and no warnings", n.NodeID(), rep)
		}
	}
	nb := reopenTLS(t, ca, b.cfg.Dir, "b", list[0].Address)
	nc := reopenTLS(t, ca, c.cfg.Dir, "c", list[1].Address)
	eventually(t, 20*time.Second, "b to lead", nb.IsLeader)
	mustApply(t, nb, command.PairPut, "", command.PairBody{Sender: "after@example.org", IP: "192.0.2.1"})
	eventually(t, 10*time.Second, "the non-voter to follow", func() bool { return nc.Index().Load().Counts().Pairs == 2 })
	ms, err := nb.Members(ctx)
	if err != nil || len(ms) != 2 || !ms[0].Voter || ms[1].Voter {
		t.Fatalf("members %+v %v, want voter b and non-voter c", ms, err)
	}
}
