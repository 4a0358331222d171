package zone

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

const testKey = "xfr-key."
const testSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ=="

// startXFR starts a DNS server on ix with zone transfer on a free port.
func startXFR(t *testing.T, ix *index.Index, edit func(*XFRConfig)) *XFR {
	t.Helper()
	s := startServer(t, "127.0.0.1:0", ix, nil)
	cfg := XFRConfig{Listen: "127.0.0.1:0", Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Keys: map[string]string{testKey: testSecret}, Interval: 50 * time.Millisecond, Zones: []string{"@", "relay", "verp", "sender"}}
	if edit != nil {
		edit(&cfg)
	}
	x, err := s.NewXFR(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Shutdown(context.Background()) })
	return x
}

// transfer asks for a zone and returns its records; key "" sends no TSIG.
func transfer(t *testing.T, x *XFR, zone string, qtype uint16, from uint32, key, secret string) ([]dns.RR, error) {
	t.Helper()
	m := new(dns.Msg)
	if qtype == dns.TypeIXFR {
		m.SetIxfr(zone, from, "ns1.example.net.", "hostmaster.wl.example.org.")
	} else {
		m.SetAxfr(zone)
	}
	// The first transfer of a cut zone waits for its write-out (Export,
	// then read back: the fixture's sender cut is 4,088 records, 30–150 ms,
	// 0.5–0.9 s under -race); with miekg's 2 s read timeout, 6 of 40 -race
	// runs on a loaded machine timed out before the first message. The
	// bound is for a stuck server, not the expected time.
	tr := &dns.Transfer{ReadTimeout: 20 * time.Second}
	if key != "" {
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
		tr.TsigSecret = map[string]string{key: secret}
	}
	ch, err := tr.In(m, x.Addr().String())
	if err != nil {
		return nil, err
	}
	var out []dns.RR
	for env := range ch {
		if env.Error != nil {
			return out, env.Error
		}
		out = append(out, env.RR...)
	}
	return out, nil
}

// oracle answers from transferred records the way a standard authoritative
// server does (RFC 1034 §4.3.2, RFC 4592): the exact name, else the
// wildcard at the closest encloser.
type oracle struct {
	owners map[string][]dns.RR
	nodes  map[string]bool // owners and their ancestors
	cuts   map[string]bool // NS owners below the zone's apex
}

func newOracle(rrs []dns.RR) *oracle {
	o := &oracle{owners: map[string][]dns.RR{}, nodes: map[string]bool{}, cuts: map[string]bool{}}
	apex := strings.ToLower(rrs[0].Header().Name)
	for _, rr := range rrs {
		if n := strings.ToLower(rr.Header().Name); rr.Header().Rrtype == dns.TypeNS && n != apex {
			o.cuts[n] = true
		}
		n := strings.ToLower(rr.Header().Name)
		for a := n; a != "." && !o.nodes[a]; a = parentName(a) {
			o.nodes[a] = true
		}
		if rr.Header().Rrtype == dns.TypeA || rr.Header().Rrtype == dns.TypeTXT {
			o.owners[n] = append(o.owners[n], rr)
		}
	}
	return o
}

// referral stands for a referral in the comparisons.
const referral = 255

// answer is the A code and TXT for name, or 0 when not listed, or
// referral below a cut.
func (o *oracle) answer(name string) (byte, string) {
	name = strings.ToLower(name)
	for n := name; n != "."; n = parentName(n) {
		if o.cuts[n] {
			return referral, ""
		}
	}
	rrs, ok := o.owners[name]
	if !ok && !o.nodes[name] {
		ce := parentName(name)
		for ce != "." && !o.nodes[ce] {
			ce = parentName(ce)
		}
		rrs = o.owners["*."+ce]
	}
	return codeText(rrs)
}

func codeText(rrs []dns.RR) (byte, string) {
	var code byte
	var txt string
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *dns.A:
			code = rr.A.To4()[3]
		case *dns.TXT:
			txt = strings.Join(rr.Txt, "")
		}
	}
	return code, txt
}

// compare asks every name of both wlns and the oracle; gaps lists the names
// where they are known to differ.
func compare(t *testing.T, r *Responder, v *index.View, o *oracle, names []string, gaps map[string]bool) {
	t.Helper()
	for _, n := range names {
		m := ask(t, r, v, n, dns.TypeANY)
		wc, wt := codeText(m.Answer)
		if !m.Authoritative && len(m.Ns) > 0 && m.Ns[0].Header().Rrtype == dns.TypeNS {
			wc, wt = referral, ""
		}
		oc, ot := o.answer(n)
		if gaps[n] {
			if wc == oc {
				t.Errorf("%s: documented as a gap but both answer %d", n, wc)
			}
			continue
		}
		if wc != oc || wt != ot {
			t.Errorf("%s: wlns answers %d %q, a secondary would answer %d %q", n, wc, wt, oc, ot)
		}
	}
}

func relayNames(t *testing.T, addrs ...string) []string {
	var out []string
	for _, a := range addrs {
		out = append(out, qname.Relay(netip.MustParseAddr(a), testApex))
	}
	return out
}

// queryNames are the names both servers are asked: relay names around
// every member, and sender and VERP names in every form under listed,
// unlisted and test addresses.
func queryNames(t *testing.T) []string {
	names := relayNames(t, "192.0.2.4", "192.0.2.0", "192.0.2.255", "192.0.3.1", "198.51.100.9", "198.51.100.10",
		"2001:db8:1::1", "2001:db8:1:ffff::25", "2001:db8:2::1", "127.0.0.2", "127.0.0.1",
		"10.1.2.3", "10.1.2.4", "10.1.200.1", "10.1.9.1", "10.1.8.1", "11.200.1.1", "11.200.9.1", "11.9.9.9", "10.2.0.1", "172.16.16.1", "172.16.31.255", "172.16.32.1", "172.16.15.1")
	for _, ip := range []string{"192.0.2.4", "10.1.2.3", "198.51.100.9", "127.0.0.2", "10.1.9.9"} {
		a := netip.MustParseAddr(ip)
		for _, s := range []string{"dave@umkc.edu", "first.last@umkc.edu", "x@y.org", "carol@mail.example.org", "nobody@umkc.edu"} {
			for _, f := range []qname.Form{qname.Hashed, qname.HashedDomain, qname.Escaped, qname.Plain} {
				if n, err := qname.Sender(s, a, testApex, f); err == nil {
					names = append(names, n)
				}
			}
		}
		base := revName(a) + "sender." + testApex + "."
		for _, s := range []string{"anyone.example.com", "a.b.example.com", "x.mail.example.org", "y.example.org", "anyone.test", "example.org"} {
			names = append(names, s+"."+base)
		}
		for _, d := range []string{"lists.example.net", "other.example.net", "test"} {
			n, _ := qname.Verp(d, a, testApex)
			names = append(names, n)
		}
	}
	return names
}

// TestXFR_SecondaryAnswersLikeWlns transfers the fixture and checks that a
// standard server's wildcard semantics give wlns's answers, name by name.
func TestXFR_SecondaryAnswersLikeWlns(t *testing.T) {
	ix := fixture(t)
	tx := ix.Begin()
	// Group 1 without its IPv6 /48 (which cannot be written out in the
	// sender and VERP zones), a /16 around a lone address, and a /20: the
	// closest-encloser cases.
	tx.PutEntity(&record.Entity{ID: 1, Name: "umkc-mx", Group: true, Registered: true,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8:1::/120")}, Meta: record.Meta{Created: created}})
	tx.PutEntity(&record.Entity{ID: 4, Name: "wide", Group: true, Registered: true,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("172.16.16.0/20")}, Meta: record.Meta{Created: created}})
	tx.PutEntity(&record.Entity{ID: 5, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32")}, Meta: record.Meta{Created: created}})
	tx.PutPair(&record.Pair{Entity: 5, Sender: "carol@mail.example.org", Meta: record.Meta{Created: created}})
	tx.PutPair(&record.Pair{Entity: 5, Sender: "example.org", Meta: record.Meta{Created: created}})
	// 10.1.9.0/24, inside the /16, is delegated to the postmaster's
	// servers; so is 11.200.9.0/24 inside a /8, whose cut makes 200.11
	// exist.
	tx.PutEntity(&record.Entity{ID: 6, Name: "eight", Group: true, Registered: true,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("11.0.0.0/8")}, Meta: record.Meta{Created: created}})
	for _, d := range []*record.Delegation{
		{Prefix: netip.MustParsePrefix("10.1.9.0/24"), NS: []record.NameServer{
			{Name: "ns.9.1.10.relay.wl.example.org", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.53")}}, {Name: "ns.pm.example"}}},
		{Prefix: netip.MustParsePrefix("11.200.9.0/24"), NS: []record.NameServer{{Name: "ns.pm.example"}}},
	} {
		if err := tx.PutDelegation(d); err != nil {
			t.Fatal(err)
		}
	}
	tx.Commit()
	x := startXFR(t, ix, func(c *XFRConfig) { c.MaxMember = 1 << 16 })
	rrs, err := transfer(t, x, testApex+".", dns.TypeAXFR, 0, testKey, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if soa, ok := rrs[0].(*dns.SOA); !ok || soa.Serial != 42 {
		t.Fatalf("AXFR starts with %v, want the SOA at serial 42", rrs[0])
	}
	var all []string
	for _, rr := range rrs {
		all = append(all, strings.Join(strings.Fields(rr.String()), " "))
	}
	for _, want := range []string{"9.1.10.relay.wl.example.org. 300 IN NS ns.pm.example.", "9.1.10.sender.wl.example.org. 300 IN NS ns.9.1.10.relay.wl.example.org.",
		"ns.9.1.10.relay.wl.example.org. 300 IN A 10.0.0.53"} {
		if !slices.Contains(all, want) {
			t.Errorf("the AXFR lacks the delegation's %q", want)
		}
	}
	gaps := map[string]bool{
		// 192.0.2.77 is an unregistered lone entity inside the registered
		// /24: wlns answers NXDOMAIN, but a standard server finds nothing
		// to block the /24's wildcard.
		qname.Relay(netip.MustParseAddr("192.0.2.77"), testApex): true,
	}
	names := append(queryNames(t), relayNames(t, "192.0.2.77")...)
	compare(t, x.r, ix.Load(), newOracle(rrs), names, gaps)
}

// TestXFR_IXFRJournalAndRefusals: after a change, IXFR from the old serial
// sends only the difference, from an unknown serial the whole zone; a
// wrong key, no key and an address outside the ACL are refused.
func TestXFR_IXFRJournalAndRefusals(t *testing.T) {
	ix := fixture(t)
	x := startXFR(t, ix, nil)
	zone := "relay." + testApex + "."
	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 9, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.9/32")}, Meta: record.Meta{Created: created}})
	tx.SetZoneSerial(43)
	tx.Commit()
	deadline := time.Now().Add(5 * time.Second)
	for {
		x.mu.RLock()
		serial := x.cur.serial
		x.mu.RUnlock()
		if serial == 43 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("zones not written out again after the change")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rrs, err := transfer(t, x, zone, dns.TypeIXFR, 42, testKey, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rr := range rrs {
		switch rr := rr.(type) {
		case *dns.SOA:
			got = append(got, "SOA "+fmt.Sprint(rr.Serial))
		case *dns.A:
			got = append(got, rr.Hdr.Name)
		}
	}
	want := []string{"SOA 43", "SOA 42", "SOA 43", "9.113.0.203.relay.wl.example.org.", "SOA 43"}
	if !slices.Equal(got, want) {
		t.Errorf("IXFR from 42: %v, want %v", got, want)
	}
	full, err := transfer(t, x, zone, dns.TypeIXFR, 17, testKey, testSecret)
	if err != nil || len(full) < len(rrs)+4 {
		t.Errorf("IXFR from an unknown serial: %d records (%v), want the whole zone", len(full), err)
	}
	if _, err := transfer(t, x, zone, dns.TypeAXFR, 0, testKey, "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmct"); err == nil {
		t.Error("AXFR with a wrong secret succeeded")
	}
	if _, err := transfer(t, x, zone, dns.TypeAXFR, 0, "", ""); err == nil {
		t.Error("AXFR without TSIG succeeded")
	}
	other := startXFR(t, ix, func(c *XFRConfig) { c.Allow = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} })
	if _, err := transfer(t, other, zone, dns.TypeAXFR, 0, testKey, testSecret); err == nil {
		t.Error("AXFR from outside the ACL succeeded")
	}
	// By default only the relay and VERP zones are offered.
	def := startXFR(t, ix, func(c *XFRConfig) { c.Zones = nil })
	if _, err := transfer(t, def, "sender."+testApex+".", dns.TypeAXFR, 0, testKey, testSecret); err == nil {
		t.Error("AXFR of the sender zone, not offered by default, succeeded")
	}
	if _, err := transfer(t, def, zone, dns.TypeAXFR, 0, testKey, testSecret); err != nil {
		t.Errorf("AXFR of the relay zone, offered by default: %v", err)
	}
	// The fixture's group has an IPv6 /48: its VERP zone cannot be written
	// out, and is refused rather than served incomplete.
	if _, err := transfer(t, def, "verp."+testApex+".", dns.TypeAXFR, 0, testKey, testSecret); err == nil {
		t.Error("AXFR of a VERP zone with a /48 member succeeded")
	}
}

// TestXFR_ApexZoneCarriesOwnNames: the apex zone's transfer holds the NS
// set, the glue and the zone records operators published, each RRset as
// wlns answers it.
func TestXFR_ApexZoneCarriesOwnNames(t *testing.T) {
	_, ix := ownFixture(t)
	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 1, Name: "umkc-mx", Group: true, Registered: true,
		Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Meta: record.Meta{Created: created}})
	tx.Commit()
	s := startServerConfig(t, Config{Apex: testApex, Listen: "127.0.0.1:0", Readers: 1,
		NS: []string{"ns1.wl.example.org=192.0.2.53", "ns2.wl.example.org=192.0.2.54", "ns2.wl.example.org=2001:db8::54", "ns3.example.net"}}, ix)
	x, err := s.NewXFR(XFRConfig{Listen: "127.0.0.1:0", Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Zones: []string{"@"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Shutdown(context.Background()) })
	all, err := transfer(t, x, testApex+".", dns.TypeAXFR, 0, "", "")
	if err != nil {
		t.Fatal(err)
	}
	sets := map[[2]string][]string{}
	for _, rr := range all[1 : len(all)-1] {
		h := rr.Header()
		if strings.HasSuffix(h.Name, ".relay."+testApex+".") || strings.HasSuffix(h.Name, ".sender."+testApex+".") || strings.HasSuffix(h.Name, ".verp."+testApex+".") {
			continue
		}
		k := [2]string{h.Name, dns.TypeToString[h.Rrtype]}
		sets[k] = append(sets[k], strings.Join(strings.Fields(rr.String()), " "))
	}
	for _, want := range []string{"@ MX", "mx AAAA", "ns2 A", "_submission._tcp SRV", "@ NS", "@ CAA"} {
		name, typ, _ := strings.Cut(want, " ")
		owner := testApex + "."
		if name != "@" {
			owner = name + "." + owner
		}
		if len(sets[[2]string{owner, typ}]) == 0 {
			t.Errorf("the apex AXFR lacks %s %s", owner, typ)
		}
	}
	v := ix.Load()
	for k, got := range sets {
		m := ask(t, x.r, v, k[0], dns.StringToType[k[1]])
		answer := rrs(t, m.Answer)
		slices.Sort(answer)
		slices.Sort(got)
		if !slices.Equal(answer, got) {
			t.Errorf("%s %s: wlns answers %q, the transfer holds %q", k[0], k[1], answer, got)
		}
	}
}
