package childzone

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/zone"
)

const (
	apex     = "wl.example.org"
	pmKey    = "pm-umkc."
	pmSecret = "cG9zdG1hc3Rlci1vZi11bWtjLWtleS1zZWNyZXQ="
	opKey    = "operator."
	opSecret = "b3BlcmF0b3ItdHNpZy1rZXktc2VjcmV0LXZhbHVl"
)

var (
	prefix  = netip.MustParsePrefix("192.0.2.0/24")
	prefix6 = netip.MustParsePrefix("2001:db8:1::/48")
)

// cluster is a wlns zone server with zone transfer on an index.
type cluster struct {
	ix  *index.Index
	dns *zone.Server
	xfr *zone.XFR
}

// fixture fills an index with entities inside and outside 192.0.2.0/24:
//
//	1 group umkc-mx, registered, 192.0.2.0/25: dave@umkc.edu,
//	  first.last@umkc.edu, domain example.com; VERP lists.example.net
//	2 lone 192.0.2.77, not registered (inside 1: longest prefix wins): bob@umkc.edu
//	3 lone 192.0.2.200, registered, no pairs
//	4 lone 198.51.100.9, registered (outside the prefix): x@y.org
//	5 lone 2001:db8:1::25, registered (inside 2001:db8:1::/48): v6@umkc.edu
func fixture() *index.Index {
	ix := index.New()
	tx := ix.Begin()
	for _, e := range []*record.Entity{
		{ID: 1, Name: "umkc-mx", Group: true, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25")}},
		{ID: 2, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.77/32")}},
		{ID: 3, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.200/32")}},
		{ID: 4, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.9/32")}},
		{ID: 5, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("2001:db8:1::25/128")}},
	} {
		e.Created = 1795392000
		tx.PutEntity(e)
	}
	for _, p := range []struct {
		e uint64
		s string
	}{{1, "dave@umkc.edu"}, {1, "first.last@umkc.edu"}, {1, "example.com"}, {2, "bob@umkc.edu"}, {4, "x@y.org"}, {5, "v6@umkc.edu"}} {
		tx.PutPair(&record.Pair{Entity: p.e, Sender: p.s, Meta: record.Meta{Created: 1795392000}})
	}
	tx.PutVerp(&record.Verp{Entity: 1, Domain: "lists.example.net", Meta: record.Meta{Created: 1795392000}})
	tx.SetZoneSerial(100)
	tx.Commit()
	return ix
}

func startCluster(t *testing.T, ix *index.Index, notify []zone.CutNotify) *cluster {
	t.Helper()
	s, err := zone.New(zone.Config{Apex: apex, Listen: "127.0.0.1:0", Readers: 1, NS: []string{"ns1.example.net."}}, ix)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	x, err := s.NewXFR(zone.XFRConfig{Listen: "127.0.0.1:0", Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Keys:   map[string]string{pmKey: pmSecret, opKey: opSecret},
		Scopes: map[string][]netip.Prefix{pmKey: {prefix, prefix6}}, NotifyCuts: notify, Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Shutdown(context.Background()) })
	return &cluster{ix: ix, dns: s, xfr: x}
}

// delegate delegates 192.0.2.0/24 to ns1.2.0.192.relay.<apex> at 10.0.0.53.
func (c *cluster) delegate(t *testing.T) {
	t.Helper()
	tx := c.ix.Begin()
	if err := tx.PutDelegation(&record.Delegation{Prefix: prefix, NS: []record.NameServer{
		{Name: "ns1.2.0.192.relay." + apex, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.53")}}}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.PutDelegation(&record.Delegation{Prefix: prefix6, NS: []record.NameServer{{Name: "ns.pm.example"}}}); err != nil {
		t.Fatal(err)
	}
	tx.SetZoneSerial(101)
	tx.Commit()
}

// child is a serve-only node answering on a UDP port.
type child struct {
	n    *Node
	addr string
}

func startChild(t *testing.T, dir string, primaries []string, edit func(*Config)) *child {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startChildOn(t, pc, dir, primaries, edit)
}

// startChildOn starts a serve-only node answering on pc.
func startChildOn(t *testing.T, pc net.PacketConn, dir string, primaries []string, edit func(*Config)) *child {
	t.Helper()
	cfg := Config{Apex: apex, Prefixes: []netip.Prefix{prefix, prefix6}, Primaries: primaries, KeyName: pmKey, KeySecret: pmSecret,
		Dir: dir, Timeout: 2 * time.Second, Retry: 100 * time.Millisecond, Registerer: prometheus.NewRegistry()}
	if edit != nil {
		edit(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: n, TsigSecret: map[string]string{pmKey: pmSecret}}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	n.Start()
	t.Cleanup(func() { _ = srv.Shutdown(); n.Shutdown() })
	return &child{n: n, addr: pc.LocalAddr().String()}
}

// waitReady waits until every zone of the child is served.
func (c *child) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for ok, why := c.n.Ready(); !ok; ok, why = c.n.Ready() {
		if time.Now().After(deadline) {
			t.Fatalf("serve-only node not ready: %s", why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ask(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.SetEdns0(1232, false)
	m, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(q, addr)
	if err != nil {
		t.Fatalf("%s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return m
}

// summary is what must agree: rcode, AA, the answer records.
func summary(m *dns.Msg) string {
	var rrs []string
	for _, rr := range m.Answer {
		rrs = append(rrs, rr.String())
	}
	slices.Sort(rrs)
	return dns.RcodeToString[m.Rcode] + " aa=" + map[bool]string{true: "1", false: "0"}[m.Authoritative] + "\n" + strings.Join(rrs, "\n")
}

// belowTheCut are names under 192.0.2.0/24 in the three trees.
func belowTheCut(t *testing.T) []string {
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	out := []string{
		"2.0.192.relay." + apex, "4.2.0.192.relay." + apex, "77.2.0.192.relay." + apex, "200.2.0.192.relay." + apex,
		"130.2.0.192.relay." + apex, "x.4.2.0.192.relay." + apex,
		"4.2.0.192.sender." + apex, "umkc.edu.4.2.0.192.sender." + apex, "eve.umkc.edu.4.2.0.192.sender." + apex,
		"anyone.example.com.4.2.0.192.sender." + apex, "a.b.example.com.4.2.0.192.sender." + apex,
		"bob.umkc.edu.77.2.0.192.sender." + apex, "dave.umkc.edu.77.2.0.192.sender." + apex,
		"x.y.200.2.0.192.sender." + apex, "x.y.130.2.0.192.sender." + apex,
		"lists.example.net.4.2.0.192.verp." + apex, "other.example.net.4.2.0.192.verp." + apex,
		"lists.example.net.130.2.0.192.verp." + apex, "4.2.0.192.verp." + apex,
	}
	v6 := strings.TrimSuffix(qname.Relay(ip("2001:db8:1::25"), apex), "relay."+apex+".")
	far := strings.Split(qname.Relay(ip("2001:db8:1:ffff::1"), apex), ".")
	out = append(out, qname.Relay(ip("2001:db8:1::25"), apex), qname.Relay(ip("2001:db8:1::26"), apex),
		strings.Join(far[16:], "."), "x."+strings.Join(far[16:], "."), // a partial address below the cut; a name that is none
		v6[10:]+"relay."+apex, "nobody.umkc.edu."+v6+"sender."+apex, "v6.umkc.edu."+v6+"sender."+apex)
	for _, f := range []qname.Form{qname.Escaped, qname.Plain, qname.Hashed, qname.HashedDomain} {
		for _, s := range []string{"dave@umkc.edu", "first.last@umkc.edu", "nobody@umkc.edu"} {
			name, err := qname.Sender(s, ip("192.0.2.4"), apex, f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, name)
		}
		if name, err := qname.Sender("v6@umkc.edu", ip("2001:db8:1::25"), apex, f); err == nil {
			out = append(out, name)
		}
	}
	return out
}

// TestChild_AnswersAsTheClusterDid: a serve-only node pulls the three cut
// zones of 192.0.2.0/24 with the postmaster's scoped key and answers every
// name below the cuts — listed, unlisted, every sender form, domain-wide,
// VERP, empty non-terminals, addresses with an entity and without — as the
// cluster answered them before the delegation (rcode, AA, records), for an
// IPv4 and an IPv6 prefix; names
// outside its cuts are REFUSED.
func TestChild_AnswersAsTheClusterDid(t *testing.T) {
	c := startCluster(t, fixture(), nil)
	names := belowTheCut(t)
	t.Logf("%d names", len(names))
	want := map[string]string{}
	for _, name := range names {
		for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeANY} {
			want[name+" "+dns.TypeToString[qt]] = summary(ask(t, c.dns.UDPAddr().String(), name, qt))
		}
	}
	c.delegate(t)
	ch := startChild(t, t.TempDir(), []string{c.xfr.Addr().String()}, nil)
	ch.waitReady(t)
	for _, name := range names {
		for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeANY} {
			key := name + " " + dns.TypeToString[qt]
			if qt == dns.TypeANY && strings.HasPrefix(name, "2.0.192.") {
				continue // the cut is the child's apex: its SOA (RFC 8482), where the cluster had an empty non-terminal
			}
			if got := summary(ask(t, ch.addr, name, qt)); got != want[key] {
				t.Errorf("%s: serve-only node\n%s\ncluster\n%s", key, got, want[key])
			}
		}
	}
	for _, name := range []string{"192.relay." + apex, "9.100.51.198.relay." + apex, apex, "example.com"} {
		if m := ask(t, ch.addr, name, dns.TypeA); m.Rcode != dns.RcodeRefused {
			t.Errorf("%s outside the cuts: %s, want REFUSED", name, dns.RcodeToString[m.Rcode])
		}
	}
	m := ask(t, ch.addr, "2.0.192.sender."+apex, dns.TypeSOA)
	if len(m.Answer) != 1 || !m.Authoritative || m.Answer[0].(*dns.SOA).Serial != 101 {
		t.Errorf("SOA at the cut: %v", m)
	}
	m = ask(t, ch.addr, "2.0.192.relay."+apex, dns.TypeNS)
	if len(m.Answer) != 1 || len(m.Extra) < 1 || !strings.Contains(m.Extra[0].String(), "10.0.0.53") {
		t.Errorf("NS at the cut, with its address: %v", m)
	}
}

// TestChild_FollowsNotifyKeepsItsCopyAndExpires: a change on the cluster
// reaches the serve-only node by NOTIFY (its refresh is an hour); a
// restarted node with no primary reachable serves its copy from disk at
// once; past the SOA expire time without a refresh it answers SERVFAIL,
// fails readiness and says so in a metric.
func TestChild_FollowsNotifyKeepsItsCopyAndExpires(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, fixture(), []zone.CutNotify{{Prefix: prefix, Target: pc.LocalAddr().String()}})
	c.delegate(t)
	dir := t.TempDir()
	hour := func(cfg *Config) { cfg.Refresh, cfg.Retry = time.Hour, time.Hour }
	ch := startChildOn(t, pc, dir, []string{c.xfr.Addr().String()}, hour)
	ch.waitReady(t)
	eve := "eve.umkc.edu.4.2.0.192.sender." + apex
	if m := ask(t, ch.addr, eve, dns.TypeA); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
		t.Fatalf("eve before she is listed: %v", m)
	}
	tx := c.ix.Begin()
	tx.PutPair(&record.Pair{Entity: 1, Sender: "eve@umkc.edu"})
	tx.SetZoneSerial(102)
	tx.Commit()
	start := time.Now()
	for m := ask(t, ch.addr, eve, dns.TypeA); len(m.Answer) == 0; m = ask(t, ch.addr, eve, dns.TypeA) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the change did not reach the serve-only node by NOTIFY: %v", m)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("change served %v after the write", time.Since(start))

	// Restarted with its primary gone: the copy on disk is served at once.
	ch.n.Shutdown()
	var later atomic.Int64 // how far the restarted node's clock is ahead
	again := startChild(t, dir, []string{"127.0.0.1:1"}, func(cfg *Config) {
		hour(cfg)
		cfg.Expire = 2 * time.Hour
		cfg.Now = func() time.Time { return time.Now().Add(time.Duration(later.Load())) }
	})
	if ok, why := again.n.Ready(); !ok {
		t.Fatalf("restarted node not ready from its copy: %s", why)
	}
	if m := ask(t, again.addr, eve, dns.TypeA); len(m.Answer) != 1 || !m.Authoritative {
		t.Fatalf("restarted node: %v", m)
	}
	if got := expiredGauge(t, again.n, "2.0.192.sender."+apex+"."); got != 0 {
		t.Errorf("wlns_serveonly_zone_expired = %v before the expire time", got)
	}

	// Three hours later, never refreshed: expired.
	later.Store(int64(3 * time.Hour))
	if m := ask(t, again.addr, eve, dns.TypeA); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("expired zone answered %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
	if ok, _ := again.n.Ready(); ok {
		t.Error("expired node reports ready")
	}
	if got := expiredGauge(t, again.n, "2.0.192.sender."+apex+"."); got != 1 {
		t.Errorf("wlns_serveonly_zone_expired = %v past the expire time, want 1", got)
	}
}

// expiredGauge is what wlns_serveonly_zone_expired says of zone, read
// from the node's collector.
func expiredGauge(t *testing.T, n *Node, zone string) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	n.m.Collect(ch)
	close(ch)
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		if m.Desc() == n.m.expired && pb.GetLabel()[0].GetValue() == zone {
			return pb.GetGauge().GetValue()
		}
	}
	t.Fatalf("no wlns_serveonly_zone_expired{zone=%q}", zone)
	return 0
}

// TestChild_NotifyFloodIsNotARefreshFlood: NOTIFYs are unauthenticated
// hints; fifty in half a second make each zone check its SOA at most about
// once a second, not fifty times.
func TestChild_NotifyFloodIsNotARefreshFlood(t *testing.T) {
	c := startCluster(t, fixture(), nil)
	c.delegate(t)
	ch := startChild(t, t.TempDir(), []string{c.xfr.Addr().String()}, func(cfg *Config) { cfg.Refresh = time.Hour })
	ch.waitReady(t)
	before := refreshes(t, ch.n)
	for i := range 50 {
		m := new(dns.Msg)
		m.SetNotify([]string{"2.0.192.relay.", "2.0.192.sender.", "2.0.192.verp."}[i%3] + apex + ".")
		if _, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, ch.addr); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	if got := refreshes(t, ch.n) - before; got > 9 {
		t.Errorf("50 NOTIFYs in 0.5 s made %v refreshes, want at most 3 per zone", got)
	}
}

// refreshes sums wlns_serveonly_refreshes_total over its results.
func refreshes(t *testing.T, n *Node) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 16)
	n.m.transfers.Collect(ch)
	close(ch)
	sum := 0.0
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		sum += pb.GetCounter().GetValue()
	}
	return sum
}

// TestChild_DamagedCopyIsNotServed: a zone copy cut short on a line
// boundary (its SOA kept), cut mid-line, emptied or overwritten is not
// served after a restart — the node waits for a transfer instead of
// crashing or answering from part of the zone — and, given its primary,
// the node transfers the zone whole although the SOA of the damaged copy
// is current.
func TestChild_DamagedCopyIsNotServed(t *testing.T) {
	c := startCluster(t, fixture(), nil)
	c.delegate(t)
	dir := t.TempDir()
	ch := startChild(t, dir, []string{c.xfr.Addr().String()}, nil)
	ch.waitReady(t)
	dave := "dave.umkc.edu.4.2.0.192.sender." + apex
	if m := ask(t, ch.addr, dave, dns.TypeA); len(m.Answer) == 0 {
		t.Fatalf("dave before the restart: %v", m)
	}
	ch.n.Shutdown()
	path := filepath.Join(dir, "2.0.192.sender."+apex+".zone")
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(whole), "\n")
	soaOnly := lines[0] + lines[1] // the header comment and the SOA
	for _, c := range []struct{ why, text string }{
		{"cut after its SOA", soaOnly},
		{"cut mid-line", string(whole[:len(whole)*2/3])},
		{"empty", ""},
		{"overwritten", strings.Repeat("\x00\xff$INCLUDE /etc/passwd\n", 40)},
	} {
		if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		again := startChild(t, dir, []string{"127.0.0.1:1"}, nil)
		if ok, why := again.n.Ready(); ok || !strings.Contains(why, "sender") {
			t.Errorf("%s: ready %v (%s), want the sender zone waiting for a transfer", c.why, ok, why)
		}
		if m := ask(t, again.addr, dave, dns.TypeA); m.Rcode != dns.RcodeServerFailure {
			t.Errorf("%s: dave answered %s %v, want SERVFAIL until a transfer", c.why, dns.RcodeToString[m.Rcode], m.Answer)
		}
		again.n.Shutdown()
	}
	if err := os.WriteFile(path, []byte(soaOnly), 0o600); err != nil {
		t.Fatal(err)
	}
	again := startChild(t, dir, []string{c.xfr.Addr().String()}, nil)
	again.waitReady(t)
	if m := ask(t, again.addr, dave, dns.TypeA); len(m.Answer) == 0 {
		t.Errorf("after a restart on a copy cut after its SOA, with the primary: dave answered %s %v, want listed",
			dns.RcodeToString[m.Rcode], m.Answer)
	}
}

// TestChild_UnsignedAnswersAreRefused: with a key, a SOA answer or a
// transfer without its signature (one on the path between the node and
// the cluster, replaying the cluster's records unsigned or forging its
// own) is refused: the node waits, not ready, instead of serving it.
func TestChild_UnsignedAnswersAreRefused(t *testing.T) {
	c := startCluster(t, fixture(), nil)
	c.delegate(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	signed := func(m *dns.Msg) *dns.Msg {
		m.SetTsig(pmKey, dns.HmacSHA256, 300, time.Now().Unix())
		return m
	}
	// The relay: asks the cluster with the key, answers unsigned.
	srv := &dns.Server{Listener: l, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		q := req.Question[0]
		if q.Qtype == dns.TypeAXFR {
			m := new(dns.Msg)
			m.SetAxfr(q.Name)
			in, err := (&dns.Transfer{TsigSecret: map[string]string{pmKey: pmSecret}}).In(signed(m), c.xfr.Addr().String())
			if err != nil {
				return
			}
			out := make(chan *dns.Envelope, 64) // the zone is a few envelopes: never blocks the handler
			go func() { _ = new(dns.Transfer).Out(w, req, out) }()
			for env := range in {
				out <- env
			}
			close(out)
			return
		}
		m := new(dns.Msg)
		m.SetQuestion(q.Name, q.Qtype)
		r, _, err := (&dns.Client{Net: "tcp", TsigSecret: map[string]string{pmKey: pmSecret}}).Exchange(signed(m), c.xfr.Addr().String())
		if err != nil {
			return
		}
		r.Extra = nil
		r.Id = req.Id
		_ = w.WriteMsg(r)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	ch := startChild(t, t.TempDir(), []string{l.Addr().String()}, nil)
	time.Sleep(time.Second)
	if ok, _ := ch.n.Ready(); ok {
		t.Fatal("ready from unsigned answers")
	}
	if m := ask(t, ch.addr, "dave.umkc.edu.4.2.0.192.sender."+apex, dns.TypeA); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("answered %s %v from an unsigned transfer, want SERVFAIL", dns.RcodeToString[m.Rcode], m.Answer)
	}
}
