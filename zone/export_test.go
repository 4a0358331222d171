package zone

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// TestExport_AnswersAsWlnsDoes exports each tree of 192.0.2.0/24 from the
// fixture and asks wlns every name of the file: each gets from wlns the A
// and TXT records the file holds for it. Wildcards are asked through a
// name they cover.
func TestExport_AnswersAsWlnsDoes(t *testing.T) {
	r := newTestResponder(t)
	v := fixture(t).Load()
	d := &record.Delegation{Prefix: netip.MustParsePrefix("192.0.2.0/24"), NS: []record.NameServer{
		{Name: "ns1.2.0.192.relay.wl.example.org", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.53")}}, {Name: "ns.pm.example"}}}
	for _, tree := range []string{qname.RelayZone, qname.SenderZone, qname.VerpZone} {
		t.Run(tree, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Export(&buf, v, d, ExportConfig{Apex: testApex, Tree: tree}); err != nil {
				t.Fatal(err)
			}
			byName := map[string][]string{}
			zp := dns.NewZoneParser(strings.NewReader(buf.String()), "", "")
			var soa, ns int
			for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
				switch rr.Header().Rrtype {
				case dns.TypeSOA:
					soa++
				case dns.TypeNS:
					ns++
				case dns.TypeA, dns.TypeTXT:
					if strings.HasPrefix(rr.Header().Name, "ns1.") {
						continue
					}
					byName[rr.Header().Name] = append(byName[rr.Header().Name], rr.String())
				}
			}
			if err := zp.Err(); err != nil {
				t.Fatalf("zone does not parse: %v\n%s", err, buf.String())
			}
			if soa != 1 || ns != 2 || len(byName) == 0 {
				t.Fatalf("%d SOA, %d NS, %d names:\n%s", soa, ns, len(byName), buf.String())
			}
			for name, want := range byName {
				q := strings.Replace(name, "*.", "someone.", 1)
				m := ask(t, r, v, q, dns.TypeANY)
				var got []string
				for _, rr := range m.Answer {
					rr.Header().Name = name
					got = append(got, rr.String())
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: wlns answers\n%q\nthe zone file holds\n%q", q, got, want)
				}
			}
		})
	}
}

func TestExport_RefusesWhatAZoneFileCannotSay(t *testing.T) {
	v := fixture(t).Load()
	d := &record.Delegation{Prefix: netip.MustParsePrefix("2001:db8:1::/48"), NS: []record.NameServer{{Name: "ns.pm.example"}}}
	err := Export(&bytes.Buffer{}, v, d, ExportConfig{Apex: testApex, Tree: qname.SenderZone})
	if err == nil || !strings.Contains(err.Error(), "2001:db8:1::/48 of umkc-mx covers more than") {
		t.Fatalf("err = %v", err)
	}
}
