package zone

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// delegated is the fixture with 192.0.2.0/24 (group umkc-mx's prefix, with
// listed pairs) delegated to an in-zone and an outside name server, and
// 2001:db8:1::/48 to the outside one.
func delegated(t testing.TB) *index.View {
	t.Helper()
	ix := fixture(t)
	tx := ix.Begin()
	for _, d := range []*record.Delegation{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), NS: []record.NameServer{
			{Name: "ns.2.0.192.relay.wl.example.org", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("fd00::53")}},
			{Name: "ns.pm.example", Addrs: []netip.Addr{netip.MustParseAddr("10.9.9.9")}},
		}},
		{Prefix: netip.MustParsePrefix("2001:db8:1::/48"), NS: []record.NameServer{{Name: "ns.pm.example"}}},
	} {
		if err := tx.PutDelegation(d); err != nil {
			t.Fatal(err)
		}
	}
	tx.Commit()
	return ix.Load()
}

func TestRespond_Delegation(t *testing.T) {
	const relayCut = "2.0.192.relay.wl.example.org."
	referral4 := func(cut string) []string {
		return []string{cut + " 300 IN NS ns.2.0.192.relay.wl.example.org.", cut + " 300 IN NS ns.pm.example."}
	}
	glue := []string{"ns.2.0.192.relay.wl.example.org. 300 IN A 10.0.0.53", "ns.2.0.192.relay.wl.example.org. 300 IN AAAA fd00::53"}
	v6cut := "1.0.0.0.8.b.d.0.1.0.0.2.sender.wl.example.org."
	cases := []struct {
		name       string
		qtype      uint16
		rcode      int
		aa         bool
		answer, ns []string
		extra      []string
	}{
		{name: "4.2.0.192.relay.wl.example.org.", qtype: dns.TypeA, ns: referral4(relayCut), extra: glue},
		{name: relayCut, qtype: dns.TypeNS, ns: referral4(relayCut), extra: glue},
		{name: relayCut, qtype: dns.TypeSOA, ns: referral4(relayCut), extra: glue},
		{name: relayCut, qtype: dns.TypeDS, aa: true, ns: []string{soaNeg}},
		{name: "dave.umkc.edu.4.2.0.192.sender.wl.example.org.", qtype: dns.TypeA,
			ns: referral4("2.0.192.sender.wl.example.org."), extra: glue},
		{name: "lists.example.net.4.2.0.192.verp.wl.example.org.", qtype: dns.TypeTXT,
			ns: referral4("2.0.192.verp.wl.example.org."), extra: glue},
		// Above the cut: wlns's own answers.
		{name: "0.192.relay.wl.example.org.", qtype: dns.TypeA, aa: true, ns: []string{soaNeg}},
		{name: "9.100.51.198.relay.wl.example.org.", qtype: dns.TypeA, aa: true,
			answer: []string{"9.100.51.198.relay.wl.example.org. 300 IN A 127.0.2.1"}},
		// An outside name server gets no glue.
		{name: "dave.umkc.edu." + rev6(t, "2001:db8:1::25") + "sender.wl.example.org.", qtype: dns.TypeA,
			ns: []string{v6cut + " 300 IN NS ns.pm.example."}},
	}
	r := newTestResponder(t)
	v := delegated(t)
	for _, tc := range cases {
		t.Run(dns.TypeToString[tc.qtype]+" "+tc.name, func(t *testing.T) {
			m := ask(t, r, v, tc.name, tc.qtype, func(m *dns.Msg) { m.SetEdns0(1232, false) })
			if m.Rcode != tc.rcode || m.Authoritative != tc.aa {
				t.Fatalf("rcode %s AA %v, want %s AA %v\n%v", dns.RcodeToString[m.Rcode], m.Authoritative, dns.RcodeToString[tc.rcode], tc.aa, m)
			}
			for _, sec := range []struct {
				what      string
				got, want []dns.RR
				exp       []string
			}{{"answer", m.Answer, nil, tc.answer}, {"authority", m.Ns, nil, tc.ns}, {"additional", m.Extra, nil, tc.extra}} {
				if got, want := rrs(t, sec.got), normRRs(t, sec.exp); !slices.Equal(got, want) {
					t.Errorf("%s\n got %q\nwant %q", sec.what, got, want)
				}
			}
		})
	}
}

func TestRespond_ReferralAllocatesNothing(t *testing.T) {
	r := newTestResponder(t)
	v := delegated(t)
	q := new(dns.Msg)
	q.SetQuestion("dave.umkc.edu.4.2.0.192.sender.wl.example.org.", dns.TypeA)
	req, _ := q.Pack()
	dst := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { r.Respond(dst, req, v, 0) }); n != 0 {
		t.Fatalf("%.0f allocations per referral", n)
	}
}

// TestXFR_DelegatedCutsTransferAsReferrals checks that a transferred tree
// holds, at a delegated cut, the NS records (with glue inside the zone)
// and nothing at or below the cut, so a secondary refers as wlns does.
func TestXFR_DelegatedCutsTransferAsReferrals(t *testing.T) {
	r := newTestResponder(t)
	v := delegated(t)
	lim := xfrLimits{maxRecords: 1 << 20, maxMember: 1 << 16}
	for _, tc := range []struct {
		sub, cut string
		own      []string
	}{
		{"relay", "2.0.192.relay.wl.example.org.", []string{
			"2.0.192.relay.wl.example.org. 300 IN NS ns.2.0.192.relay.wl.example.org.",
			"2.0.192.relay.wl.example.org. 300 IN NS ns.pm.example.",
			"ns.2.0.192.relay.wl.example.org. 300 IN A 10.0.0.53",
			"ns.2.0.192.relay.wl.example.org. 300 IN AAAA fd00::53",
			"1.0.0.0.8.b.d.0.1.0.0.2.relay.wl.example.org. 300 IN NS ns.pm.example."}},
		{"sender", "2.0.192.sender.wl.example.org.", []string{
			"2.0.192.sender.wl.example.org. 300 IN NS ns.2.0.192.relay.wl.example.org.",
			"2.0.192.sender.wl.example.org. 300 IN NS ns.pm.example.",
			"1.0.0.0.8.b.d.0.1.0.0.2.sender.wl.example.org. 300 IN NS ns.pm.example."}},
	} {
		z, err := r.buildXFRZone(v, tc.sub, lim)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range z.recs {
			if rec.name == tc.cut || strings.HasSuffix(rec.name, "."+tc.cut) {
				t.Errorf("%s: %s is below the cut %s", tc.sub, rec.name, tc.cut)
			}
		}
		if got, want := rrs(t, z.own), normRRs(t, tc.own); !slices.Equal(sorted(got), sorted(want)) {
			t.Errorf("%s: own records\n got %q\nwant %q", tc.sub, got, want)
		}
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// TestRespond_ReferralTruncatesRatherThanDropRequiredGlue: glue for name
// servers below the cut is required (RFC 9471); when it does not fit a
// 512-byte answer the referral is truncated (TC) instead of sent without.
func TestRespond_ReferralTruncatesRatherThanDropRequiredGlue(t *testing.T) {
	ix := fixture(t)
	tx := ix.Begin()
	d := &record.Delegation{Prefix: netip.MustParsePrefix("192.0.2.0/24")}
	for i := range record.MaxNameServers {
		ns := record.NameServer{Name: fmt.Sprintf("ns%d.2.0.192.relay.wl.example.org", i)}
		for j := range 4 {
			ns.Addrs = append(ns.Addrs, netip.AddrFrom4([4]byte{10, 0, byte(i), byte(j + 1)}))
		}
		d.NS = append(d.NS, ns)
	}
	if err := tx.PutDelegation(d); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	q := new(dns.Msg)
	q.SetQuestion("4.2.0.192.relay.wl.example.org.", dns.TypeA)
	req, _ := q.Pack()
	m := exchange(t, newTestResponder(t), ix.Load(), req, 512)
	if !m.Truncated || len(m.Ns) != 0 || len(m.Extra) != 0 {
		t.Fatalf("referral over 512 bytes: TC %v, %d NS, %d glue", m.Truncated, len(m.Ns), len(m.Extra))
	}
	if m := exchange(t, newTestResponder(t), ix.Load(), req, 0); m.Truncated || len(m.Ns) != 8 || len(m.Extra) != 32 {
		t.Fatalf("referral over TCP: TC %v, %d NS, %d glue", m.Truncated, len(m.Ns), len(m.Extra))
	}
}

// BenchmarkRespond_Referral answers a sender name below a /24 cut with two
// name servers and two glue records (compare BenchmarkRespond_SenderEscapedHit).
func BenchmarkRespond_Referral(b *testing.B) {
	r := newTestResponder(b)
	v := delegated(b)
	q := new(dns.Msg)
	q.SetQuestion(`first\.last.umkc.edu.4.2.0.192.sender.wl.example.org.`, dns.TypeA)
	req, _ := q.Pack()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = r.Respond(buf, req, v, 1232)
	}
}

// A delegation's glue only ever names its own cuts: an address recorded
// for a name elsewhere in the zone (written before the store refused it,
// or by a forged snapshot) is sent neither with the referral nor to
// secondaries, where it would publish an A record wlns answers NXDOMAIN.
func TestRespond_GlueOnlyBelowTheDelegationsCuts(t *testing.T) {
	ix := fixture(t)
	tx := ix.Begin()
	if err := tx.PutDelegation(&record.Delegation{Prefix: netip.MustParsePrefix("198.51.100.0/24"), NS: []record.NameServer{
		{Name: "ns.x.wl.example.org", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.99")}},
		{Name: "ns.2.0.192.relay.wl.example.org", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.98")}},
		{Name: "ns1.100.51.198.sender.wl.example.org", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.97")}},
	}}); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	r, v := newTestResponder(t), ix.Load()
	m := ask(t, r, v, "9.100.51.198.relay.wl.example.org.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(1232, false) })
	want := normRRs(t, []string{"ns1.100.51.198.sender.wl.example.org. 300 IN A 10.0.0.97"})
	if got := rrs(t, m.Extra); len(m.Ns) != 3 || !slices.Equal(got, want) {
		t.Fatalf("referral: %d NS, glue %q; want 3 NS and glue %q", len(m.Ns), got, want)
	}
	for _, sub := range []string{"relay", "sender"} {
		_, own := r.xfrCuts(v, sub, sub+".wl.example.org.", nil)
		for _, rr := range own {
			if a, ok := rr.(*dns.A); ok && a.A.String() != "10.0.0.97" {
				t.Errorf("the %s zone transfer carries %v", sub, rr)
			}
		}
	}
}
