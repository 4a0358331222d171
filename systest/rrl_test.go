package systest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
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
