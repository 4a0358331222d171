package systest

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// query is one row of a DNS table test.
type query struct {
	name  string
	qtype uint16
	want  want
}

// checkAll asks every query with every client.
func checkAll(t *testing.T, server string, clients []dnsClient, qs []query) {
	t.Helper()
	for _, q := range qs {
		check(t, clients, server, q.name, q.qtype, q.want)
	}
}

func TestZone_AnswersEveryQueryForm(t *testing.T) {
	clients := allClients(t)
	f := newFixture(t)
	srv := f.ready.DNSUDP
	if f.ready.DNSTCP != srv {
		t.Logf("TCP on %s, UDP on %s: TCP clients use the UDP port as documented", f.ready.DNSTCP, srv)
	}
	dave := senderName(t, "dave.umkc.edu", relayV4)
	tests := []struct {
		what string
		qs   []query
	}{
		{"RFC 5782 test entries", []query{
			{"2.0.0.127.relay." + apex, dns.TypeA, listedA(codeRelay)},
			{"2.0.0.127.relay." + apex, dns.TypeTXT, listedTXT()},
			{"1.0.0.127.relay." + apex, dns.TypeA, nxdomain},
		}},
		{"registered relays v4 and v6", []query{
			{relayName(t, relayV4), dns.TypeA, listedA(codeRelay)},
			{relayName(t, relayV4), dns.TypeTXT, want{rcode: dns.RcodeSuccess, txt: true, txtRE: `192\.0\.2\.4`}},
			{relayName(t, relayV6), dns.TypeA, listedA(codeRelay)},
			{relayName(t, otherV4), dns.TypeA, nxdomain},
			{relayName(t, "2001:db8::26"), dns.TypeA, nxdomain},
		}},
		{"sender forms", []query{
			{dave, dns.TypeA, listedA(codeSender)},
			{strings.ToUpper(dave), dns.TypeA, listedA(codeSender)},
			{senderName(t, `first\.last.umkc.edu`, relayV4), dns.TypeA, listedA(codeSender)},
			{senderName(t, "first.last.umkc.edu", relayV4), dns.TypeA, listedA(codeSender)},
			{senderName(t, hashLabel("dave@umkc.edu"), relayV4), dns.TypeA, listedA(codeSender)},
			{senderName(t, hashLabel("DAVE@UMKC.EDU"), relayV4), dns.TypeA, listedA(codeSender)},
			{senderName(t, "dave.umkc.edu", relayV6), dns.TypeA, listedA(codeSender)},
			{senderName(t, "anyone.bigcorp.example", relayV4), dns.TypeA, listedA(codeDomain)},
			{senderName(t, "eve.umkc.edu", relayV4), dns.TypeA, nodata},
			{senderName(t, hashLabel("eve@umkc.edu"), relayV4), dns.TypeA, nodata},
			{senderName(t, "first.last.umkc.edu", relayV6), dns.TypeA, nodata},
			{senderName(t, "dave.umkc.edu", otherV4), dns.TypeA, nxdomain},
		}},
		{"group members", []query{
			{relayName(t, groupV4b), dns.TypeA, listedA(codeRelay)},
			{senderName(t, "carol.umkc.edu", groupV4), dns.TypeA, listedA(codeSender)},
			{senderName(t, "carol.umkc.edu", groupV4b), dns.TypeA, listedA(codeSender)},
			{senderName(t, "carol.umkc.edu", groupV6), dns.TypeA, listedA(codeSender)},
			{senderName(t, "dave.umkc.edu", groupV6), dns.TypeA, nodata},
		}},
		{"VERP", []query{
			{verpName(t, verpDomain, relayV4), dns.TypeA, listedA(codeVerp)},
			{verpName(t, "other.example.net", relayV4), dns.TypeA, nodata},
		}},
		{"ANY returns A and TXT", []query{
			{relayName(t, relayV4), dns.TypeANY, listedAny(codeRelay)},
			{dave, dns.TypeANY, listedAny(codeSender)},
		}},
		{"names above listed names are never NXDOMAIN", []query{
			{"relay." + apex, dns.TypeA, nodata},
			{"sender." + apex, dns.TypeA, nodata},
			{"192.sender." + apex, dns.TypeA, nodata},
			{"2.0.192.sender." + apex, dns.TypeA, nodata},
			{rev(t, relayV4) + ".sender." + apex, dns.TypeA, nodata},
			{"umkc.edu." + rev(t, relayV4) + ".sender." + apex, dns.TypeA, nodata},
			{"5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.relay." + apex, dns.TypeA, nodata},
		}},
		{"apex", []query{
			{apex, dns.TypeSOA, want{rcode: dns.RcodeSuccess, has: dns.TypeSOA}},
			{apex, dns.TypeNS, want{rcode: dns.RcodeSuccess, has: dns.TypeNS}},
			{"nothing-here." + apex, dns.TypeA, nxdomain},
		}},
		{"outside the apex", []query{
			{"example.com", dns.TypeA, refused},
			{"wl.test.example", dns.TypeA, refused},
			{"xwl.test", dns.TypeA, refused},
		}},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.what, " ", "_"), func(t *testing.T) {
			checkAll(t, srv, clients, tt.qs)
		})
	}
}

func TestZone_NXDOMAINCarriesShortNegativeTTL(t *testing.T) {
	n := startNode(t, "")
	m, err := exchange("udp", n.ready.DNSUDP, "1.0.0.127.relay."+apex, dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rcode != dns.RcodeNameError || len(m.Ns) == 0 {
		t.Fatalf("want NXDOMAIN with an SOA, got %v", m)
	}
	soa, ok := m.Ns[0].(*dns.SOA)
	if !ok {
		t.Fatalf("authority is %v, want the SOA", m.Ns[0])
	}
	// RFC 2308: the negative TTL is the smaller of the SOA's TTL and MINIMUM.
	if neg := min(soa.Hdr.Ttl, soa.Minttl); neg != 60 {
		t.Errorf("negative TTL = %d, want the documented 60 s (SOA TTL %d, minimum %d)", neg, soa.Hdr.Ttl, soa.Minttl)
	}
	if !strings.EqualFold(soa.Hdr.Name, apex+".") {
		t.Errorf("SOA owner %q, want the apex", soa.Hdr.Name)
	}
}

func TestZone_RemovingGroupMemberStopsItsAnswers(t *testing.T) {
	clients := allClients(t)
	f := newFixture(t)
	srv := f.ready.DNSUDP
	carolV6 := senderName(t, "carol.umkc.edu", groupV6)
	check(t, clients, srv, carolV6, dns.TypeA, listedA(codeSender))
	f.mustCLI("group", "remove-member", groupName, groupV6Net)
	check(t, clients, srv, carolV6, dns.TypeA, nxdomain)
	check(t, clients, srv, relayName(t, groupV6), dns.TypeA, nxdomain)
	// The other members keep the pair.
	check(t, clients, srv, senderName(t, "carol.umkc.edu", groupV4b), dns.TypeA, listedA(codeSender))
}
