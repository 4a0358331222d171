package systest

import (
	"net/http"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestNetns_ThreeNodesAtTransatlanticDelay runs the default (WAN) timing
// profile where it is meant to run: three nodes 120 ± 20 ms apart one way
// (about a quarter of a second round trip) with 0.5% loss. The cluster must
// form, take writes through every node, answer them from every node's DNS,
// elect a new leader after the leader is killed, keep taking writes, and
// converge once the old leader is back. Timings are logged: they are what an
// operator of a cross-continent cluster sees.
func TestNetns_ThreeNodesAtTransatlanticDelay(t *testing.T) {
	needNetns(t)
	start := time.Now()
	const ip = "192.0.2.188"
	lab := newNetLab(t, 3, 120*time.Millisecond, 20*time.Millisecond, 0.005)
	nodes, leader := startNSCluster(t, lab, 3, 60*time.Second)
	t.Logf("3 nodes 120 ms apart: up and voters after %v, leader node %d", time.Since(start), leader.i)

	// A write through each node (followers forward it across the WAN), then
	// every node's DNS answers every one of them.
	write := func(n *nsNode, sender string) time.Duration {
		t.Helper()
		t0 := time.Now()
		code, b, err := n.tryAPI("POST", "/v1/pairs", map[string]string{"sender": sender, "ip": ip}, nil)
		if err != nil || code != http.StatusCreated {
			t.Fatalf("write %s through node %d: %d %s %v", sender, n.i, code, b, err)
		}
		return time.Since(t0)
	}
	var senders []string
	for _, n := range nodes {
		s := "wan" + string(rune('0'+n.i)) + "@example.org"
		d := write(n, s)
		senders = append(senders, s)
		role := "follower, forwarded"
		if n == leader {
			role = "leader"
		}
		t.Logf("write through node %d (%s): %v", n.i, role, d.Round(time.Millisecond))
	}
	waitAnswered(t, nodes, senders, ip, 10*time.Second)

	// Kill the leader: the two left elect one and commit.
	t0 := time.Now()
	leader.kill()
	alive := others(nodes, []*nsNode{leader})
	next := nsLeader(t, alive, 60*time.Second)
	elected := time.Since(t0)
	d := write(alive[0], "after-kill@example.org")
	senders = append(senders, "after-kill@example.org")
	t.Logf("leader node %d killed: node %d leads after %v; next write took %v", leader.i, next.i, elected.Round(time.Millisecond), d.Round(time.Millisecond))
	if elected > 30*time.Second {
		t.Errorf("new leader after %v with the WAN profile, want well under 30 s", elected)
	}

	// The old leader comes back, catches up and answers everything.
	leader.restart(t)
	leader.waitReady(leader.readyFile, 90*time.Second)
	waitAnswered(t, nodes, senders, ip, 30*time.Second)
	idx := waitSameSerial(t, apiNodes(nodes), 60*time.Second)
	assertSamePairs(t, apiNodes(nodes))
	t.Logf("converged at applied index %d, %v after the start; WAN: %v", idx, time.Since(start), lab.wan)
	if total := time.Since(start); total > 150*time.Second {
		t.Errorf("the WAN test took %v, want under 150 s", total)
	}
}

// waitAnswered polls every node's DNS until it lists every sender through
// ip, or fails after limit naming what is missing.
func waitAnswered(t *testing.T, nodes []*nsNode, senders []string, ip string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for _, n := range nodes {
		for _, s := range senders {
			qname := senderName(t, dotted(s), ip)
			for {
				m, err := n.query(qname, dns.TypeA, 2*time.Second)
				if err == nil && m.Rcode == dns.RcodeSuccess && len(m.Answer) == 1 {
					if a, ok := m.Answer[0].(*dns.A); ok && a.A.String() == codeSender {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("node %d does not list %s through %s after %v (last: %v %v)", n.i, s, ip, limit, m, err)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
}

// dotted turns local@domain into the escaped query form's local.domain for
// local parts without dots.
func dotted(addr string) string {
	for i := 0; i < len(addr); i++ {
		if addr[i] == '@' {
			return addr[:i] + "." + addr[i+1:]
		}
	}
	return addr
}
