package zone

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/index"
)

func startServer(t *testing.T, listen string, ix *index.Index, reg prometheus.Registerer) *Server {
	t.Helper()
	return startServerConfig(t, Config{Apex: testApex, Listen: listen, Readers: 2, NS: []string{"ns1.example.net."},
		Registerer: reg}, ix)
}

// startServerConfig starts a server with cfg and shuts it down when the
// test ends.
func startServerConfig(t *testing.T, cfg Config, ix *index.Index) *Server {
	t.Helper()
	s, err := New(cfg, ix)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func query(t *testing.T, net, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net, Timeout: 2 * time.Second}
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	m, _, err := c.Exchange(q, addr)
	if err != nil {
		t.Fatalf("%s query %s: %v", net, name, err)
	}
	return m
}

func TestServer_AnswersOverUDPAndTCP(t *testing.T) {
	ix := fixture(t)
	reg := prometheus.NewRegistry()
	s := startServer(t, "127.0.0.1:0", ix, reg)
	if s.UDPAddr().Port() != s.TCPAddr().Port() || s.UDPAddr().Port() == 0 {
		t.Fatalf("udp %v tcp %v: want one non-zero port", s.UDPAddr(), s.TCPAddr())
	}
	for _, netw := range []string{"udp", "tcp"} {
		addr := s.UDPAddr().String()
		if netw == "tcp" {
			addr = s.TCPAddr().String()
		}
		for i := 0; i < 3; i++ { // several, so that both readers are likely used
			m := query(t, netw, addr, "dave.umkc.edu.4.2.0.192.sender.wl.example.org.", dns.TypeA)
			if m.Rcode != 0 || len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "127.0.2.2" {
				t.Fatalf("%s: %v", netw, m)
			}
		}
		m := query(t, netw, addr, "1.1.1.10.relay.wl.example.org.", dns.TypeA)
		if m.Rcode != dns.RcodeNameError || len(m.Ns) != 1 {
			t.Fatalf("%s: %v", netw, m)
		}
	}
	if got := metricValue(t, reg, "wlns_dns_queries_total", `result="listed",zone="sender"`); got != 6 {
		t.Errorf("listed sender queries counted %v, want 6", got)
	}
	if ix.Load().Pair(1, []byte("dave@umkc.edu")).Seen() == 0 {
		t.Errorf("a positive answer must mark the pair seen")
	}
}

// metricValue returns the gathered value of one labelled counter or gauge.
func metricValue(t *testing.T, reg *prometheus.Registry, name, labels string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var parts []string
			for _, lp := range m.GetLabel() {
				parts = append(parts, lp.GetName()+`="`+lp.GetValue()+`"`)
			}
			if strings.Join(parts, ",") != labels {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s{%s} not found", name, labels)
	return 0
}

func TestServer_TCPPipelining(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", fixture(t), nil)
	c, err := net.DialTimeout("tcp", s.TCPAddr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	checkPipelined(t, c)
}

// checkPipelined writes two queries in one write on a stream connection
// and checks both answers arrive, in order (RFC 7766).
func checkPipelined(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	names := []string{"4.2.0.192.relay.wl.example.org.", "lists.example.net.4.2.0.192.verp.wl.example.org."}
	var frames []byte
	for i, n := range names {
		q := new(dns.Msg)
		q.SetQuestion(n, dns.TypeA)
		q.Id = uint16(100 + i)
		b, _ := q.Pack()
		frames = binary.BigEndian.AppendUint16(frames, uint16(len(b)))
		frames = append(frames, b...)
	}
	if _, err := c.Write(frames); err != nil { // both queries in one write
		t.Fatal(err)
	}
	want := []string{"127.0.2.1", "127.0.2.4"}
	for i := range names {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatalf("reading answer %d: %v", i, err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		if m.Id != uint16(100+i) || len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != want[i] {
			t.Errorf("answer %d: %v", i, m)
		}
	}
}

func TestServer_IPv6Loopback(t *testing.T) {
	ln, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no IPv6 loopback: %v", err)
		}
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	s := startServer(t, "[::1]:0", fixture(t), nil)
	for _, netw := range []string{"udp", "tcp"} {
		m := query(t, netw, s.UDPAddr().String(), "2.0.0.127.relay.wl.example.org.", dns.TypeA)
		if len(m.Answer) != 1 {
			t.Errorf("%s over [::1]: %v", netw, m)
		}
	}
}

func TestConfig_ValidateSaysWhatIsWrong(t *testing.T) {
	tests := []struct {
		desc string
		cfg  Config
		want string // substring of the error; "" means valid
	}{
		{"defaults are valid", Config{}, ""},
		{"wildcard IPv4", Config{Listen: "0.0.0.0:53"}, wildcardErr()},
		{"wildcard IPv6", Config{Listen: "[::]:53"}, wildcardErr()},
		{"host name refused", Config{Listen: "localhost:53"}, "want ip:port"},
		{"negative readers", Config{Readers: -1}, "readers"},
		{"bad apex", Config{Apex: "a..b"}, "apex"},
		{"bad hostmaster", Config{Hostmaster: "@example.org"}, "hostmaster"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestServer_ShutdownClosesTheSockets(t *testing.T) {
	s, err := New(Config{Apex: testApex, Listen: "127.0.0.1:0", Readers: 1}, fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", s.TCPAddr().String()) // an idle open connection
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with an idle TCP connection open: %v", err)
	}
	if _, err := net.Dial("tcp", s.TCPAddr().String()); err == nil {
		t.Errorf("TCP port still accepting after shutdown")
	}
}

func TestServer_MetricNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := startServer(t, "127.0.0.1:0", fixture(t), reg)
	query(t, "tcp", s.TCPAddr().String(), "4.2.0.192.relay.wl.example.org.", dns.TypeA)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
		if !strings.HasPrefix(mf.GetName(), "wlns_dns_") {
			t.Errorf("metric %s outside wlns_dns_", mf.GetName())
		}
	}
	for _, want := range []string{"wlns_dns_queries_total", "wlns_dns_query_duration_seconds", "wlns_dns_truncated_total",
		"wlns_dns_tcp_connections", "wlns_dns_tcp_connections_total", "wlns_dns_tcp_rejected_total"} {
		if !got[want] {
			t.Errorf("metric %s missing", want)
		}
	}
	if n := metricValue(t, reg, "wlns_dns_tcp_connections_total", ""); n != 1 {
		t.Errorf("tcp connections accepted %v, want 1", n)
	}
	if n := metricValue(t, reg, "wlns_dns_queries_total", `result="listed",zone="relay"`); n != 1 {
		t.Errorf("relay listed %v, want 1", n)
	}
}

// wildcardErr is what Validate says about a wildcard address on this platform.
func wildcardErr() string {
	if wildcardSupported {
		return ""
	}
	return "wildcard"
}

// TestServer_WildcardRepliesFromTheAddressQueried binds a wildcard and asks
// through two loopback addresses: miekg's client uses a connected socket, so
// a reply from any other source address would never arrive.
func TestServer_WildcardRepliesFromTheAddressQueried(t *testing.T) {
	if !wildcardSupported {
		t.Skip("wildcard listening needs IP_PKTINFO (Linux)")
	}
	tests := []struct {
		listen string
		via    []string
	}{
		{"0.0.0.0:0", []string{"127.0.0.1", "127.0.0.2"}},
		{"[::]:0", []string{"::1", "127.0.0.3"}},
	}
	for _, tc := range tests {
		t.Run(tc.listen, func(t *testing.T) {
			if strings.HasPrefix(tc.listen, "[") {
				if ln, err := net.ListenPacket("udp", "[::1]:0"); err != nil {
					if os.Getenv("CI") == "true" {
						t.Fatalf("no IPv6 loopback: %v", err)
					}
					t.Skipf("no IPv6 loopback: %v", err)
				} else {
					ln.Close()
				}
			}
			s := startServer(t, tc.listen, fixture(t), nil)
			port := s.UDPAddr().Port()
			for _, ip := range tc.via {
				addr := netip.AddrPortFrom(netip.MustParseAddr(ip), port).String()
				m := query(t, "udp", addr, "2.0.0.127.relay.wl.example.org.", dns.TypeA)
				if len(m.Answer) != 1 {
					t.Errorf("via %s: %v", ip, m)
				}
			}
		})
	}
}

func TestServer_TCPLargeQuery(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", fixture(t), nil)
	q := new(dns.Msg)
	q.SetQuestion("4.2.0.192.relay.wl.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	opt := q.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 3000)})
	c := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	m, _, err := c.Exchange(q, s.TCPAddr().String())
	if err != nil {
		t.Fatalf("3 kB query over TCP: %v", err)
	}
	if len(m.Answer) != 1 {
		t.Errorf("answer %v", m)
	}
}
