package zone

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/record"
)

// Delegated prefixes in the transferable zones: a delegation cuts all three
// trees at its prefix's reversed labels. The zone carries the cut's NS
// records and, for name servers inside the transferred zone, their
// addresses (glue); nothing wlns would otherwise answer at or below the cut
// (wlns answers referrals there), so a secondary refers too.

// cutOwner is the owner name of a delegation's cut in a tree (origin is
// the tree's name, fully qualified).
func cutOwner(p netip.Prefix, origin string) string {
	if p.Addr().Is4() {
		return revLabels4(p.Addr().As4(), p.Bits()/8) + "." + origin
	}
	return revLabels6(p.Addr().As16(), p.Bits()/4) + "." + origin
}

// setCuts records the cuts in the tree named origin and adds their NS
// records and the glue inside origin to the builder's own records.
func (b *xfrBuilder) setCuts(origin string) {
	b.cuts = map[string]bool{}
	for _, d := range b.v.Delegations() {
		owner := cutOwner(d.Prefix, origin)
		b.cuts[owner] = true
		for _, ns := range d.NS {
			b.own = append(b.own, &dns.NS{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: b.r.ttl}, Ns: dns.Fqdn(ns.Name)})
		}
		b.glue(d, origin)
	}
}

// glue adds the addresses of d's name servers whose names lie inside
// origin (the referral sends glue for names inside the apex).
func (b *xfrBuilder) glue(d *record.Delegation, origin string) {
	for _, ns := range d.NS {
		name := dns.Fqdn(ns.Name)
		if !b.r.inZone(ns.Name) || !dns.IsSubDomain(origin, name) {
			continue
		}
		for _, a := range ns.Addrs {
			h := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: b.r.ttl}
			if a.Is4() {
				h.Rrtype = dns.TypeA
				b.own = append(b.own, &dns.A{Hdr: h, A: a.AsSlice()})
			} else {
				h.Rrtype = dns.TypeAAAA
				b.own = append(b.own, &dns.AAAA{Hdr: h, AAAA: a.AsSlice()})
			}
		}
	}
}

// occluded reports whether a name lies at or below a cut of the current
// tree.
func (b *xfrBuilder) occluded(name string) bool {
	if len(b.cuts) == 0 {
		return false
	}
	name = strings.TrimPrefix(name, "*.")
	for n := name; len(n) > len(b.apex); n = parentName(n) {
		if b.cuts[n] {
			return true
		}
	}
	return false
}

// cutKeys are the relay tree keys of the cuts, so that the nodes above
// them get their wildcards.
func (b *xfrBuilder) cutKeys(origin string) []string {
	var out []string
	for c := range b.cuts {
		out = append(out, strings.TrimSuffix(c, "."+origin))
	}
	return out
}
