package systest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// expiryFlags give a 3-node cluster an expiry window of a few seconds.
var expiryFlags = []string{"--touch-interval", "1s", "--touch-granularity", "1s", "--sweep-interval", "1s",
	"--expire-pairs", "6s", "--expire-domain-pairs", "6s", "--expire-verp", "6s", "--expire-relays", "6s"}

// hasPair asks n's API (not its DNS server, which would mark the pair as
// seen) whether the pair exists.
func hasPair(t *testing.T, n *node, sender, ip string) bool {
	t.Helper()
	code, b := n.api("GET", "/v1/pairs?sender="+sender+"&ip="+ip, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/pairs on %s: %d %s", n.ready.HTTP, code, b)
	}
	var l struct {
		Pairs []json.RawMessage `json:"pairs"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	return len(l.Pairs) > 0
}

// nodeMetric reads one series (name with labels, as exposed) from n's /metrics.
func nodeMetric(t *testing.T, n *node, series string) float64 {
	t.Helper()
	code, b := n.api("GET", "/metrics", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", series, err)
			}
			return f
		}
	}
	t.Fatalf("metric %s not exposed by %s", series, n.ready.HTTP)
	return 0
}

func TestExpiry_ThreeNodesForgetWhatNobodyAsksFor(t *testing.T) {
	start := time.Now()
	ca := clusterCA(t)
	const secret = "join-secret-for-the-expiry-test"
	first := startMember(t, filepath.Join(t.TempDir(), "n1"), append(append(nodeCert(t, ca, "n1"), "--join-token", secret), expiryFlags...)...)
	join := func(id string) []string {
		return append(append(nodeCert(t, ca, id), "--join", first.ready.Raft, "--join-token", secret), expiryFlags...)
	}
	second := startMember(t, filepath.Join(t.TempDir(), "n2"), join("n2")...)
	third := startMember(t, filepath.Join(t.TempDir(), "n3"), join("n3")...)
	nodes := []*node{first, second, third}
	leaderOf(t, nodes, 20*time.Second)
	t.Logf("3 nodes up after %v", time.Since(start))

	const ip = "192.0.2.33"
	kept, gone, pinned := "kept@example.org", "gone@example.org", "pinned@example.org"
	addPair(t, second, kept, ip)
	addPair(t, second, gone, ip)
	if code, b := second.api("POST", "/v1/pairs", map[string]any{"sender": pinned, "ip": ip, "pinned": true}); code != http.StatusCreated {
		t.Fatalf("pinned pair: %d %s", code, b)
	}
	for _, n := range nodes {
		deadline := time.Now().Add(10 * time.Second)
		for !hasPair(t, n, pinned, ip) {
			if time.Now().After(deadline) {
				t.Fatalf("pairs not replicated to %s", n.ready.HTTP)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// Only the third node is asked, about the kept pair, twice a second,
	// until the unqueried pair has gone from every node.
	qname := func(sender string) string { return senderName(t, strings.Replace(sender, "@", ".", 1), ip) }
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := exchange("udp", third.ready.DNSUDP, qname(kept), dns.TypeA)
		if err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
			t.Fatalf("kept pair not answered by the node it is queried on: %v %v\nlog:\n%s", m, err, third.logTail())
		}
		goneEverywhere := true
		for _, n := range nodes {
			goneEverywhere = goneEverywhere && !hasPair(t, n, gone, ip)
		}
		if goneEverywhere {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unqueried pair did not expire within 30 s; leader log:\n%s", first.logTail())
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("unqueried pair expired everywhere after %v", time.Since(start))

	// Keep querying a few more windows' worth of sweeps, then check every node.
	for range 8 {
		exchange("udp", third.ready.DNSUDP, qname(kept), dns.TypeA)
		time.Sleep(500 * time.Millisecond)
	}
	for i, n := range nodes {
		for _, c := range []struct {
			sender string
			listed bool
		}{{kept, true}, {pinned, true}, {gone, false}} {
			m, err := exchange("udp", n.ready.DNSUDP, qname(c.sender), dns.TypeA)
			if err != nil {
				t.Fatalf("node %d: %s: %v", i+1, c.sender, err)
			}
			if listed := m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0; listed != c.listed {
				t.Errorf("node %d: %s listed = %v, want %v (rcode %s)", i+1, c.sender, listed, c.listed, dns.RcodeToString[m.Rcode])
			}
		}
		if v := nodeMetric(t, n, `wlns_expiry_records_expired_total{kind="pairs"}`); v != 1 {
			t.Errorf("node %d: expired pairs = %v, want 1", i+1, v)
		}
		if v := nodeMetric(t, n, "wlns_expiry_last_sweep_timestamp_seconds"); v < float64(start.Unix()) {
			t.Errorf("node %d: last sweep %v, before the test started", i+1, v)
		}
	}
	if v := nodeMetric(t, third, "wlns_expiry_touch_batches_total"); v < 2 {
		t.Errorf("queried node proposed %v touch batches", v)
	}
	if v := nodeMetric(t, first, "wlns_expiry_touch_bytes_total"); v != 0 {
		t.Errorf("a node nobody queried proposed %v touch bytes", v)
	}
	t.Logf("done after %v", time.Since(start))
}
