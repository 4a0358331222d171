package delegcheck

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// fakeServer answers SOA queries on 127.0.0.1: authoritatively for names
// whose first label is in auth, non-authoritatively (a lame server) for
// the rest. It returns the port.
func fakeServer(t *testing.T, auth ...string) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		name := q.Question[0].Name
		for _, a := range auth {
			if strings.HasPrefix(name, a+".") {
				m.Authoritative = true
			}
		}
		m.Answer = append(m.Answer, &dns.SOA{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
			Ns: "ns.pm.example.", Mbox: "hostmaster.pm.example.", Serial: 1})
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func viewWith(t *testing.T, ds ...*record.Delegation) *index.View {
	t.Helper()
	ix := index.New()
	tx := ix.Begin()
	for _, d := range ds {
		if err := tx.PutDelegation(d); err != nil {
			t.Fatal(err)
		}
	}
	tx.Commit()
	return ix.Load()
}

func TestChecker_FindsLameDelegations(t *testing.T) {
	good := fakeServer(t, "2")
	loop := netip.MustParseAddr("127.0.0.1")
	okPrefix, lamePrefix := netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24")
	v := viewWith(t,
		&record.Delegation{Prefix: okPrefix, NS: []record.NameServer{{Name: "ns.pm.example", Addrs: []netip.Addr{loop}}}},
		// The server answers for 100.51.198 only as a non-authority: lame.
		&record.Delegation{Prefix: lamePrefix, NS: []record.NameServer{{Name: "ns.other.example", Addrs: []netip.Addr{loop}}}},
		&record.Delegation{Prefix: netip.MustParsePrefix("203.0.113.0/24"), NS: []record.NameServer{{Name: "nowhere.example"}}},
	)
	reg := prometheus.NewRegistry()
	c, err := New(Config{Apex: "wl.test", Port: good, Timeout: time.Second, Registerer: reg,
		Resolve: func(context.Context, string) ([]netip.Addr, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	c.Check(context.Background(), v)
	if r := c.Result(okPrefix); r == nil || r.Lame || len(r.Servers) != 1 || r.Servers[0].Addr != "127.0.0.1" {
		t.Fatalf("good delegation: %+v", r)
	}
	r := c.Result(lamePrefix)
	if r == nil || !r.Lame || !strings.Contains(r.Servers[0].Problem, "not authoritative") {
		t.Fatalf("lame delegation: %+v", r)
	}
	if r := c.Result(netip.MustParsePrefix("203.0.113.0/24")); r == nil || !r.Lame || !strings.Contains(r.Servers[0].Problem, "no address") {
		t.Fatalf("delegation to a name without address: %+v", r)
	}
	if got := value(t, c.metrics.lame); got != 2 {
		t.Fatalf("wlns_delegation_lame_delegations = %v, want 2", got)
	}
	if ok, lame := value(t, c.metrics.checks.WithLabelValues("ok")), value(t, c.metrics.checks.WithLabelValues("lame")); ok != 1 || lame != 2 {
		t.Fatalf("checks ok %v lame %v, want 1 and 2", ok, lame)
	}
	// A deleted delegation is forgotten.
	c.Check(context.Background(), viewWith(t))
	if c.Result(okPrefix) != nil || value(t, c.metrics.lame) != 0 {
		t.Fatal("results kept for deleted delegations")
	}
}

func TestChecker_ServerThatDoesNotAnswerIsLameWithinTheTimeout(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // never answers
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	p := netip.MustParsePrefix("192.0.2.0/24")
	v := viewWith(t, &record.Delegation{Prefix: p, NS: []record.NameServer{{Name: "ns.pm.example", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}}})
	c, err := New(Config{Apex: "wl.test", Port: pc.LocalAddr().(*net.UDPAddr).Port, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.Check(context.Background(), v)
	if r := c.Result(p); r == nil || !r.Lame || !strings.Contains(r.Servers[0].Problem, "no answer") {
		t.Fatalf("silent server: %+v", c.Result(p))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("check took %v with a 200ms timeout", took)
	}
}

// value reads a gauge's or counter's current value.
func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Gauge != nil {
		return out.Gauge.GetValue()
	}
	return out.Counter.GetValue()
}
