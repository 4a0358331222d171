package zone

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/qname"
)

// TestRespond_ListsEveryNameQnameBuilds ties the builders to the server: every
// form the CLI prints, for IPv4 and IPv6 relays, is answered as listed.
func TestRespond_ListsEveryNameQnameBuilds(t *testing.T) {
	r, v := newTestResponder(t), fixture(t).Load()
	for _, ip := range []string{"192.0.2.4", "2001:db8:1::25", "::ffff:192.0.2.9"} {
		addr := netip.MustParseAddr(ip)
		for _, form := range []qname.Form{qname.Escaped, qname.Plain, qname.Hashed, qname.HashedDomain} {
			for _, sender := range []string{"first.last@umkc.edu", "Dave@UMKC.edu"} {
				name, err := qname.Sender(sender, addr, testApex, form)
				if err != nil {
					t.Fatal(err)
				}
				m := ask(t, r, v, name, dns.TypeA)
				if len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "127.0.2.2" {
					t.Errorf("%s %s via %s: %v", form, sender, ip, m)
				}
			}
		}
		name, err := qname.Verp("lists.example.net", addr, testApex)
		if err != nil {
			t.Fatal(err)
		}
		if m := ask(t, r, v, name, dns.TypeA); len(m.Answer) != 1 {
			t.Errorf("verp via %s: %v", ip, m)
		}
		if m := ask(t, r, v, qname.Relay(addr, testApex), dns.TypeA); len(m.Answer) != 1 {
			t.Errorf("relay %s: %v", ip, m)
		}
	}
}
