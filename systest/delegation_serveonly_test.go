package systest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDelegation_ServeOnlyNodeFollowsTheCluster proves a postmaster's own
// wlns node end to end, with the commands of docs/delegation.md ("A wlns
// node of your own"), in the Zonemaster lab's two network namespaces:
// "server" (10.53.0.2) runs the cluster's node with zone transfer and a
// TSIG key scoped to 192.0.2.0/24; "client" (10.53.0.1) runs the
// postmaster's `wlns serve --serve-only 192.0.2.0/24`, the delegation's
// name server, and an Unbound with strict QNAME minimisation whose stub
// for the apex is the cluster. Names above, at and below the cut resolve;
// an unlisted sender at a listed relay is NODATA as the cluster says (a
// standard secondary says NXDOMAIN); an SPF exists: check passes; a pair
// added on the cluster reaches the node by NOTIFY within seconds (its
// refresh is 5 minutes); the cluster's lame-delegation check finds the
// node authoritative; the node, restarted with the cluster gone, serves
// its copy at once, and past its expire time answers SERVFAIL, fails
// /readyz and says so in a metric.
func TestDelegation_ServeOnlyNodeFollowsTheCluster(t *testing.T) {
	needRoot(t)
	dig := needTool(t, "dig", "bind9-dnsutils")
	l := newZMLab(t)
	dir := t.TempDir()
	keys := writeFile(t, dir, "tsig.keys", "operator. hmac-sha256 b3BlcmF0b3ItdHNpZy1rZXktc2VjcmV0LXZhbHVl\n"+
		"pm-umkc. hmac-sha256 cG9zdG1hc3Rlci1vZi11bWtjLWtleS1zZWNyZXQ= 192.0.2.0/24\n")
	pmKey := writeFile(t, dir, "pm.key", "pm-umkc. hmac-sha256 cG9zdG1hc3Rlci1vZi11bWtjLWtleS1zZWNyZXQ=\n")
	pmData := filepath.Join(dir, "pm-data")
	var cluster, child []string
	for _, args := range docBlockCommands(t, "../docs/delegation.md", "shell", "wl.example.org", apex, "203.0.113.1", zmNS1,
		"198.51.100.53", zmRoot, "/etc/wlns/tsig.keys", keys, "/etc/wlns/pm.key", pmKey, "/var/lib/wlns", pmData, "127.0.0.1:8053", "127.0.0.1:0") {
		if strings.Contains(strings.Join(args, " "), "--serve-only") {
			child = args[1:]
		} else {
			cluster = args[1:]
		}
	}
	if cluster == nil || child == nil {
		t.Fatal("docs/delegation.md lacks the cluster's or the serve-only node's serve command")
	}
	n, ready := launchIn(t, l.server, filepath.Join(dir, "data"), append(cluster, "--ns", "ns1."+apex+"="+zmNS1, "--xfr-interval", "200ms",
		"--delegation-check-interval", "1s", "--delegation-check-timeout", "1s")...)
	n.waitReady(ready, 60*time.Second)
	pm := seedDelegation(t, l.server, n)
	runDocDelegation(t, l.server, n, t.TempDir(), pm)

	node := startServeOnly(t, l, pmData, child)
	dave := "dave.umkc.edu.4.2.0.192.sender." + apex
	node.waitAnswer(dave, 30*time.Second)
	out := runCmd(t, exec.Command("ip", "netns", "exec", l.client, dig, "+norec", "@"+zmRoot, dave, "A")).stdout
	if !strings.Contains(out, "flags: qr aa;") || !strings.Contains(out, codeSender) {
		t.Errorf("dig at the serve-only node:\n%s", out)
	}
	if m := node.ask("9.100.51.198.relay."+apex, dns.TypeA); m.Rcode != dns.RcodeRefused {
		t.Errorf("serve-only node outside its cuts: %s, want REFUSED", dns.RcodeToString[m.Rcode])
	}
	// The cluster's lame-delegation check finds the node authoritative.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		line := lineOf(mustIn(t, l.server, n, n.token, "delegation", "list"), "192.0.2.0/24")
		if strings.Contains(line, " no ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delegation to the serve-only node not checked as working: %q", line)
		}
	}

	u := l.spfUnbound()
	u.check(t, []resolveCase{
		{"above the cut: an empty non-terminal", "192.relay." + apex, dns.TypeA, dns.RcodeSuccess, ""},
		{"beside the cut: the cluster's relay", "9.100.51.198.relay." + apex, dns.TypeA, dns.RcodeSuccess, codeRelay},
		{"at the cut: the node's SOA", "2.0.192.relay." + apex, dns.TypeSOA, dns.RcodeSuccess, "ns1.2.0.192.relay." + apex + "."},
		{"below: relay", "4.2.0.192.relay." + apex, dns.TypeA, dns.RcodeSuccess, codeRelay},
		{"below: pair", dave, dns.TypeA, dns.RcodeSuccess, codeSender},
		{"below: VERP source", "lists.umkc.edu.4.2.0.192.verp." + apex, dns.TypeA, dns.RcodeSuccess, codeVerp},
		{"below: unlisted address", "5.2.0.192.relay." + apex, dns.TypeA, dns.RcodeNameError, ""},
		{"below: unlisted sender at a listed relay, NODATA as the cluster", "nobody.umkc.edu.4.2.0.192.sender." + apex, dns.TypeA, dns.RcodeSuccess, ""},
	})
	spf := newSPFChecker(t, "127.0.0.1")
	spf.netns = l.client
	if got := spf.libspf2("dave@umkc.edu", "192.0.2.4"); got != "pass" {
		t.Errorf("spfquery dave@umkc.edu from 192.0.2.4 = %q, want pass", got)
	}

	// A change on the cluster reaches the node by NOTIFY.
	start := time.Now()
	mustIn(t, l.server, n, n.token, "pair", "add", "eve@umkc.edu", "192.0.2.4")
	eve := "eve.umkc.edu.4.2.0.192.sender." + apex
	node.waitAnswer(eve, 10*time.Second)
	t.Logf("a pair added on the cluster answered by the serve-only node %v after the write", time.Since(start))
	if m := u.resolve(t, eve, dns.TypeA); len(m.Answer) == 0 {
		t.Errorf("eve through Unbound after the change: %v", m)
	}
	if got := metricIn(t, l.client, node.ready.HTTP, `wlns_serveonly_zone_expired{zone="2.0.192.sender.`+apex+`."}`); got != "0" {
		t.Errorf("wlns_serveonly_zone_expired = %q, want 0", got)
	}

	// The cluster goes away; the restarted node serves its copy at once.
	if err := n.stop(syscall.SIGTERM); err != nil {
		t.Logf("stopping the cluster node: %v", err)
	}
	_ = node.stop(syscall.SIGTERM)
	node = startServeOnly(t, l, pmData, child)
	if m := node.ask(eve, dns.TypeA); len(m.Answer) != 1 || !m.Authoritative {
		t.Errorf("restarted serve-only node, cluster gone: %v", m)
	}

	// Past its expire time without a refresh: SERVFAIL, not ready.
	_ = node.stop(syscall.SIGTERM)
	node = startServeOnly(t, l, pmData, append(child, "--serve-only-expire", "1s"))
	time.Sleep(1100 * time.Millisecond)
	if m := node.ask(eve, dns.TypeA); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("expired zone: %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
	if got := metricIn(t, l.client, node.ready.HTTP, `wlns_serveonly_zone_expired{zone="2.0.192.sender.`+apex+`."}`); got != "1" {
		t.Errorf("wlns_serveonly_zone_expired = %q past the expire time, want 1", got)
	}
	readyz := runCmd(t, exec.Command("ip", "netns", "exec", l.client, needTool(t, "curl", "curl"), "-s", "http://"+node.ready.HTTP+"/readyz"))
	if !strings.Contains(readyz.stdout, "expired") {
		t.Errorf("/readyz of the expired node: %q", readyz.stdout)
	}
}

// serveOnly is a running `wlns serve --serve-only` in the lab's client
// namespace.
type serveOnly struct {
	*node
	l *zmLab
}

func startServeOnly(t *testing.T, l *zmLab, data string, args []string) *serveOnly {
	t.Helper()
	n, ready := launchIn(t, l.client, data, args...)
	n.readReady(ready, 30*time.Second)
	return &serveOnly{node: n, l: l}
}

// ask queries the node from its namespace.
func (s *serveOnly) ask(name string, qtype uint16) *dns.Msg {
	s.t.Helper()
	ns, err := os.Open("/run/netns/" + s.l.client)
	if err != nil {
		s.t.Fatal(err)
	}
	defer ns.Close()
	var m *dns.Msg
	if err := inNetns(ns, func() (err error) { m, err = exchange("udp", zmRoot+":53", name, qtype); return err }); err != nil {
		s.t.Fatalf("asking the serve-only node %s: %v", name, err)
	}
	return m
}

// waitAnswer waits until the node answers name with an A record and AA.
func (s *serveOnly) waitAnswer(name string, limit time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	for {
		m := s.ask(name, dns.TypeA)
		if len(m.Answer) > 0 && m.Authoritative {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			s.t.Fatalf("serve-only node does not answer %s after %v: %v\nlog:\n%s", name, limit, m, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
