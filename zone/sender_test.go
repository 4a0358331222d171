package zone

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// TestRespond_SenderReadingsInOrder checks which pair a sender name
// matches when several of its readings are listed: an address before a
// domain, the shortest local part first, the longest domain first, also
// where the readings are many and looked up in groups (a name of s labels
// has 2(s−1) readings; the first is looked up alone, the rest
// index.MaxLookups at a time).
func TestRespond_SenderReadingsInOrder(t *testing.T) {
	const z = ".9.100.51.198.sender.wl.example.org."
	long := "a.b.c.d.e.f.g.h.i.j" // a local part of ten labels: reading 9, the third group
	ix := index.New()
	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 1, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.9/32")},
		Meta: record.Meta{Created: created}})
	for _, s := range []string{"dave@mail.example.com", "mail.example.com", "a@b.c.example.com", "a.b@c.example.com",
		"c.example.com", "example.com", "deep.example.org", long + "@example.net"} {
		tx.PutPair(&record.Pair{Entity: 1, Sender: s, Meta: record.Meta{Created: created}})
	}
	tx.SetZoneSerial(42)
	tx.Commit()
	txt := func(name, what string) []string {
		return []string{listedTXT(name+z, "wlns: "+what+" verified via relay 198.51.100.9"+since)}
	}
	cases := []struct{ name, what string }{
		{"dave.mail.example.com", "dave@mail.example.com"},             // address, not domain mail.example.com
		{"bob.mail.example.com", "domain mail.example.com"},            // longest domain, not example.com
		{"a.b.c.example.com", "a@b.c.example.com"},                     // first split, not a.b@c.example.com
		{`a\.b.c.example.com`, "a.b@c.example.com"},                    // the escaped form has one split
		{"x.y.c.example.com", "domain c.example.com"},                  // reading 4 of 8, the second group
		{"l1.l2.l3.l4.l5.deep.example.org", "domain deep.example.org"}, // reading 10 of 12, the third group
		{long + ".example.net", long + "@example.net"},
	}
	var rc []respondCase
	for _, c := range cases {
		rc = append(rc, respondCase{c.name + z, dns.TypeTXT, 0, txt(c.name, c.what), nil})
	}
	for _, name := range []string{"nobody.unknown.example", "n1.n2.n3.n4.n5.n6.n7.nowhere.example", strings.Repeat("x.", 60) + "x"} {
		rc = append(rc, respondCase{name + z, dns.TypeA, 0, nil, []string{soaNeg}})
	}
	runCasesOn(t, ix.Load(), rc)
}
