package systest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDNSOverTLS_UnboundForwardsAndTheWireShowsNoAddress puts wlns in a
// network namespace behind a veth pair and a real Unbound in front of it
// that forwards the apex over TLS (forward-tls-upstream), and captures the
// veth with tcpdump while a sender name is resolved: the answer arrives,
// and the capture holds TLS to port 853 but not the sender's address in
// clear. A plain query to port 53 during the same capture shows its name,
// so the capture would have seen it.
func TestDNSOverTLS_UnboundForwardsAndTheWireShowsNoAddress(t *testing.T) {
	needRoot(t)
	tcpdump := needTool(t, "tcpdump", "tcpdump")
	ns, hostIP, nodeIP := vethNamespace(t)

	tlsDir := filepath.Join(t.TempDir(), "tls")
	if r := runWlns(t, "ca", "issue", "--ca", clusterCA(t), "--node-id", "ns1", "--addr", "ns1.wl.test", "--addr", nodeIP, "--out", tlsDir); r.code != 0 {
		t.Fatalf("wlns ca issue: exit %d: %s", r.code, r.stderr)
	}
	n, readyFile := launchIn(t, ns, filepath.Join(t.TempDir(), "data"), "--dns", nodeIP+":53", "--http", nodeIP+":8053",
		"--dns-tls", nodeIP+":853", "--dns-tls-cert", filepath.Join(tlsDir, "node.crt"), "--dns-tls-key", filepath.Join(tlsDir, "node.key"))
	n.waitReady(readyFile, 60*time.Second)
	server := "http://" + nodeIP + ":8053"
	for _, sender := range []string{"dot.private@umkc.edu", "plain.control@umkc.edu"} {
		if r := runWlns(t, "pair", "add", sender, "192.0.2.4", "--server", server, "--token", n.token); r.code != 0 {
			t.Fatalf("pair add %s: exit %d %s", sender, r.code, r.stderr)
		}
	}

	u := startUnbound(t, unboundConfig{host: spareLoopback(t), port: freeUDPPort(t, "127.0.0.1"), stub: nodeIP + ":53",
		forwardTLS: nodeIP + "@853#ns1.wl.test", tlsBundle: filepath.Join(tlsDir, "ca.crt")})

	pcap := filepath.Join(t.TempDir(), "veth.pcap")
	stopCapture := capture(t, tcpdump, hostVeth(ns), pcap)
	private := "dot\\.private.umkc.edu.4.2.0.192.sender." + apex + "."
	m := u.resolve(t, private, dns.TypeA)
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "127.0.2.2" {
		t.Fatalf("Unbound over TLS: %v", m)
	}
	control, err := exchange("udp", nodeIP+":53", "plain\\.control.umkc.edu.4.2.0.192.sender."+apex+".", dns.TypeA)
	if err != nil || len(control.Answer) != 1 {
		t.Fatalf("plain control query: %v %v", control, err)
	}
	wire := stopCapture()

	if !bytes.Contains(wire, []byte("control")) {
		t.Fatalf("the capture (%d bytes) misses the plain query's name: it would not show a leak either; tcpdump said: %s", len(wire), readFile(pcap+".log"))
	}
	for _, clear := range []string{"private", "dot\\.private", "dot.private"} {
		if bytes.Contains(wire, []byte(clear)) {
			t.Fatalf("the sender's local part %q is on the wire in clear", clear)
		}
	}
	resp, err := http.Get(server + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`(?m)^wlns_dns_tls_connections_total [1-9]`).Match(metrics) {
		t.Fatal("wlns counted no DNS-over-TLS connection: Unbound did not ask over TLS")
	}
	t.Logf("capture on %s (host side %s): %d bytes, no %q in clear", hostVeth(ns), hostIP, len(wire), "dot.private")
}

// vethNamespace makes a network namespace joined to this one by a veth
// pair in a random 10.78.x.0/30, and returns its name, this side's address
// and the namespace side's.
func vethNamespace(t *testing.T) (ns, hostIP, nodeIP string) {
	t.Helper()
	var rb [2]byte
	if _, err := rand.Read(rb[:]); err != nil {
		t.Fatal(err)
	}
	ns = fmt.Sprintf("wdot-%x", rb)
	hostIP, nodeIP = fmt.Sprintf("10.78.%d.1", rb[0]), fmt.Sprintf("10.78.%d.2", rb[0])
	run := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	run("link", "add", hostVeth(ns), "type", "veth", "peer", "name", "eth0", "netns", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", hostVeth(ns)).Run() })
	run("addr", "add", hostIP+"/30", "dev", hostVeth(ns))
	run("link", "set", hostVeth(ns), "up")
	run("-n", ns, "addr", "add", nodeIP+"/30", "dev", "eth0")
	run("-n", ns, "link", "set", "eth0", "up")
	run("-n", ns, "link", "set", "lo", "up")
	return ns, hostIP, nodeIP
}

// hostVeth is the name of this side of namespace ns's veth pair.
func hostVeth(ns string) string { return "v" + strings.TrimPrefix(ns, "wdot-") }

// capture runs tcpdump on iface into file until the returned function is
// called, which returns the captured bytes.
func capture(t *testing.T, tcpdump, iface, file string) func() []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	// -Z root: tcpdump would switch to its own user, which cannot write
	// into the test's private temp folder.
	cmd := exec.CommandContext(ctx, tcpdump, "-Z", "root", "--immediate-mode", "-i", iface, "-n", "-U", "-s", "0", "-w", file)
	logPath := file + ".log"
	logf, err := os.Create(logPath)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting tcpdump: %v", err)
	}
	stderr := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr(), "listening on") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("tcpdump did not start: %s", stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() []byte {
		defer cancel()
		time.Sleep(200 * time.Millisecond) // let the last packets land
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("reading the capture: %v (%s)", err, stderr())
		}
		return b
	}
}

func readFile(p string) string { b, _ := os.ReadFile(p); return string(b) }
