package systest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestRRL_FloodIsLimitedAndNSIDNamesTheNode runs a node with response
// rate limiting on and floods it with ANY queries for a listed sender from
// 40 addresses of one /24, as a spoofed flood would arrive: what comes back
// is fewer bytes than what was sent, part of it truncated answers so a real
// resolver there could retry over TCP. A resolver in another /24 is not
// affected, and dig +nsid shows which node answered.
func TestRRL_FloodIsLimitedAndNSIDNamesTheNode(t *testing.T) {
	dig := needTool(t, "dig", "bind9-dnsutils")
	n := startNode(t, "", "--rrl-rate", "5", "--nsid", "mirror-test-1")
	n.mustCLI("pair", "add", "dave@umkc.edu", "192.0.2.4")
	listed := "dave.umkc.edu.4.2.0.192.sender." + apex + "."
	server := netip.MustParseAddrPort(n.ready.DNSUDP)

	q := new(dns.Msg)
	q.SetQuestion(listed, dns.TypeANY)
	q.SetEdns0(4096, false)
	req, _ := q.Pack()
	var conns []*net.UDPConn
	sent, received, full := 0, 0, 0
	for i := 2; i < 42; i++ {
		c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, byte(i)}), 0)),
			net.UDPAddrFromAddrPort(server))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for range 5 {
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
			sent += len(req)
		}
		conns = append(conns, c)
	}
	buf := make([]byte, 65535)
	for _, c := range conns {
		for {
			_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			k, err := c.Read(buf)
			if err != nil {
				break
			}
			received += k
			m := new(dns.Msg)
			if m.Unpack(buf[:k]) == nil && !m.Truncated {
				full++
			}
		}
	}
	t.Logf("flood of 200 queries: %d bytes sent, %d received, %d full answers", sent, received, full)
	if received > sent || full > 15 {
		t.Fatalf("the flood got %d bytes (%d full answers) for %d sent", received, full, sent)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, dig, "@"+server.Addr().String(), "-b", "127.0.9.1", "-p", fmt.Sprint(server.Port()), "+norec", "+nsid", "+tries=1", listed, "A").CombinedOutput()
	if err != nil {
		t.Fatalf("dig: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "127.0.2.2") || !strings.Contains(string(out), `NSID: 6d 69 72 72 6f 72 2d 74 65 73 74 2d 31 ("mirror-test-1")`) {
		t.Fatalf("dig +nsid from another /24 after the flood:\n%s", out)
	}
}

// TestCookies_MirrorsShareTheSecret runs two nodes with one cookie secret
// file: a server cookie one of them gives kdig is accepted by the other
// (kdig +cookie sends it back and checks the answer's).
func TestCookies_MirrorsShareTheSecret(t *testing.T) {
	kdig := needTool(t, "kdig", "knot-dnsutils")
	secret := filepath.Join(t.TempDir(), "cookie.secret")
	if err := os.WriteFile(secret, []byte("a secret every mirror of this test shares\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startNode(t, "", "--cookie-secret-file", secret)
	b := startNode(t, "", "--cookie-secret-file", secret)
	ask := func(server string, cookie string) string {
		t.Helper()
		host, port, _ := net.SplitHostPort(server)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		args := []string{"@" + host, "-p", port, "+norec", "+retry=0", "+time=3", "+cookie" + cookie, "4.0.0.127.relay." + apex + ".", "A"}
		out, err := exec.CommandContext(ctx, kdig, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("kdig %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := ask(a.ready.DNSUDP, "=0102030405060708")
	m := regexp.MustCompile(`COOKIE: ([0-9A-Fa-f]{16})([0-9A-Fa-f]{32})`).FindStringSubmatch(out)
	if m == nil || !strings.EqualFold(m[1], "0102030405060708") {
		t.Fatalf("first answer carries no client and server cookie:\n%s", out)
	}
	// kdig sends both back to the other mirror; a valid server cookie is
	// echoed unchanged (it is not half an hour old).
	out = ask(b.ready.DNSUDP, "="+m[1]+m[2])
	if !strings.Contains(strings.ToUpper(out), strings.ToUpper(m[1]+m[2])) {
		t.Fatalf("the other mirror did not accept the server cookie (it would echo it):\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(a.dataDir, "cookie.secret")); err == nil {
		t.Error("a node given --cookie-secret-file also made its own")
	}
}
