package raftstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wlns/wlns/clustertls"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/nodenet"
)

// tlsNode opens a store whose Raft runs over a TLS inter-node port, with a
// certificate for id issued by the CA in caDir.
func tlsNode(t testing.TB, caDir, id string, bootstrap bool, joinSecret string) *Store {
	t.Helper()
	return tlsNodeIn(t, t.TempDir(), caDir, id, bootstrap, joinSecret)
}

// tlsNodeIn is tlsNode on the data folder dir.
func tlsNodeIn(t testing.TB, dir, caDir, id string, bootstrap bool, joinSecret string) *Store {
	t.Helper()
	return tlsNodeWith(t, dir, caDir, id, bootstrap, joinSecret, nil)
}

// tlsNodeWith is tlsNodeIn with its configuration changed by mod.
func tlsNodeWith(t testing.TB, dir, caDir, id string, bootstrap bool, joinSecret string, mod func(*Config)) *Store {
	t.Helper()
	n, err := nodenetOn(t, caDir, id, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := Config{Dir: dir, NodeID: id, Net: n, Bootstrap: bootstrap, Logger: quietLogger(),
		JoinTokenHash: HashJoinToken(joinSecret), Voters: 2, ForwardHold: 3 * time.Second,
		PromoteAfter: -1} // voters join as voters at once: these tests are about joining, not promotion (promote_test.go)
	if mod != nil {
		mod(&cfg)
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newCA(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	if err := clustertls.InitCA(dir, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTLSCluster_JoinForwardRemove(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := tlsNode(t, ca, "a", true, "s3cret")
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	b := tlsNode(t, ca, "b", false, "s3cret")
	c := tlsNode(t, ca, "c", false, "s3cret")

	if err := b.JoinCluster(ctx, a.Addr(), "wrong"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("join with a wrong token: %v, want ErrForbidden", err)
	}
	if err := b.JoinCluster(ctx, a.Addr(), "s3cret"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	// c asks the follower b, which passes the request to the leader a.
	if err := c.JoinCluster(ctx, b.Addr(), "s3cret"); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	// Rejoining is a no-op.
	if err := b.JoinCluster(ctx, c.Addr(), "s3cret"); err != nil {
		t.Fatal(err)
	}

	ms, err := c.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]bool{}
	for _, m := range ms {
		if !m.Reachable {
			t.Fatalf("member %s unreachable: %s", m.ID, m.Error)
		}
		roles[m.ID] = m.Voter
	}
	if len(ms) != 3 || !roles["a"] || !roles["b"] || roles["c"] {
		t.Fatalf("members %+v: want voters a, b and non-voter c (Voters=2)", ms)
	}

	// A write on a follower is forwarded, applied once, and visible there
	// at once.
	e := env(t, command.PairPut, time.Now().Unix(), "fwd-1", command.PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.9"})
	r, err := c.Apply(ctx, e)
	if err != nil || r.Err != nil || !r.Created {
		t.Fatalf("forwarded apply: %+v %v", r, err)
	}
	if v := c.Index().Load(); v.EntityOf(addr("192.0.2.9")) == nil {
		t.Fatal("the forwarding node does not see its own write")
	}
	r, err = b.Apply(ctx, e)
	if err != nil || !r.Duplicate {
		t.Fatalf("retried forward: %+v %v, want a duplicate", r, err)
	}
	if got := a.Index().Load().Counts().Pairs; got != 1 {
		t.Fatalf("leader holds %d pairs, want 1", got)
	}

	if err := b.RemoveMember(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := b.RemoveMember(ctx, "c"); !errors.Is(err, ErrNotMember) {
		t.Fatalf("removing a non-member: %v, want ErrNotMember", err)
	}
	eventually(t, 5*time.Second, "c to leave", func() bool { ms, _ := a.Members(ctx); return len(ms) == 2 })
}

func TestTLSCluster_ForeignCertificateCannotJoin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := tlsNode(t, newCA(t), "a", true, "s3cret")
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	x := tlsNode(t, newCA(t), "x", false, "s3cret")
	jctx, jcancel := context.WithTimeout(ctx, 5*time.Second)
	defer jcancel()
	if err := x.JoinCluster(jctx, a.Addr(), "s3cret"); !errors.Is(err, ErrForbidden) || jctx.Err() != nil {
		t.Fatalf("join with a certificate of another CA: %v (want ErrForbidden at once)", err)
	}
	ms, err := a.Members(ctx)
	if err != nil || len(ms) != 1 {
		t.Fatalf("members after a refused join: %+v %v", ms, err)
	}
}

func TestTLSCluster_FollowerWithoutLeaderFailsClearly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lone := tlsNode(t, newCA(t), "lone", false, "s3cret") // never bootstrapped, never joined
	start := time.Now()
	_, err := lone.Apply(ctx, env(t, command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: "a@b.example", IP: "192.0.2.1"}))
	if !errors.Is(err, ErrNoLeader) {
		t.Fatalf("apply without a leader: %v, want ErrNoLeader", err)
	}
	if d := time.Since(start); d < 3*time.Second || d > 6*time.Second {
		t.Fatalf("apply without a leader took %v, want about the 3s hold", d)
	}
}

// threeNodes starts a 3-voter TLS cluster and returns leader, followers.
func threeNodes(b testing.TB) (*Store, []*Store) {
	ca := newCA(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Voters configured, not set on a running store: its promotion loop
	// reads it (a data race under -race).
	three := func(c *Config) { c.Voters = 3 }
	a := tlsNodeWith(b, b.TempDir(), ca, "a", true, "s", three)
	if err := a.WaitReady(ctx); err != nil {
		b.Fatal(err)
	}
	var fs []*Store
	for _, id := range []string{"b", "c"} {
		f := tlsNodeWith(b, b.TempDir(), ca, id, false, "s", three)
		if err := f.JoinCluster(ctx, a.Addr(), "s"); err != nil {
			b.Fatal(err)
		}
		if err := f.WaitReady(ctx); err != nil {
			b.Fatal(err)
		}
		fs = append(fs, f)
	}
	return a, fs
}

// BenchmarkTLSCluster_Apply measures one pair write at a time through a
// 3-voter cluster over the TLS port, on the leader and forwarded by a
// follower (which also waits until it applied the entry itself).
func BenchmarkTLSCluster_Apply(b *testing.B) {
	leader, followers := threeNodes(b)
	for _, tc := range []struct {
		name string
		s    *Store
	}{{"leader", leader}, {"forwarded", followers[0]}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				e := env(b, command.PairPut, time.Now().Unix(), "", command.PairBody{
					Sender: fmt.Sprintf("%s%d@example.org", tc.name, i), IP: "192.0.2.1"})
				if r, err := tc.s.Apply(ctx, e); err != nil || r.Err != nil {
					b.Fatal(err, r.Err)
				}
			}
		})
	}
}

// BenchmarkTLSCluster_ApplyParallel is 16 concurrent writers on the
// leader and forwarding through one follower: raft groups their entries,
// so it shows the write rate an API can reach with many clients.
func BenchmarkTLSCluster_ApplyParallel(b *testing.B) {
	leader, followers := threeNodes(b)
	var n atomic.Int64
	for _, tc := range []struct {
		name string
		s    *Store
	}{{"leader", leader}, {"forwarded", followers[0]}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetParallelism(8) // 16 goroutines on 2 CPUs
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					e := env(b, command.PairPut, time.Now().Unix(), "", command.PairBody{
						Sender: fmt.Sprintf("p%d@example.org", n.Add(1)), IP: "192.0.2.1"})
					if r, err := tc.s.Apply(ctx, e); err != nil || r.Err != nil {
						b.Error(err, r.Err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}

func TestTLSCluster_RestartRejoinsAndNewAddressUpdates(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	a := tlsNode(t, ca, "a", true, "s")
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	bDir := t.TempDir()
	b := tlsNodeIn(t, bDir, ca, "b", false, "s")
	if b.IsMember() {
		t.Fatal("a new node claims membership")
	}
	if err := b.JoinCluster(ctx, a.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	oldAddr := b.Addr()
	b.Close()

	// The same folder on the same address is a member: no join needed.
	n, err := nodenetOn(t, ca, "b", oldAddr)
	if err != nil {
		t.Fatalf("reopening the port %s: %v", oldAddr, err)
	}
	same, err := Open(ctx, Config{Dir: bDir, NodeID: "b", Net: n, Logger: quietLogger(), JoinTokenHash: HashJoinToken("s")})
	if err != nil {
		t.Fatal(err)
	}
	if !same.IsMember() {
		t.Fatal("a restarted member on its old address does not see itself as member")
	}
	mustApply(t, a, command.PairPut, "", command.PairBody{Sender: "while@example.org", IP: "192.0.2.7"})
	eventually(t, 10*time.Second, "the restarted node to catch up", func() bool { return same.Index().Load().Counts().Pairs == 1 })
	same.Close()

	// The same folder on a new address must join again; the leader updates
	// the address and keeps one member b.
	moved := tlsNodeIn(t, bDir, ca, "b", false, "s")
	if moved.Addr() == oldAddr || moved.IsMember() {
		t.Fatalf("moved node at %s (old %s) claims membership", moved.Addr(), oldAddr)
	}
	if err := moved.JoinCluster(ctx, a.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	mustApply(t, a, command.PairPut, "", command.PairBody{Sender: "moved@example.org", IP: "192.0.2.7"})
	eventually(t, 10*time.Second, "the moved node to catch up", func() bool { return moved.Index().Load().Counts().Pairs == 2 })
	ms, err := a.Members(ctx)
	if err != nil || len(ms) != 2 {
		t.Fatalf("members %+v %v, want a and b", ms, err)
	}
	for _, m := range ms {
		if m.ID == "b" && (m.Address != moved.Addr() || !m.Voter || !m.Reachable) {
			t.Fatalf("member b: %+v, want a reachable voter at %s", m, moved.Addr())
		}
	}
}

// nodenetOn opens an inter-node port for id on a given address.
func nodenetOn(t testing.TB, caDir, id, addr string) (*nodenet.Net, error) {
	t.Helper()
	certDir := filepath.Join(t.TempDir(), "tls")
	if err := clustertls.IssueNode(caDir, certDir, clustertls.NodeRequest{NodeID: id, Hosts: []string{"127.0.0.1"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ident, err := clustertls.Load(clustertls.Files{CA: filepath.Join(certDir, "ca.crt"),
		Cert: filepath.Join(certDir, "node.crt"), Key: filepath.Join(certDir, "node.key")})
	if err != nil {
		t.Fatal(err)
	}
	return nodenet.Listen(addr, "", ident, quietLogger())
}

func TestTLSCluster_JoinChecksCertificateAndToken(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := tlsNode(t, ca, "a", true, "s")
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	h := rpcHandler{a}
	for _, tc := range []struct {
		name string
		req  nodenet.JoinRequest
		peer string
	}{
		{"certificate for another node", nodenet.JoinRequest{NodeID: "b", Addr: "127.0.0.1:1", Token: "s"}, "x"},
		{"forwarded by a non-member", nodenet.JoinRequest{NodeID: "b", Addr: "127.0.0.1:1", Token: "s", Forwarded: true}, "x"},
		{"wrong token", nodenet.JoinRequest{NodeID: "b", Addr: "127.0.0.1:1", Token: "S"}, "b"},
		{"no token", nodenet.JoinRequest{NodeID: "b", Addr: "127.0.0.1:1"}, "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Join(ctx, tc.req, tc.peer)
			var re *nodenet.RemoteError
			if !errors.As(err, &re) || re.Code != nodenet.CodeForbidden {
				t.Fatalf("join: %v, want forbidden", err)
			}
		})
	}
	if ms, _ := a.Members(ctx); len(ms) != 1 {
		t.Fatalf("refused joins changed the membership: %+v", ms)
	}
}

func TestTLSCluster_NewNodeInstallsSnapshotOverTLS(t *testing.T) {
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A configured TrailingLogs, not a reload: the store's loop reloads
	// its own bound every 2 s (boundTrailingLogs), which undid a reload
	// made here whenever the writes below took longer (1 run in 4 under
	// -race).
	a := tlsNodeWith(t, t.TempDir(), ca, "a", true, "s", func(c *Config) { c.TrailingLogs = 2 })
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := a.Apply(ctx, pairBatch(t, "192.0.2.50", i*100, 100)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.raft.Snapshot().Error(); err != nil { // compacts the log: b needs the snapshot
		t.Fatal(err)
	}
	bDir := t.TempDir()
	b := tlsNodeIn(t, bDir, ca, "b", false, "s")
	if err := b.JoinCluster(ctx, a.Addr(), "s"); err != nil {
		t.Fatal(err)
	}
	want := a.Index().Load().Counts()
	eventually(t, 15*time.Second, "b to install the snapshot", func() bool { return b.Index().Load().Counts() == want })
	if snaps, err := os.ReadDir(filepath.Join(bDir, "raft", "snapshots")); err != nil || len(snaps) == 0 {
		t.Fatalf("b caught up without a snapshot (%v %v): the log was not compacted", snaps, err)
	}
}
