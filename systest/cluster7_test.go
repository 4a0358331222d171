package systest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// startCluster starts size real nodes on loopback with certificates from one
// `wlns ca`: the first bootstraps, each later one joins through the member
// started just before it (so most joins are passed on to the leader). Every
// node gets extra flags too.
func startCluster(t *testing.T, size int, extra ...string) []*node {
	t.Helper()
	dirs := make([]string, size)
	for i := range dirs {
		dirs[i] = filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i+1))
	}
	return startClusterIn(t, dirs, extra...)
}

// startClusterIn is startCluster with one node per data folder in dirs.
func startClusterIn(t *testing.T, dirs []string, extra ...string) []*node {
	t.Helper()
	return startClusterCA(t, clusterCA(t), dirs, extra...)
}

// clusterSecret is the join token of the clusters startCluster makes.
const clusterSecret = "join-secret-for-the-cluster-test"

// startClusterCA is startClusterIn with the cluster CA in ca, for tests
// that issue more certificates.
func startClusterCA(t *testing.T, ca string, dirs []string, extra ...string) []*node {
	t.Helper()
	size := len(dirs)
	const secret = clusterSecret
	var nodes []*node
	for i := 1; i <= size; i++ {
		id := fmt.Sprintf("n%d", i)
		args := append(nodeCert(t, ca, id), "--join-token", secret)
		if i > 1 {
			args = append(args, "--join", nodes[i-2].ready.Raft)
		}
		nodes = append(nodes, startMember(t, dirs[i-1], append(args, extra...)...))
	}
	return nodes
}

// without returns nodes minus the ones in drop.
func without(nodes []*node, drop ...*node) []*node {
	var out []*node
	for _, n := range nodes {
		keep := true
		for _, d := range drop {
			keep = keep && n != d
		}
		if keep {
			out = append(out, n)
		}
	}
	return out
}

func TestCluster7_SurvivesLosingThreeIncludingTheLeaderAndConverges(t *testing.T) {
	start := time.Now()
	const ip = "192.0.2.77"
	nodes := startCluster(t, 7, "--raft-profile", "lan", "--promote-after", "1s")
	leader := leaderOf(t, nodes, 20*time.Second)
	waitReachableVoters(t, leader, 7, 30*time.Second)
	t.Logf("7 nodes up and voters after %v, leader %s", time.Since(start), leader.ready.Raft)

	// Every node's API takes writes; every node's DNS answers them.
	for i, n := range nodes {
		sender := fmt.Sprintf("seven%d@example.org", i)
		addPair(t, n, sender, ip)
		waitListed(t, nodes, sender, ip, 15*time.Second)
	}
	if ms := members(t, nodes[6]); len(ms) != 7 {
		t.Fatalf("cluster status lists %d members, want 7: %v", len(ms), ms)
	}

	// Kill three, the leader among them: the four left are a quorum of
	// seven, elect a leader and keep committing writes from each of them.
	killed := []*node{leader}
	for _, n := range nodes {
		if n != leader && len(killed) < 3 {
			killed = append(killed, n)
		}
	}
	if len(killed) != 3 {
		t.Fatalf("picked %d nodes to kill, want 3", len(killed))
	}
	killedAt := time.Now()
	for _, n := range killed {
		n.kill()
	}
	rest := without(nodes, killed...)
	leaderOf(t, rest, 20*time.Second)
	t.Logf("4 survivors elected a leader %v after the kill", time.Since(killedAt))
	for i, n := range rest {
		sender := fmt.Sprintf("four%d@example.org", i)
		addPair(t, n, sender, ip)
		waitListed(t, rest, sender, ip, 15*time.Second)
	}

	// Restart the three on their data folders and addresses: they rejoin
	// with no operator action, catch up, and take writes again.
	var back []*node
	for _, n := range killed {
		back = append(back, startMember(t, n.dataDir, nodeArgsOf(n)...))
	}
	all := append(append([]*node{}, rest...), back...)
	for i := range rest {
		waitListed(t, back, fmt.Sprintf("four%d@example.org", i), ip, 20*time.Second)
	}
	for i, n := range back {
		sender := fmt.Sprintf("back%d@example.org", i)
		addPair(t, n, sender, ip)
		waitListed(t, all, sender, ip, 15*time.Second)
	}
	idx := waitSameSerial(t, apiNodes(all), 20*time.Second)
	ms := members(t, all[0])
	if len(ms) != 7 {
		t.Fatalf("after the restarts cluster status lists %d members, want 7: %v", len(ms), ms)
	}
	for _, m := range ms {
		if m["voter"] != true || m["reachable"] != true {
			t.Errorf("member %v: want a reachable voter", m)
		}
	}
	assertSamePairs(t, apiNodes(all))
	t.Logf("all 7 at applied index %d; whole test %v", idx, time.Since(start))
	if d := time.Since(start); d > 120*time.Second {
		t.Errorf("the 7-node test took %v, want under 120 s", d)
	}
}
