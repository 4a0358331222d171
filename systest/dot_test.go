package systest

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDNSOverTLS_KdigAsksOverTLS runs a node with --dns-tls and a
// certificate from a private CA, and asks kdig over TLS, verifying the
// certificate against that CA: a listed sender answers as over UDP, an
// unlisted one has no answer (and the SOA), and kdig without the CA refuses the server.
func TestDNSOverTLS_KdigAsksOverTLS(t *testing.T) {
	kdig := needTool(t, "kdig", "knot-dnsutils")
	out := filepath.Join(t.TempDir(), "tls")
	if r := runWlns(t, "ca", "issue", "--ca", clusterCA(t), "--node-id", "ns1", "--addr", "127.0.0.1", "--out", out); r.code != 0 {
		t.Fatalf("wlns ca issue: exit %d: %s", r.code, r.stderr)
	}
	ca := filepath.Join(out, "ca.crt")
	n := startNode(t, "", "--dns-tls", "127.0.0.1:0",
		"--dns-tls-cert", filepath.Join(out, "node.crt"), "--dns-tls-key", filepath.Join(out, "node.key"))
	if n.ready.DNSTLS == "" || n.ready.DNSTLS == n.ready.DNSTCP {
		t.Fatalf("ready file DNS-over-TLS address %q (TCP %q)", n.ready.DNSTLS, n.ready.DNSTCP)
	}
	n.mustCLI("pair", "add", "dave@umkc.edu", "192.0.2.4")

	overTLS := toolAsk(kdig, "+tls", "+tls-ca="+ca, "+tls-hostname=127.0.0.1", "+retry=0", "+time=5")
	listed := "dave.umkc.edu.4.2.0.192.sender." + apex + "."
	r := overTLS(t, n.ready.DNSTLS, listed, dns.TypeA)
	if r.rcode != dns.RcodeSuccess || !r.aa || len(r.answer) != 1 || r.answer[0].(*dns.A).A.String() != "127.0.2.2" {
		t.Fatalf("listed sender over TLS: %+v", r)
	}
	if r := overTLS(t, n.ready.DNSTLS, "eve.umkc.edu.4.2.0.192.sender."+apex+".", dns.TypeA); len(r.answer) != 0 || len(r.ns) != 1 {
		t.Fatalf("unlisted sender over TLS: %+v", r)
	}

	// Without the CA, kdig does not trust the server and gets no answer.
	_, port, _ := net.SplitHostPort(n.ready.DNSTLS)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := runCmd(t, exec.CommandContext(ctx, kdig, "@127.0.0.1", "-p", port, "+tls-ca", "+tls-hostname=127.0.0.1",
		"+retry=0", "+time=3", listed, "A"))
	if res.code == 0 && statusRE.MatchString(res.stdout) {
		t.Fatalf("kdig trusted a certificate of a private CA it was not given:\n%s", res.stdout)
	}
}
