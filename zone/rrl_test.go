package zone

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

func TestLimiter_BucketsAndSlip(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	name := []byte("\x04dave\x04umkc")
	for _, tc := range []struct {
		name string
		cfg  RRL
		// each query: source, kind, ident, second; then the verdicts wanted.
		run  func(l *limiter) []rrlVerdict
		want []rrlVerdict
	}{
		{"rate then slip every 2nd", RRL{Responses: 2}, func(l *limiter) []rrlVerdict {
			var v []rrlVerdict
			for range 6 {
				v = append(v, l.check(a("192.0.2.1"), rrlAnswer, name, 100))
			}
			return v
		}, []rrlVerdict{rrlSend, rrlSend, rrlDrop, rrlSlip, rrlDrop, rrlSlip}},
		{"one /24 shares a bucket, another /24 has its own", RRL{Responses: 1, Slip: -1}, func(l *limiter) []rrlVerdict {
			return []rrlVerdict{l.check(a("192.0.2.1"), rrlAnswer, name, 100), l.check(a("192.0.2.200"), rrlAnswer, name, 100),
				l.check(a("192.0.3.1"), rrlAnswer, name, 100)}
		}, []rrlVerdict{rrlSend, rrlDrop, rrlSend}},
		{"IPv6 /56", RRL{Responses: 1, Slip: -1}, func(l *limiter) []rrlVerdict {
			return []rrlVerdict{l.check(a("2001:db8:0:1::1"), rrlAnswer, name, 100), l.check(a("2001:db8:0:ff::2"), rrlAnswer, name, 100),
				l.check(a("2001:db8:0:100::1"), rrlAnswer, name, 100)}
		}, []rrlVerdict{rrlSend, rrlDrop, rrlSend}},
		{"limited per name, case folded, and per kind", RRL{Responses: 1, Slip: -1}, func(l *limiter) []rrlVerdict {
			return []rrlVerdict{l.check(a("192.0.2.1"), rrlAnswer, name, 100), l.check(a("192.0.2.1"), rrlAnswer, []byte("\x04DAVE\x04UMKC"), 100),
				l.check(a("192.0.2.1"), rrlAnswer, []byte("\x03eve\x04umkc"), 100),
				l.check(a("192.0.2.1"), rrlNoData, name, 100), l.check(a("192.0.2.1"), rrlNoData, name, 100)}
		}, []rrlVerdict{rrlSend, rrlDrop, rrlSend, rrlSend, rrlDrop}},
		{"credit comes back the next second, no more than one second's", RRL{Responses: 2, Slip: -1}, func(l *limiter) []rrlVerdict {
			var v []rrlVerdict
			for _, sec := range []int64{100, 100, 100, 105, 105, 105} {
				v = append(v, l.check(a("192.0.2.1"), rrlError, nil, sec))
			}
			return v
		}, []rrlVerdict{rrlSend, rrlSend, rrlDrop, rrlSend, rrlSend, rrlDrop}},
		{"exempt prefix", RRL{Responses: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25")}}, func(l *limiter) []rrlVerdict {
			return []rrlVerdict{l.check(a("192.0.2.1"), rrlAnswer, name, 100), l.check(a("192.0.2.1"), rrlAnswer, name, 100)}
		}, []rrlVerdict{rrlSend, rrlSend}},
		{"slip 1 truncates every limited answer", RRL{Responses: 1, Slip: 1}, func(l *limiter) []rrlVerdict {
			return []rrlVerdict{l.check(a("192.0.2.1"), rrlAnswer, name, 100), l.check(a("192.0.2.1"), rrlAnswer, name, 100),
				l.check(a("192.0.2.1"), rrlAnswer, name, 100)}
		}, []rrlVerdict{rrlSend, rrlSlip, rrlSlip}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.run(newLimiter(tc.cfg))
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("verdicts %v, want %v", got, tc.want)
			}
		})
	}
	if newLimiter(RRL{}) != nil {
		t.Fatal("the zero RRL must be off")
	}
}

// udpClient is a UDP socket bound to a local address, to stand for one
// client address.
func udpClient(t *testing.T, src, server string) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(src), 0)),
		net.UDPAddrFromAddrPort(netip.MustParseAddrPort(server)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send writes n copies of an EDNS query for name (type ANY, the
// amplifier's favourite) and returns the bytes sent.
func send(t *testing.T, c *net.UDPConn, name string, n int) int {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeANY)
	q.SetEdns0(4096, false)
	b, _ := q.Pack()
	for range n {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	return n * len(b)
}

// receive reads answers until want have come or, for want 0 (answers
// the limiter drops never come), until none comes for quiet, and returns
// them with their bytes and when the last came. It gives up 10 s after the
// last answer: a loaded machine may pause the server far longer than it
// takes to answer on loopback.
func receive(t *testing.T, c *net.UDPConn, want int, quiet time.Duration) (answers []*dns.Msg, bytes int, last time.Time) {
	t.Helper()
	buf := make([]byte, 65535)
	if want > 0 {
		quiet = 10 * time.Second
	}
	for want == 0 || len(answers) < want {
		_ = c.SetReadDeadline(time.Now().Add(quiet))
		k, err := c.Read(buf)
		if err != nil {
			break
		}
		last = time.Now()
		bytes += k
		m := new(dns.Msg)
		if err := m.Unpack(buf[:k]); err != nil {
			t.Errorf("unpacking an answer: %v", err) // not Fatal: it may run on its own goroutine
			continue
		}
		answers = append(answers, m)
	}
	return answers, bytes, last
}

// TestServer_RRLStopsAmplificationButNotOtherResolvers floods from many
// addresses of one /24 (as a spoofed flood would look) and checks the
// bytes that come back are no more than those sent, while a resolver in
// another /24 asking its own names gets every answer.
func TestServer_RRLStopsAmplificationButNotOtherResolvers(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := startServerConfig(t, Config{Apex: testApex, Listen: "127.0.0.1:0", Readers: 2, NS: []string{"ns1.example.net."},
		Registerer: reg, RRL: RRL{Responses: 5, Slip: 2}}, fixture(t))
	srv := s.UDPAddr().String()
	listed := "dave.umkc.edu.4.2.0.192.sender.wl.example.org."

	var sent, got, full, tc int
	var flood []*net.UDPConn
	start := time.Now()
	for i := 2; i < 42; i++ { // 40 "spoofed" sources in 127.0.0.0/24, 10 queries each
		c := udpClient(t, fmt.Sprintf("127.0.0.%d", i), srv)
		sent += send(t, c, listed, 10)
		flood = append(flood, c)
	}
	// Each source's answers are read as they come, so the last one marks
	// when the server stopped answering: the limiter refills until then.
	type reply struct {
		answers []*dns.Msg
		bytes   int
		at      time.Time
	}
	replies := make([]reply, len(flood))
	var wg sync.WaitGroup
	for i, c := range flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &replies[i]
			r.answers, r.bytes, r.at = receive(t, c, 0, 100*time.Millisecond)
		}()
	}
	wg.Wait()
	var last time.Time
	for _, r := range replies {
		answers := r.answers
		got += r.bytes
		if r.at.After(last) {
			last = r.at
		}
		for _, m := range answers {
			if m.Truncated {
				tc++
				if len(m.Answer) != 0 || m.IsEdns0() == nil {
					t.Fatalf("a slipped answer must be empty with its OPT: %v", m)
				}
			} else {
				full++
			}
		}
	}
	seconds := int(last.Sub(start)/time.Second) + 1
	t.Logf("flood: %d bytes sent, %d received (%d full answers, %d truncated) in %v", sent, got, full, tc, last.Sub(start))
	if full > 5*(seconds+1) || got > sent {
		t.Errorf("flood of 400 queries got %d full answers and %d bytes for %d sent: amplifies", full, got, sent)
	}
	if tc == 0 {
		t.Error("no truncated answer slipped through: resolvers behind the prefix could not fall back to TCP")
	}
	if n := metricValue(t, reg, "wlns_dns_rrl_limited_total", `action="dropped",kind="answer"`); n == 0 {
		t.Error("wlns_dns_rrl_limited_total does not count the dropped answers")
	}

	// A resolver in another /24 asking its own (distinct) names gets every
	// answer.
	c := udpClient(t, "127.0.9.1", srv)
	for i := range 20 {
		send(t, c, fmt.Sprintf("u%d.umkc.edu.4.2.0.192.sender.wl.example.org.", i), 1)
	}
	answers, _, _ := receive(t, c, 20, 0)
	for _, m := range answers {
		if m.Truncated {
			t.Fatalf("resolver in another prefix got a truncated answer: %v", m)
		}
	}
	if len(answers) != 20 {
		t.Fatalf("resolver in another prefix got %d of 20 answers", len(answers))
	}
	// TCP is never limited.
	for range 10 {
		if m := query(t, "tcp", s.TCPAddr().String(), listed, dns.TypeA); len(m.Answer) != 1 {
			t.Fatalf("TCP answer: %v", m)
		}
	}
}

// BenchmarkLimit is the cost RRL adds to each UDP answer: a limiter check
// for a listed sender's answer, from clients spread over 4096 /24s (so the
// buckets miss the CPU cache as in service), against RRL off.
func BenchmarkLimit(b *testing.B) {
	r, v := newTestResponder(b), fixture(b).Load()
	q := new(dns.Msg)
	q.SetQuestion("dave.umkc.edu.4.2.0.192.sender.wl.example.org.", dns.TypeA)
	q.SetEdns0(1232, false)
	req, _ := q.Pack()
	srcs := make([]netip.Addr, 4096)
	for i := range srcs {
		srcs[i] = netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
	}
	for _, bc := range []struct {
		name string
		rrl  RRL
	}{{"off", RRL{}}, {"on", RRL{Responses: 1 << 30}}} {
		b.Run(bc.name, func(b *testing.B) {
			s := &Server{rrl: newLimiter(bc.rrl)}
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				resp, o := r.respond(buf[:0], req, v, 1232, srcs[i&4095])
				if _, send := s.limit(resp, o, srcs[i&4095]); !send {
					b.Fatal("limited")
				}
			}
		})
	}
}
