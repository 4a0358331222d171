package systest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// waitVoters polls `wlns cluster status` on n until it lists want members,
// all voters.
func waitVoters(t *testing.T, n *node, want int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ms := members(t, n)
		voters := 0
		for _, m := range ms {
			if m["voter"] == true {
				voters++
			}
		}
		if len(ms) == want && voters == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %d voters within %v: %v", want, limit, ms)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dnsAnswer asks n for name and returns the rcode and answer count, or -1
// when the server does not answer.
func dnsAnswer(addr, name string) (rcode, answers int) {
	m, err := exchange("udp", addr, name, dns.TypeA)
	if err != nil {
		return -1, 0
	}
	return m.Rcode, len(m.Answer)
}

// waitDNS polls addr until name gets rcode with at least one answer for
// NOERROR, and returns how long it took. On failure it reports each of
// explain's /readyz and log (the node that answers, and the run before it).
func waitDNS(t *testing.T, addr, name string, rcode int, limit time.Duration, explain ...*node) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		rc, an := dnsAnswer(addr, name)
		if rc == rcode && (rcode != dns.RcodeSuccess || an > 0) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			var why strings.Builder
			for _, n := range explain {
				fmt.Fprintf(&why, "\n%s\nlog %s:\n%s", n.readyzNow(), n.logPath, n.logTail())
			}
			t.Fatalf("%s on %s: rcode %d with %d answers after %v, want %s%s", name, addr, rc, an, limit, dns.RcodeToString[rcode], why.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyzNow describes n's /readyz answer, or why there is none, for a
// failure message (it never fails the test itself).
func (n *node) readyzNow() string {
	select {
	case <-n.done:
		return fmt.Sprintf("process exited: %v", n.waitErr)
	default:
	}
	if n.ready.HTTP == "" {
		return "/readyz: no HTTP address"
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + n.ready.HTTP + "/readyz")
	if err != nil {
		return fmt.Sprintf("/readyz: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("/readyz: %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}

// readyz returns /readyz's status code and body.
func readyz(t *testing.T, n *node) (int, string) {
	t.Helper()
	code, b := n.api("GET", "/readyz", nil)
	return code, string(b)
}

// mirrorCluster starts three voters on the LAN profile (with extra flags),
// writes one pair through the second and waits until all three answer it;
// it returns the nodes and the pair's query name.
func mirrorCluster(t *testing.T, extra ...string) ([]*node, string) {
	t.Helper()
	ca := clusterCA(t)
	common := append([]string{"--raft-profile", "lan", "--promote-after", "1s", "--join-token", "mirror-test-secret"}, extra...)
	first := startMember(t, filepath.Join(t.TempDir(), "n1"), append(nodeCert(t, ca, "n1"), common...)...)
	nodes := []*node{first}
	for _, id := range []string{"n2", "n3"} {
		args := append(append(nodeCert(t, ca, id), common...), "--join", first.ready.Raft)
		nodes = append(nodes, startMember(t, filepath.Join(t.TempDir(), id), args...))
	}
	waitVoters(t, first, 3, 30*time.Second)
	addPair(t, nodes[1], "mirror@example.org", "192.0.2.10")
	waitListed(t, nodes, "mirror@example.org", "192.0.2.10", 10*time.Second)
	return nodes, senderName(t, "mirror.example.org", "192.0.2.10")
}

// relaunch restarts n on its data and inter-node address with DNS and HTTP
// on ports known in advance, without waiting for it to be ready.
func relaunch(t *testing.T, n *node) (*node, string) {
	t.Helper()
	again, _ := launch(t, n.dataDir, append(nodeArgsOf(n), "--dns", "127.0.0.1:0", "--http", "127.0.0.1:0")...)
	// Without a leader the node writes no ready file, so its bound ports
	// come from its log: a port picked here and bound later could be taken
	// by another test's node in between, and then that node would answer.
	dnsAddr := again.waitLogAttr(`msg="dns server listening"`, "udp", 20*time.Second)
	again.ready.HTTP = again.waitLogAttr(`msg="http server listening"`, "addr", 20*time.Second)
	again.token = n.token
	return again, dnsAddr
}

// waitLogAttr waits for a log line of the node containing msg and returns
// the value of its attribute key (key=value, unquoted).
func (n *node) waitLogAttr(msg, key string, limit time.Duration) string {
	n.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		b, _ := os.ReadFile(n.logPath)
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, msg) {
				continue
			}
			for _, f := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(f, key+"="); ok {
					return v
				}
			}
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("no log line %s with %s= after %v:\n%s", msg, key, limit, n.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMirror_CrashedFollowerRefusesUntilItHasReplayed kills a follower (no
// shutdown snapshot) while the others are down: restarted, it holds less
// than it answered before, so it answers REFUSED rather than "not listed"
// until a leader is back and it has replayed its log.
func TestMirror_CrashedFollowerRefusesUntilItHasReplayed(t *testing.T) {
	nodes, name := mirrorCluster(t)
	for _, n := range nodes {
		n.kill()
	}
	again, dnsAddr := relaunch(t, nodes[2])
	waitDNS(t, dnsAddr, name, dns.RcodeRefused, 5*time.Second)
	if code, body := readyz(t, again); code != http.StatusServiceUnavailable || !strings.Contains(body, "past its snapshot") {
		t.Fatalf("/readyz after a crash: %d %s, want 503 naming the log not replayed", code, body)
	}
	for _, n := range nodes[:2] {
		launch(t, n.dataDir, nodeArgsOf(n)...)
	}
	took := waitDNS(t, dnsAddr, name, dns.RcodeSuccess, 30*time.Second)
	t.Logf("answering again %v after the others were restarted", took)
}

// TestMirror_RestartedAloneServesItsDataThenWithdrawsWhenStale restarts a
// follower while both other nodes are down: it answers DNS from its own
// data at once, /readyz says it is not caught up; past --max-stale it
// answers REFUSED and says why; once the others are back it answers again.
func TestMirror_RestartedAloneServesItsDataThenWithdrawsWhenStale(t *testing.T) {
	const maxStale = 6 * time.Second
	nodes, name := mirrorCluster(t, "--max-stale", maxStale.String())

	// The follower stops cleanly; then the other two die.
	mirror := nodes[2]
	if err := mirror.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping n3: %v\n%s", err, mirror.logTail())
	}
	nodes[0].kill()
	nodes[1].kill()

	launched := time.Now()
	again, dnsAddr := relaunch(t, mirror)
	took := waitDNS(t, dnsAddr, name, dns.RcodeSuccess, 5*time.Second, again, mirror)
	t.Logf("restarted mirror answered from its data %v after launch, with no leader", took)
	if code, body := readyz(t, again); code != http.StatusServiceUnavailable || !strings.Contains(body, "no leader known") {
		t.Fatalf("/readyz without a leader: %d %s, want 503 saying no leader is known", code, body)
	}

	// Past --max-stale it withdraws: REFUSED, and /readyz, /v1/status and
	// the metric say so.
	waitDNS(t, dnsAddr, name, dns.RcodeRefused, maxStale+5*time.Second)
	if d := time.Since(launched); d < maxStale {
		t.Fatalf("withdrew %v after start, before --max-stale %v", d, maxStale)
	}
	if code, body := readyz(t, again); code != http.StatusServiceUnavailable || !strings.Contains(body, "stale: no contact with the leader") {
		t.Fatalf("/readyz when stale: %d %s", code, body)
	}
	if code, b := again.api("GET", "/v1/status", nil); code != http.StatusOK || !strings.Contains(string(b), "stale") {
		t.Fatalf("/v1/status when stale: %d %s", code, b)
	}
	if code, b := again.api("GET", "/healthz", nil); code != http.StatusOK || !strings.Contains(string(b), "stale") {
		t.Fatalf("/healthz when stale: %d %s, want 200 naming the reason", code, b)
	}
	if v := nodeMetric(t, again, "wlns_dns_withdrawn"); v != 1 {
		t.Fatalf("wlns_dns_withdrawn = %v while refusing", v)
	}

	// The others come back: it answers again by itself.
	for _, n := range nodes[:2] {
		launch(t, n.dataDir, nodeArgsOf(n)...)
	}
	took = waitDNS(t, dnsAddr, name, dns.RcodeSuccess, 30*time.Second)
	t.Logf("answering again %v after the others were restarted", took)
	if v := nodeMetric(t, again, "wlns_dns_withdrawn"); v != 0 {
		t.Fatalf("wlns_dns_withdrawn = %v while answering", v)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := readyz(t, again)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the others returned: %d %s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// peerSerial dials a node's inter-node port with a certificate of the
// cluster CA and returns the serial number of the certificate it presents.
func peerSerial(t *testing.T, addr string, client []string) string {
	t.Helper()
	flags := map[string]string{}
	for i := 0; i+1 < len(client); i += 2 {
		flags[client[i]] = client[i+1]
	}
	cert, err := tls.LoadX509KeyPair(flags["--cluster-cert"], flags["--cluster-key"])
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(flags["--cluster-ca"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{MinVersion: tls.VersionTLS13,
		Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"wlns-node/1"}}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("TLS dial of %s: %v", addr, err)
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// fileSerial returns the serial number of the PEM certificate at path.
func fileSerial(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.String()
}

// TestMirror_RotatedCertificateIsUsedWithoutRestart re-issues a running
// node's certificate in place: within the reload interval new inter-node
// connections get the new certificate, and the node keeps serving.
func TestMirror_RotatedCertificateIsUsedWithoutRestart(t *testing.T) {
	ca := clusterCA(t)
	flags := nodeCert(t, ca, "n1")
	n := startMember(t, filepath.Join(t.TempDir(), "n1"), append(flags, "--join-token", "rotation-secret")...)
	probe := nodeCert(t, ca, "probe")
	certPath := flags[3] // --cluster-cert's value
	old := fileSerial(t, certPath)
	if got := peerSerial(t, n.ready.Raft, probe); got != old {
		t.Fatalf("node presents serial %s, its file has %s", got, old)
	}
	if r := runWlns(t, "ca", "issue", "--ca", ca, "--node-id", "n1", "--addr", "127.0.0.1", "--out", filepath.Dir(certPath)); r.code != 0 {
		t.Fatalf("wlns ca issue: exit %d: %s", r.code, r.stderr)
	}
	rotated := fileSerial(t, certPath)
	deadline := time.Now().Add(20 * time.Second)
	for peerSerial(t, n.ready.Raft, probe) != rotated {
		if time.Now().After(deadline) {
			t.Fatalf("still the old certificate 20 s after rotation; log:\n%s", n.logTail())
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.Contains(n.logTail(), "cluster certificate reloaded") {
		t.Fatalf("the reload was not logged:\n%s", n.logTail())
	}
	addPair(t, n, "rotated@example.org", "192.0.2.10")
	waitListed(t, []*node{n}, "rotated@example.org", "192.0.2.10", 10*time.Second)
}
