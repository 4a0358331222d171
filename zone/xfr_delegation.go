package zone

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
)

// xfrCuts makes a transferable zone of tree sub say what the server says
// at delegated prefixes: the names at and below each cut are dropped from
// recs (wlns refers them, never answers them), and the cut's NS records,
// with glue for name servers inside the zone, become the zone's own
// records, so a secondary refers as wlns does.
func (r *Responder) xfrCuts(v *index.View, sub, origin string, recs []xfrRec) ([]xfrRec, []dns.RR) {
	ds := v.Delegations()
	if len(ds) == 0 {
		return recs, nil
	}
	var cuts []string
	var own []dns.RR
	for _, d := range ds {
		cut, err := qname.Cut(d.Prefix, sub, dnsName(r.apexWire))
		if err != nil {
			continue
		}
		cuts = append(cuts, cut)
		for _, ns := range d.NS {
			target := dns.Fqdn(ns.Name)
			own = append(own, &dns.NS{Hdr: dns.RR_Header{Name: cut, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: r.ttl}, Ns: target})
		}
		// origin lies inside the apex, so this is the referral's own glue.
		own = r.appendGlue(own, d, origin)
	}
	recs = slices.DeleteFunc(recs, func(rec xfrRec) bool {
		return slices.ContainsFunc(cuts, func(cut string) bool { return rec.name == cut || strings.HasSuffix(rec.name, "."+cut) })
	})
	slices.SortFunc(own, func(a, b dns.RR) int { return strings.Compare(a.String(), b.String()) })
	return recs, own
}

// underCut reports whether all of p lies inside a delegated prefix.
func underCut(v *index.View, p netip.Prefix) bool { return v.DelegationCovering(p) != nil }
