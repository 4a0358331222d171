package zone

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// ownFixture is fixture with the zone's own records: the confirmation mail
// host (apex MX, mx A/AAAA), an SPF TXT and CAA at the apex, a record two
// labels down (so "_tcp" is an empty non-terminal) and the apex NS names
// given with their addresses, ns2 with a second one from the records.
func ownFixture(t testing.TB) (*Responder, *index.Index) {
	t.Helper()
	r, err := NewResponder(ResponderConfig{Apex: testApex, TTL: 300, NegativeTTL: 60,
		NS:         []string{"ns1.wl.example.org=192.0.2.53", "ns2.wl.example.org=192.0.2.54", "ns2.wl.example.org=2001:db8::54", "ns3.example.net"},
		Hostmaster: "hostmaster@wl.example.org", Now: new(atomic.Int64)})
	if err != nil {
		t.Fatal(err)
	}
	ix := fixture(t)
	r.follow(ix)
	setZoneRecords(ix,
		record.ZoneRecord{Name: "@", Type: "MX", Data: "10 mx"},
		record.ZoneRecord{Name: "@", Type: "MX", Data: "20 mx.example.net."},
		record.ZoneRecord{Name: "@", Type: "TXT", Data: `"v=spf1 mx -all"`},
		record.ZoneRecord{Name: "@", Type: "CAA", Data: `0 issue "letsencrypt.org"`, TTL: 3600},
		record.ZoneRecord{Name: "mx", Type: "A", Data: "192.0.2.25"},
		record.ZoneRecord{Name: "mx", Type: "AAAA", Data: "2001:db8::25"},
		record.ZoneRecord{Name: "ns2", Type: "A", Data: "192.0.2.154"},
		record.ZoneRecord{Name: "_submission._tcp", Type: "SRV", Data: "0 1 587 mx"})
	return r, ix
}

// setZoneRecords publishes a View of ix holding exactly zrs.
func setZoneRecords(ix *index.Index, zrs ...record.ZoneRecord) {
	var z *record.ZoneRecords
	for i := range zrs {
		z = z.With(&zrs[i])
	}
	tx := ix.Begin()
	tx.SetZoneRecords(z)
	tx.Commit()
}

const soaNegOwn = "wl.example.org. 60 IN SOA ns1.wl.example.org. hostmaster.wl.example.org. 42 3600 600 604800 60"

func TestRespond_OwnNames(t *testing.T) {
	r, ix := ownFixture(t)
	v := ix.Load()
	glue := []string{"ns1.wl.example.org. 300 IN A 192.0.2.53", "ns2.wl.example.org. 300 IN A 192.0.2.54",
		"ns2.wl.example.org. 300 IN A 192.0.2.154", "ns2.wl.example.org. 300 IN AAAA 2001:db8::54"}
	mxGlue := []string{"mx.wl.example.org. 300 IN A 192.0.2.25", "mx.wl.example.org. 300 IN AAAA 2001:db8::25"}
	cases := []struct {
		name       string
		qtype      uint16
		rcode      int
		answer, ns []string
		extra      []string
	}{
		{"wl.example.org.", dns.TypeNS, 0, []string{"wl.example.org. 300 IN NS ns1.wl.example.org.",
			"wl.example.org. 300 IN NS ns2.wl.example.org.", "wl.example.org. 300 IN NS ns3.example.net."}, nil, glue},
		{"WL.example.org.", dns.TypeMX, 0, []string{"WL.example.org. 300 IN MX 10 mx.wl.example.org.", "WL.example.org. 300 IN MX 20 mx.example.net."}, nil, mxGlue},
		{"wl.example.org.", dns.TypeTXT, 0, []string{`wl.example.org. 300 IN TXT "v=spf1 mx -all"`}, nil, nil},
		{"wl.example.org.", dns.TypeCAA, 0, []string{`wl.example.org. 3600 IN CAA 0 issue "letsencrypt.org"`}, nil, nil},
		{"wl.example.org.", dns.TypeA, 0, nil, []string{soaNegOwn}, nil},
		{"ns1.wl.example.org.", dns.TypeA, 0, []string{"ns1.wl.example.org. 300 IN A 192.0.2.53"}, nil, nil},
		{"ns1.wl.example.org.", dns.TypeAAAA, 0, nil, []string{soaNegOwn}, nil},
		{"ns2.wl.example.org.", dns.TypeA, 0, []string{"ns2.wl.example.org. 300 IN A 192.0.2.54", "ns2.wl.example.org. 300 IN A 192.0.2.154"}, nil, nil},
		{"Mx.wl.example.org.", dns.TypeAAAA, 0, []string{"Mx.wl.example.org. 300 IN AAAA 2001:db8::25"}, nil, nil},
		{"mx.wl.example.org.", dns.TypeMX, 0, nil, []string{soaNegOwn}, nil},
		{"mx.wl.example.org.", dns.TypeANY, 0, []string{"mx.wl.example.org. 300 IN A 192.0.2.25", "mx.wl.example.org. 300 IN AAAA 2001:db8::25"}, nil, nil},
		{"_tcp.wl.example.org.", dns.TypeA, 0, nil, []string{soaNegOwn}, nil},
		{"_submission._tcp.wl.example.org.", dns.TypeSRV, 0, []string{"_submission._tcp.wl.example.org. 300 IN SRV 0 1 587 mx.wl.example.org."}, nil, mxGlue},
		{"x.mx.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNegOwn}, nil},
		{"www.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNegOwn}, nil},
		{"*.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNegOwn}, nil},
		// The data zones answer as before.
		{"relay.wl.example.org.", dns.TypeA, 0, nil, []string{soaNegOwn}, nil},
		{"4.2.0.192.relay.wl.example.org.", dns.TypeA, 0, []string{listedA("4.2.0.192.relay.wl.example.org.", "1")}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(dns.TypeToString[tc.qtype]+" "+tc.name, func(t *testing.T) {
			m := ask(t, r, v, tc.name, tc.qtype)
			if m.Rcode != tc.rcode || !m.Authoritative {
				t.Fatalf("rcode %s AA %v, want %s AA\n%v", dns.RcodeToString[m.Rcode], m.Authoritative, dns.RcodeToString[tc.rcode], m)
			}
			for _, sec := range []struct {
				what      string
				got, want []string
			}{{"answer", rrs(t, m.Answer), normRRs(t, tc.answer)}, {"authority", rrs(t, m.Ns), normRRs(t, tc.ns)}, {"additional", rrs(t, m.Extra), normRRs(t, tc.extra)}} {
				slices.Sort(sec.got)
				slices.Sort(sec.want)
				if !slices.Equal(sec.got, sec.want) {
					t.Errorf("%s\n got %q\nwant %q", sec.what, sec.got, sec.want)
				}
			}
		})
	}
}

// The glue is dropped, not the answer, when the additional section does
// not fit a 512-byte datagram; the NS answer then still fits without TC.
func TestRespond_GlueDroppedBeforeTruncating(t *testing.T) {
	var ns []string
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		ns = append(ns, "ns-"+strings.Repeat(n, 20)+".wl.example.org=2001:db8::53", "ns-"+strings.Repeat(n, 20)+".wl.example.org=192.0.2.53")
	}
	r, err := NewResponder(ResponderConfig{Apex: testApex, TTL: 300, NegativeTTL: 60, NS: ns, Hostmaster: "h@wl.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	v := index.New().Load()
	q := new(dns.Msg)
	q.SetQuestion("wl.example.org.", dns.TypeNS)
	req, _ := q.Pack()
	small := exchange(t, r, v, req, 512)
	if small.Truncated || len(small.Answer) != 8 || len(small.Extra) != 0 {
		t.Errorf("over UDP/512: TC %v, %d answers, %d additional; want no TC, 8 answers, no glue", small.Truncated, len(small.Answer), len(small.Extra))
	}
	tcp := exchange(t, r, v, req, 0)
	if len(tcp.Answer) != 8 || len(tcp.Extra) != 16 {
		t.Errorf("over TCP: %d answers, %d additional; want 8 and 16", len(tcp.Answer), len(tcp.Extra))
	}
}

func TestNewResponder_NSNeedsAddressInsideTheZoneOnly(t *testing.T) {
	cases := []struct {
		ns   []string
		want string
	}{
		{[]string{"ns1.wl.example.org"}, "ns1.wl.example.org. is inside the zone wl.example.org. but has no address"},
		{[]string{"ns1.example.net", "wl.example.org"}, "wl.example.org. is inside the zone"},
		{[]string{"ns1.example.net=192.0.2.1"}, "outside the zone"},
		{[]string{"ns1.wl.example.org=not-an-ip"}, "want an IPv4 or IPv6 address"},
		{[]string{"ns.relay.wl.example.org=192.0.2.1"}, "relay, sender or VERP zone"},
		{[]string{"ns1.wl.example.org=192.0.2.1", "ns1.example.net"}, ""},
	}
	for _, c := range cases {
		_, err := NewResponder(ResponderConfig{Apex: testApex, NS: c.ns, Hostmaster: "h@wl.example.org"})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.ns, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: %v, want an error containing %q", c.ns, err, c.want)
		}
	}
}

// A View with other zone records is answered from them at once, and the
// answers allocate nothing once the table is built.
func TestRespond_OwnNamesFollowTheView(t *testing.T) {
	r, ix := ownFixture(t)
	if m := ask(t, r, ix.Load(), "www.wl.example.org.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Fatalf("www before: %s", dns.RcodeToString[m.Rcode])
	}
	tx := ix.Begin()
	tx.SetZoneRecords(ix.Load().ZoneRecords().With(&record.ZoneRecord{Name: "www", Type: "A", Data: "192.0.2.80"}))
	tx.Commit()
	v := ix.Load()
	if m := ask(t, r, v, "www.wl.example.org.", dns.TypeA); len(m.Answer) != 1 {
		t.Fatalf("www after: %v", m)
	}
	q := new(dns.Msg)
	q.SetQuestion("wl.example.org.", dns.TypeMX)
	req, _ := q.Pack()
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { r.Respond(buf, req, v, 1232) }); n != 0 {
		t.Errorf("MX answer with glue: %v allocations", n)
	}
}

func benchOwn(b *testing.B, name string, qtype uint16) {
	r, ix := ownFixture(b)
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(1232, false)
	req, _ := q.Pack()
	v := ix.Load()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = r.Respond(buf, req, v, 1232)
	}
}

// BenchmarkRespond_OwnMXWithGlue against BenchmarkRespond_ApexSOA: the
// cost of the table lookup and the additional section.
func BenchmarkRespond_OwnMXWithGlue(b *testing.B) { benchOwn(b, "wl.example.org.", dns.TypeMX) }

func BenchmarkRespond_OwnNSWithGlue(b *testing.B) { benchOwn(b, "wl.example.org.", dns.TypeNS) }

func BenchmarkRespond_OwnNXDomain(b *testing.B) { benchOwn(b, "www.wl.example.org.", dns.TypeA) }

func BenchmarkRespond_ApexSOA(b *testing.B) { benchOwn(b, "wl.example.org.", dns.TypeSOA) }

// A zone record whose name does not fit under this node's apex is left out
// and counted (wlns_dns_zone_records{state="unserved"}); the rest serve.
func TestRespond_ZoneRecordTooLongForTheApexIsLeftOut(t *testing.T) {
	apex := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + ".example.org"
	r, err := NewResponder(ResponderConfig{Apex: apex, NS: []string{"ns.example.net"}, Hostmaster: "h@example.org", TTL: 300})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + ".e"
	var z *record.ZoneRecords
	z = z.With(&record.ZoneRecord{Name: long, Type: "A", Data: "192.0.2.1"})
	z = z.With(&record.ZoneRecord{Name: "mx", Type: "A", Data: "192.0.2.25"})
	ix := index.New()
	r.follow(ix)
	tx := ix.Begin()
	tx.SetZoneRecords(z)
	tx.Commit()
	if own := r.own.Load(); own.unserved != 1 || own.served != 1 {
		t.Fatalf("served %d, unserved %d, want 1 and 1", own.served, own.unserved)
	}
	if m := ask(t, r, ix.Load(), "mx."+apex+".", dns.TypeA); len(m.Answer) != 1 {
		t.Errorf("mx: %v", m)
	}
}

// A replicated record at a configured name server's name joins its RRset
// with the configured TTL, in answers and in the zone transfer alike.
func TestOwnSource_RRsetTakesTheFirstTTL(t *testing.T) {
	r, ix := ownFixture(t)
	tx := ix.Begin()
	tx.SetZoneRecords(ix.Load().ZoneRecords().With(&record.ZoneRecord{Name: "ns1", Type: "A", Data: "192.0.2.153", TTL: 3600}))
	tx.Commit()
	v := ix.Load()
	m := ask(t, r, v, "ns1.wl.example.org.", dns.TypeA)
	xfr := r.ownRRs(v)
	for _, rr := range append(m.Answer, xfr...) {
		if h := rr.Header(); h.Name == "ns1.wl.example.org." && h.Ttl != 300 {
			t.Errorf("%v: want the configured glue's TTL 300", rr)
		}
	}
	if len(m.Answer) != 2 {
		t.Errorf("answer %v, want both addresses", m.Answer)
	}
}

// The own-names table is built when a View with other zone records is
// published, on the writer, not by the first query that sees it: a query
// allocates nothing, and one asked on an older View (a reader that loaded
// it before the change) neither rebuilds nor puts back the older table.
func TestRespond_OwnNamesTableIsBuiltWhenPublished(t *testing.T) {
	r, ix := ownFixture(t)
	old := ix.Load()
	tx := ix.Begin()
	tx.SetZoneRecords(old.ZoneRecords().With(&record.ZoneRecord{Name: "www", Type: "A", Data: "192.0.2.80"}))
	tx.Commit()
	cur := ix.Load()
	if r.own.Load().src != cur.ZoneRecords() {
		t.Fatal("the table was not built when the View was published")
	}
	q := new(dns.Msg)
	q.SetQuestion("www.wl.example.org.", dns.TypeA)
	req, _ := q.Pack()
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(50, func() {
		r.Respond(buf, req, old, 1232)
		r.Respond(buf, req, cur, 1232)
	}); n != 0 {
		t.Errorf("queries on the older and the current View: %v allocations", n)
	}
	if r.own.Load().src != cur.ZoneRecords() {
		t.Error("a query on an older View put its table back")
	}
}

// wlns_dns_zone_records counts the replicated zone records: served, or
// unserved when a name is too long under this node's apex. The
// configuration's NS set and glue are not zone records and count in
// neither; a zone record equal to configured glue is served.
func TestServer_ZoneRecordsGaugeCountsTheZoneRecords(t *testing.T) {
	apex := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + ".example.org"
	reg := prometheus.NewRegistry()
	ix := index.New()
	if _, err := New(Config{Apex: apex, Listen: "127.0.0.1:0", NS: []string{"ns1." + apex + "=192.0.2.53", "ns2." + apex + "=2001:db8::53"},
		Registerer: reg}, ix); err != nil {
		t.Fatal(err)
	}
	setZoneRecords(ix,
		record.ZoneRecord{Name: strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + ".e", Type: "A", Data: "192.0.2.1"},
		record.ZoneRecord{Name: "mx", Type: "A", Data: "192.0.2.25"},
		record.ZoneRecord{Name: "ns1", Type: "A", Data: "192.0.2.53"})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "wlns_dns_zone_records" {
			for _, m := range mf.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	if got["served"] != 2 || got["unserved"] != 1 {
		t.Fatalf("wlns_dns_zone_records %v, want served 2, unserved 1", got)
	}
}

// A zone record whose name holds escaped octets (a dot inside a label,
// \DDD for a letter) answers at the name those octets spell, and a target
// spelled with them finds its glue: the table is keyed by wire labels,
// not by the presentation text.
func TestRespond_OwnNamesWithEscapedLabels(t *testing.T) {
	r, ix := ownFixture(t)
	setZoneRecords(ix,
		record.ZoneRecord{Name: `a\.b`, Type: "A", Data: "192.0.2.7"},
		record.ZoneRecord{Name: `\077x2`, Type: "A", Data: "192.0.2.26"},
		record.ZoneRecord{Name: "@", Type: "MX", Data: `10 \109x2`})
	v := ix.Load()
	cases := []struct {
		name  string
		qtype uint16
		answer,
		extra []string
	}{
		{`a\.b.wl.example.org.`, dns.TypeA, []string{`a\.b.wl.example.org. 300 IN A 192.0.2.7`}, nil},
		{"mx2.wl.example.org.", dns.TypeA, []string{"mx2.wl.example.org. 300 IN A 192.0.2.26"}, nil},
		{"wl.example.org.", dns.TypeMX, []string{"wl.example.org. 300 IN MX 10 mx2.wl.example.org."}, []string{"mx2.wl.example.org. 300 IN A 192.0.2.26"}},
	}
	for _, tc := range cases {
		m := ask(t, r, v, tc.name, tc.qtype)
		if m.Rcode != dns.RcodeSuccess {
			t.Errorf("%s %s: %s, want NOERROR", tc.name, dns.TypeToString[tc.qtype], dns.RcodeToString[m.Rcode])
			continue
		}
		if got, want := rrs(t, m.Answer), normRRs(t, tc.answer); !slices.Equal(got, want) {
			t.Errorf("%s answer\n got %q\nwant %q", tc.name, got, want)
		}
		if got, want := rrs(t, m.Extra), normRRs(t, tc.extra); !slices.Equal(got, want) {
			t.Errorf("%s additional\n got %q\nwant %q", tc.name, got, want)
		}
	}
}
