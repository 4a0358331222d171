package systest

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/miekg/dns"
)

// TestConsole_ClusterActivityAndQueryRates runs three nodes, has each
// answer a known number of queries for one pair, and reads on one node's
// console the cluster's sum per day (the activity page) and every
// member's query rate by zone (the cluster page), both asked over the
// inter-node port.
func TestConsole_ClusterActivityAndQueryRates(t *testing.T) {
	ca := clusterCA(t)
	const secret = "join-secret-for-the-activity-test"
	args := func(id string, join ...string) []string {
		a := append(nodeCert(t, ca, id), "--join-token", secret, "--promote-after", "1s", "--console-sample", "1s")
		return append(a, join...)
	}
	first := startMember(t, filepath.Join(t.TempDir(), "n1"), args("n1")...)
	nodes := []*node{first}
	for _, id := range []string{"n2", "n3"} {
		nodes = append(nodes, startMember(t, filepath.Join(t.TempDir(), id), args(id, "--join", first.ready.Raft)...))
	}
	waitReachableVoters(t, first, 3, 30*time.Second)
	leader := leaderOf(t, nodes, 30*time.Second)
	if code, b := leader.api("POST", "/v1/relays", map[string]any{"ip": consoleRelay, "contact": consoleContact}); code != 201 {
		t.Fatalf("registering the relay: %d %s", code, b)
	}
	addPair(t, leader, "dave@umkc.edu", consoleRelay)
	waitListed(t, nodes, "dave@umkc.edu", consoleRelay, 10*time.Second) // one answer on each node
	qname := senderName(t, "dave.umkc.edu", consoleRelay)
	want := 3
	for i, n := range nodes {
		for range i + 2 { // 2, 3 and 4 more
			if m, err := exchange("udp", n.ready.DNSUDP, qname, dns.TypeA); err != nil || len(m.Answer) != 1 {
				t.Fatalf("asking %s: %v %v", n.ready.DNSUDP, m, err)
			}
			want++
		}
	}

	br := newBrowser(t, "http://"+nodes[1].ready.HTTP, screenshotDir(t))
	br.open("/console/signin")
	br.do(chromedp.SendKeys(chromedp.CSS("#token"), nodes[1].token))
	br.submit(`form[action="/console/signin/token"] button`, "Your relays and groups")
	br.open("/console/activity")
	br.waitText(fmt.Sprintf("%d DNS queries answered through your relays and groups in the last 30 days, counted by 3 of 3 nodes", want))
	if bars := value(br, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart rect.answers").length`)); bars != 1 {
		t.Errorf("the activity chart draws %d days with answers, want 1 (today)", bars)
	}
	br.checkA11y("activity")
	br.shot("32-activity")

	br.open("/console/cluster")
	for _, id := range []string{"n1", "n2", "n3"} {
		br.waitText("DNS queries per second on " + id)
	}
	if lines := value(br, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart polyline.zone-sender").length`)); lines != 3 {
		t.Errorf("the cluster page draws %d members' sender-zone rates, want 3", lines)
	}
	br.checkA11y("cluster-qps")
	br.shot("33-cluster-qps")
}
