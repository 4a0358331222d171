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

const (
	soaNeg = "wl.example.org. 60 IN SOA ns1.example.net. hostmaster.wl.example.org. 42 3600 600 604800 60"
	since  = " since 2026-11-23"
)

func rev6(t testing.TB, ip string) string {
	t.Helper()
	a := netip.MustParseAddr(ip).As16()
	var b strings.Builder
	for i := 15; i >= 0; i-- {
		fmt.Fprintf(&b, "%x.%x.", a[i]&0xf, a[i]>>4)
	}
	return b.String()
}

type respondCase struct {
	name   string
	qtype  uint16
	rcode  int
	answer []string
	ns     []string
}

func runCases(t *testing.T, cases []respondCase) {
	t.Helper()
	runCasesOn(t, fixture(t).Load(), cases)
}

// runCasesOn is runCases on the index view v.
func runCasesOn(t *testing.T, v *index.View, cases []respondCase) {
	t.Helper()
	r := newTestResponder(t)
	for _, tc := range cases {
		t.Run(dns.TypeToString[tc.qtype]+" "+tc.name, func(t *testing.T) {
			m := ask(t, r, v, tc.name, tc.qtype)
			if m.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s\n%v", dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.rcode], m)
			}
			if got, want := rrs(t, m.Answer), normRRs(t, tc.answer); !slices.Equal(got, want) {
				t.Errorf("answer\n got %q\nwant %q", got, want)
			}
			if got, want := rrs(t, m.Ns), normRRs(t, tc.ns); !slices.Equal(got, want) {
				t.Errorf("authority\n got %q\nwant %q", got, want)
			}
			if tc.rcode != dns.RcodeRefused && !m.Authoritative {
				t.Errorf("AA not set")
			}
		})
	}
}

func listedA(name string, code string) string { return name + " 300 IN A 127.0.2." + code }
func listedTXT(name, text string) string      { return name + ` 300 IN TXT "` + text + `"` }

func TestRespond_RelayZone(t *testing.T) {
	v6in := rev6(t, "2001:db8:1::5") + "relay.wl.example.org."
	v6out := rev6(t, "2001:db8:2::5") + "relay.wl.example.org."
	t2 := rev6(t, "::ffff:7f00:2") + "relay.wl.example.org."
	t1 := rev6(t, "::ffff:7f00:1") + "relay.wl.example.org."
	runCases(t, []respondCase{
		{"4.2.0.192.relay.wl.example.org.", dns.TypeA, 0, []string{listedA("4.2.0.192.relay.wl.example.org.", "1")}, nil},
		{"4.2.0.192.relay.wl.example.org.", dns.TypeTXT, 0, []string{listedTXT("4.2.0.192.relay.wl.example.org.", "wlns: registered relay group umkc-mx"+since)}, nil},
		{"77.2.0.192.relay.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"9.100.51.198.relay.wl.example.org.", dns.TypeTXT, 0, []string{listedTXT("9.100.51.198.relay.wl.example.org.", "wlns: registered relay 198.51.100.9"+since)}, nil},
		{"10.100.51.198.relay.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{v6in, dns.TypeA, 0, []string{listedA(v6in, "1")}, nil},
		{v6out, dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"2.0.0.127.relay.wl.example.org.", dns.TypeA, 0, []string{listedA("2.0.0.127.relay.wl.example.org.", "1")}, nil},
		{t2, dns.TypeA, 0, []string{listedA(t2, "1")}, nil},
		{"1.0.0.127.relay.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{t1, dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		// Partial rev-ips are empty non-terminals (RFC 8020).
		{"192.relay.wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		{"2.0.192.relay.wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		{"8.b.d.0.1.0.0.2.relay.wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		// 2.0.0.1 is unlisted but the name is also the top of 2001::/16.
		{"1.0.0.2.relay.wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		{"x.4.2.0.192.relay.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"256.2.0.192.relay.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"04.2.0.192.relay.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"0." + v6in, dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"4.2.0.192.relay.wl.example.org.", dns.TypeMX, 0, nil, []string{soaNeg}},
		{"4.2.0.192.relay.wl.example.org.", dns.TypeANY, 0, []string{
			listedA("4.2.0.192.relay.wl.example.org.", "1"),
			listedTXT("4.2.0.192.relay.wl.example.org.", "wlns: registered relay group umkc-mx"+since)}, nil},
	})
}

func TestRespond_ApexAndZoneNames(t *testing.T) {
	runCases(t, []respondCase{
		{"wl.example.org.", dns.TypeSOA, 0, []string{"wl.example.org. 300 IN SOA ns1.example.net. hostmaster.wl.example.org. 42 3600 600 604800 60"}, nil},
		{"wl.example.org.", dns.TypeANY, 0, []string{"wl.example.org. 300 IN SOA ns1.example.net. hostmaster.wl.example.org. 42 3600 600 604800 60"}, nil},
		{"wl.example.org.", dns.TypeNS, 0, []string{"wl.example.org. 300 IN NS ns1.example.net."}, nil},
		{"wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		{"relay.wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		{"sender.wl.example.org.", dns.TypeTXT, 0, nil, []string{soaNeg}},
		{"verp.wl.example.org.", dns.TypeSOA, 0, nil, []string{soaNeg}},
		{"www.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"4.2.0.192.www.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"example.org.", dns.TypeA, dns.RcodeRefused, nil, nil},
		{"xwl.example.org.", dns.TypeA, dns.RcodeRefused, nil, nil},
		{"wl.example.org.", dns.TypeAXFR, dns.RcodeRefused, nil, nil},
		{"wl.example.org.", dns.TypeIXFR, dns.RcodeRefused, nil, nil},
	})
}

func TestRespond_SenderZone(t *testing.T) {
	const z = ".4.2.0.192.sender.wl.example.org."
	hash := func(a string) string { return record.HashLabel(a) }
	v6 := rev6(t, "2001:db8:1::5") + "sender.wl.example.org."
	dave := "wlns: dave@umkc.edu verified via relay group umkc-mx" + since
	runCases(t, []respondCase{
		{"dave.umkc.edu" + z, dns.TypeA, 0, []string{listedA("dave.umkc.edu"+z, "2")}, nil},
		{"dave.umkc.edu" + z, dns.TypeTXT, 0, []string{listedTXT("dave.umkc.edu"+z, dave)}, nil},
		{`first\.last.umkc.edu` + z, dns.TypeA, 0, []string{listedA(`first\.last.umkc.edu`+z, "2")}, nil},
		{"first.last.umkc.edu" + z, dns.TypeTXT, 0, []string{listedTXT("first.last.umkc.edu"+z,
			"wlns: first.last@umkc.edu verified via relay group umkc-mx"+since)}, nil},
		{hash("dave@umkc.edu") + z, dns.TypeTXT, 0, []string{listedTXT(hash("dave@umkc.edu")+z,
			"wlns: hashed address verified via relay group umkc-mx"+since)}, nil},
		{hash("dave@umkc.edu") + ".umkc.edu" + z, dns.TypeA, 0, []string{listedA(hash("dave@umkc.edu")+".umkc.edu"+z, "2")}, nil},
		{hash("new@example.com") + ".example.com" + z, dns.TypeA, 0, []string{listedA(hash("new@example.com")+".example.com"+z, "3")}, nil},
		{hash("nobody@umkc.edu") + z, dns.TypeA, 0, nil, []string{soaNeg}},
		{"anyone.example.com" + z, dns.TypeTXT, 0, []string{listedTXT("anyone.example.com"+z,
			"wlns: domain example.com verified via relay group umkc-mx"+since)}, nil},
		{"a.b.mail.example.com" + z, dns.TypeA, 0, []string{listedA("a.b.mail.example.com"+z, "3")}, nil},
		{"nobody.umkc.edu" + z, dns.TypeA, 0, nil, []string{soaNeg}},
		{"umkc.edu" + z, dns.TypeA, 0, nil, []string{soaNeg}},
		{"edu" + z, dns.TypeA, 0, nil, []string{soaNeg}},
		{"dave.umkc.edu" + z, dns.TypeMX, 0, nil, []string{soaNeg}},
		{"dave.umkc.edu" + z, dns.TypeANY, 0, []string{listedA("dave.umkc.edu"+z, "2"), listedTXT("dave.umkc.edu"+z, dave)}, nil},
		// Any member of the group, IPv4 or IPv6.
		{"dave.umkc.edu.200.2.0.192.sender.wl.example.org.", dns.TypeA, 0, []string{listedA("dave.umkc.edu.200.2.0.192.sender.wl.example.org.", "2")}, nil},
		{"dave.umkc.edu." + v6, dns.TypeA, 0, []string{listedA("dave.umkc.edu."+v6, "2")}, nil},
		// 192.0.2.77 is its own entity: the group's pairs do not apply.
		{"dave.umkc.edu.77.2.0.192.sender.wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		{"bob.umkc.edu.77.2.0.192.sender.wl.example.org.", dns.TypeTXT, 0, []string{listedTXT("bob.umkc.edu.77.2.0.192.sender.wl.example.org.",
			"wlns: bob@umkc.edu verified via relay 192.0.2.77"+since)}, nil},
		{"dave.umkc.edu.1.1.1.10.sender.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"4.2.0.192.sender.wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		{"1.1.1.10.sender.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"0.192.sender.wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		{"dave.umkc.edu.x.2.0.192.sender.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"anyone.test.2.0.0.127.sender.wl.example.org.", dns.TypeA, 0, []string{listedA("anyone.test.2.0.0.127.sender.wl.example.org.", "3")}, nil},
		{"anyone.invalid.2.0.0.127.sender.wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		{"anyone.test.1.0.0.127.sender.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
	})
}

func TestRespond_VerpZone(t *testing.T) {
	const z = ".4.2.0.192.verp.wl.example.org."
	runCases(t, []respondCase{
		{"lists.example.net" + z, dns.TypeA, 0, []string{listedA("lists.example.net"+z, "4")}, nil},
		{"lists.example.net" + z, dns.TypeTXT, 0, []string{listedTXT("lists.example.net"+z,
			"wlns: VERP list server for lists.example.net via relay group umkc-mx"+since)}, nil},
		{"other.example.net" + z, dns.TypeA, 0, nil, []string{soaNeg}},
		{"test.2.0.0.127.verp.wl.example.org.", dns.TypeA, 0, []string{listedA("test.2.0.0.127.verp.wl.example.org.", "4")}, nil},
		{"invalid.2.0.0.127.verp.wl.example.org.", dns.TypeA, 0, nil, []string{soaNeg}},
		{"test.1.0.0.127.verp.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
		{"lists.example.net.1.1.1.10.verp.wl.example.org.", dns.TypeA, dns.RcodeNameError, nil, []string{soaNeg}},
	})
}
