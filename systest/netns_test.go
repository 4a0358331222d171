package systest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// needNetns stops the test unless namespaces, veths and TUN devices can be
// made: it needs root and iproute2 (a failure under CI=true).
func needNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "needs root (ip netns, veth pairs and a TUN device in a private namespace)")
	}
	needTool(t, "ip", "iproute2")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		missing(t, fmt.Sprintf("needs /dev/net/tun for the WAN emulator: %v", err))
	}
}

// indexesOf returns the 1-based indexes of nodes.
func indexesOf(nodes []*nsNode) []int {
	var out []int
	for _, n := range nodes {
		out = append(out, n.i)
	}
	return out
}

// sideWith returns size nodes: first, then the others in order.
func sideWith(nodes []*nsNode, first *nsNode, size int) []*nsNode {
	out := []*nsNode{first}
	for _, n := range nodes {
		if n != first && len(out) < size {
			out = append(out, n)
		}
	}
	return out
}

// partitionFor cuts the WAN between side and the other nodes for hold,
// then heals it and waits (bounded) for one agreed leader.
func partitionFor(t *testing.T, lab *netLab, c *campaign, nodes, side []*nsNode, hold time.Duration) {
	t.Helper()
	var addrs []string
	for _, n := range side {
		addrs = append(addrs, nsAddr(n.i))
	}
	lab.wan.partition(addrs...)
	minority := side
	if len(side) > len(nodes)/2 {
		minority = others(nodes, side)
	}
	c.setMinority(indexesOf(minority)...)
	t.Logf("partition: nodes %v cut off from the rest", indexesOf(side))
	time.Sleep(hold)
	// The minority side reports what it holds for later.
	pending := 0
	for _, i := range indexesOf(minority) {
		pending += spoolPending(t, nodes[i-1])
	}
	if pending == 0 {
		t.Errorf("after %v cut off, the minority nodes %v report no pending spooled write", hold, indexesOf(minority))
	}
	t.Logf("minority nodes %v report %d pending spooled writes", indexesOf(minority), pending)
	lab.wan.heal()
	c.setMinority()
	l := nsLeader(t, nodes, 30*time.Second)
	t.Logf("healed; leader node %d", l.i)
}

// others returns nodes minus side.
func others(nodes, side []*nsNode) []*nsNode {
	var out []*nsNode
	for _, n := range nodes {
		in := false
		for _, s := range side {
			in = in || s == n
		}
		if !in {
			out = append(out, n)
		}
	}
	return out
}

func TestNetns_SevenNodesThroughPartitionsAndALeaderKillLoseNothing(t *testing.T) {
	needNetns(t)
	start := time.Now()
	const ip = "192.0.2.177"
	lab := newNetLab(t, 7, 20*time.Millisecond, 5*time.Millisecond, 0.01)
	nodes, leader := startNSCluster(t, lab, 7, 30*time.Second)
	t.Logf("7 namespaced nodes up and voters after %v, leader node %d", time.Since(start), leader.i)
	if code, b, err := leader.tryAPI("POST", "/v1/pairs", map[string]string{"sender": "seed@example.org", "ip": ip}, nil); err != nil || code != http.StatusCreated {
		t.Fatalf("seed pair: %d %s %v", code, b, err)
	}

	c := newCampaign(t, lab, nodes, ip)
	c.start()
	stopped := sync.OnceFunc(c.finish)
	t.Cleanup(stopped)
	time.Sleep(4 * time.Second)

	// 4/3 with the leader among the four, then 3/4 with the (new) leader
	// among the three: the three spool, the four elect and commit.
	partitionFor(t, lab, c, nodes, sideWith(nodes, leader, 4), 12*time.Second)
	time.Sleep(3 * time.Second)
	leader = nsLeader(t, nodes, 30*time.Second)
	partitionFor(t, lab, c, nodes, sideWith(nodes, leader, 3), 12*time.Second)
	time.Sleep(3 * time.Second)

	// kill -9 the leader; restart it on its data after a moment.
	leader = nsLeader(t, nodes, 30*time.Second)
	c.setDown(leader.i, true)
	leader.kill()
	t.Logf("killed leader node %d", leader.i)
	time.Sleep(2 * time.Second)
	leader.restart(t)
	c.setDown(leader.i, false)
	leader.waitReady(leader.readyFile, 90*time.Second)
	t.Logf("node %d restarted and ready after %v", leader.i, c.sinceRestart(leader.i))
	time.Sleep(4 * time.Second)
	stopped()
	t.Logf("campaign over after %v; WAN: %v\n%s", time.Since(start), lab.wan, c.report())

	// Healed: the spools drain, every node applies the same log.
	lab.wan.heal()
	waitSpoolsEmpty(t, nodes, 60*time.Second)
	idx := waitSameSerial(t, apiNodes(nodes), 60*time.Second)
	pairs := assertSamePairs(t, apiNodes(nodes))
	t.Logf("converged at applied index %d with %d pairs, %v after the start", idx, len(pairs), time.Since(start))
	checkWrites(t, c, sendersOf(t, pairs))
	sweepDNS(t, c, nodes)
	for i, p := range c.probes {
		if p.fail != 0 {
			t.Errorf("node %d: %d DNS failures while live (want 0), %d of them names it had answered before", i+1, p.fail, p.forgot)
		}
	}
	checkWriteCodes(t, c)
	if d := time.Since(start); d > 180*time.Second {
		t.Errorf("the netns test took %v, want under 180 s", d)
	}
}

// checkWriteCodes fails the test when a valid write was refused (4xx) or
// answered with a server error other than 503 (no leader or a full disk:
// retry), naming the first of each.
func checkWriteCodes(t *testing.T, c *campaign) {
	t.Helper()
	bad := map[byte]bool{}
	for _, w := range c.writes {
		if k := w.last; k != "" && (k[0] == '4' || (k[0] == '5' && !strings.HasPrefix(k, "503"))) && !bad[k[0]] {
			bad[k[0]] = true
			t.Errorf("write %s on node %d got %s", w.sender, w.node, w.last)
		}
	}
}

// startNSCluster starts size nodes in lab's namespaces (node 1 bootstraps,
// the others join it), keeps their logs for a failing test, and waits
// (bounded) until one leads and all are voters.
func startNSCluster(t *testing.T, lab *netLab, size int, electLimit time.Duration) ([]*nsNode, *nsNode) {
	t.Helper()
	return startNSClusterWith(t, lab, size, electLimit, nil)
}

// startNSClusterWith is startNSCluster with node i's data folder from
// dataDir (a temp dir where it returns "") and extra serve flags.
func startNSClusterWith(t *testing.T, lab *netLab, size int, electLimit time.Duration, dataDir func(i int) string, extra ...string) ([]*nsNode, *nsNode) {
	t.Helper()
	ca := clusterCA(t)
	var nodes []*nsNode
	for i := 1; i <= size; i++ {
		dir := ""
		if dataDir != nil {
			dir = dataDir(i)
		}
		if dir == "" {
			dir = filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i))
		}
		nodes = append(nodes, lab.startNodeOn(t, ca, i, dir, extra...))
	}
	keepLogs(t, nodes)
	leader := nsLeader(t, nodes, electLimit)
	waitReachableVoters(t, leader, size, 60*time.Second)
	return nodes, leader
}

// spoolPending is the number of pending writes in n's spool (0 when the
// spool cannot be read, which the test reports).
func spoolPending(t *testing.T, n *nsNode) int {
	t.Helper()
	code, b, err := n.tryAPI("GET", "/v1/spool", nil, nil)
	var sp struct {
		Pending []json.RawMessage `json:"pending"`
	}
	if err != nil || code != http.StatusOK || json.Unmarshal(b, &sp) != nil {
		t.Errorf("node %d: GET /v1/spool: %d %s %v", n.i, code, b, err)
		return 0
	}
	return len(sp.Pending)
}

// waitSpoolsEmpty polls GET /v1/spool on every node until nothing is
// pending or failed.
func waitSpoolsEmpty(t *testing.T, nodes []*nsNode, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for _, n := range nodes {
		for {
			code, b, err := n.tryAPI("GET", "/v1/spool", nil, nil)
			var sp struct {
				Pending []json.RawMessage `json:"pending"`
				Failed  []json.RawMessage `json:"failed"`
			}
			if err == nil && code == http.StatusOK && json.Unmarshal(b, &sp) == nil && len(sp.Pending) == 0 && len(sp.Failed) == 0 {
				break
			}
			if code == http.StatusNotFound {
				t.Errorf("node %d: GET /v1/spool: 404 (no spool on this build?): %s", n.i, b)
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("node %d: spool not drained within %v: GET /v1/spool: %d %s %v", n.i, limit, code, b, err)
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// checkWrites compares the campaign's writes with the converged pairs: each
// acknowledged or spooled write exactly once, a failed one at most once,
// nothing else; and the minority side's writes were spooled.
func checkWrites(t *testing.T, c *campaign, have map[string]int) {
	t.Helper()
	want := map[string]bool{"seed@example.org": true}
	spooledOnMinority := 0
	for _, w := range c.writes {
		want[w.sender] = true
		got := have[w.sender]
		switch {
		case w.outcome != failed && got != 1:
			t.Errorf("write %s on node %d (%s) is present %d times, want exactly once", w.sender, w.node, w.last, got)
		case w.outcome == failed && got > 1:
			t.Errorf("failed write %s on node %d (%s) is present %d times", w.sender, w.node, w.last, got)
		}
		if w.minority && w.outcome == spooled {
			spooledOnMinority++
		}
	}
	for s := range have {
		if !want[s] {
			t.Errorf("pair %s was never written", s)
		}
	}
	if spooledOnMinority == 0 {
		t.Errorf("no write on the minority side was spooled (202); minority writes: %s", minorityOutcomes(c))
	}
}

// minorityOutcomes lists a few minority-side writes with what they got.
func minorityOutcomes(c *campaign) string {
	var out []string
	for _, w := range c.writes {
		if w.minority && len(out) < 5 {
			out = append(out, fmt.Sprintf("%s@node%d: %s", w.sender, w.node, w.last))
		}
	}
	return fmt.Sprint(out)
}

// sweepDNS asks every node for every acknowledged and spooled write after
// healing: each must answer with the sender code.
func sweepDNS(t *testing.T, c *campaign, nodes []*nsNode) {
	t.Helper()
	var names []string
	for _, w := range c.writes {
		if w.outcome != failed {
			names = append(names, strings.Replace(w.sender, "@", ".", 1)+c.suffix)
		}
	}
	var wg sync.WaitGroup
	errs := make([]string, len(nodes))
	for k, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bad := 0
			for _, q := range names {
				m, err := n.query(q, dns.TypeA, 2*time.Second)
				if err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
					if bad++; bad <= 3 {
						errs[k] += fmt.Sprintf(" %s: %v %v;", q, m, err)
					}
				}
			}
			if bad > 0 {
				errs[k] = fmt.Sprintf("node %d: %d of %d names not answered:%s", n.i, bad, len(names), errs[k])
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Error(e)
		}
	}
	t.Logf("DNS sweep: %d names on each of %d nodes", len(names), len(nodes))
}

// keepLogs copies the nodes' logs into $WLNS_SYSTEST_LOGS/<test>/ when the
// test fails and the variable is set.
func keepLogs(t *testing.T, nodes []*nsNode) {
	dir := os.Getenv("WLNS_SYSTEST_LOGS")
	if dir == "" {
		return
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		dst := filepath.Join(dir, t.Name())
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Logf("keeping logs: %v", err)
			return
		}
		for _, n := range nodes {
			b, err := os.ReadFile(n.logPath)
			if err == nil {
				err = os.WriteFile(filepath.Join(dst, fmt.Sprintf("n%d.log", n.i)), b, 0o644)
			}
			if err != nil {
				t.Logf("keeping node %d log: %v", n.i, err)
			}
		}
		t.Logf("node logs kept in %s", dst)
	})
}
