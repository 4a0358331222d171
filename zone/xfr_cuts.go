package zone

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// Delegated prefixes in the transferable zones (xfrCuts drops what lies at
// or below a cut and adds its NS records): the cut's name exists, so every
// node above it needs the wildcard of the prefix covering it, or a
// standard server's closest encloser would stop there. With 10.0.0.0/8
// listed and 10.200.9.0/24 delegated, 200.10 exists only because of the
// cut, and 10.200.1.1 must still match *.200.10.

// cutKeys are the relay tree keys of the delegations' cuts.
func (b *xfrBuilder) cutKeys() []string {
	var out []string
	suffix := "." + qname.RelayZone + "." + b.apex
	for _, d := range b.v.Delegations() {
		if cut, err := qname.Cut(d.Prefix, qname.RelayZone, b.apex); err == nil {
			out = append(out, strings.TrimSuffix(cut, suffix))
		}
	}
	return out
}

// appendGlue appends the addresses of d's name servers whose names lie
// inside origin and below one of d's cuts in the apex (the referral sends
// glue only then).
func (r *Responder) appendGlue(out []dns.RR, d *record.Delegation, origin string) []dns.RR {
	for _, ns := range d.NS {
		name := dns.Fqdn(ns.Name)
		if !r.belowCuts(d, name) || !dns.IsSubDomain(origin, name) {
			continue
		}
		out = addrRRs(out, name, ns.Addrs, r.ttl)
	}
	return out
}

// belowCuts reports whether a fully qualified host name lies below one of
// d's cuts under this apex: the delegation's own names.
func (r *Responder) belowCuts(d *record.Delegation, name string) bool {
	for _, tree := range record.Trees() {
		cut, err := qname.Cut(d.Prefix, tree, dnsName(r.apexWire))
		if err == nil && name != cut && dns.IsSubDomain(cut, name) {
			return true
		}
	}
	return false
}
