package childzone

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/qname"
)

// answer fills m, a reply to a question of zone z at name (lower-case):
// the exact name's records, else the nearest wildcard above it (the
// cluster matches the longest domain suffix, so an empty non-terminal does
// not hide a wildcard further up), else NODATA or NXDOMAIN by the
// cluster's rules.
func (n *Node) answer(m *dns.Msg, s *slot, d *data, name string, qtype uint16) {
	m.Authoritative = true
	if name == d.origin && qtype == dns.TypeANY {
		qtype = dns.TypeSOA // RFC 8482, as the cluster answers at its apex
	}
	if rrs, ok := d.owners[name]; ok {
		n.fill(m, d, rrs, name, qtype)
		return
	}
	if d.nodes[name] {
		n.negative(m, d, dns.RcodeSuccess)
		return
	}
	for w := parent(name); dns.IsSubDomain(d.origin, w); w = parent(w) {
		if rrs, ok := d.owners["*."+w]; ok {
			n.fill(m, d, rrs, name, qtype)
			return
		}
		if w == d.origin {
			break
		}
	}
	n.negative(m, d, n.missRcode(s, name))
}

// fill answers from an owner's records (synthesised at name for a
// wildcard): those of qtype, or A and TXT (all) for ANY; NODATA when none;
// NS answers carry the addresses of in-zone servers.
func (n *Node) fill(m *dns.Msg, d *data, rrs []dns.RR, name string, qtype uint16) {
	for _, rr := range rrs {
		if qtype != dns.TypeANY && rr.Header().Rrtype != qtype {
			continue
		}
		c := dns.Copy(rr)
		c.Header().Name = name
		m.Answer = append(m.Answer, c)
		if ns, ok := rr.(*dns.NS); ok {
			for _, g := range d.owners[strings.ToLower(ns.Ns)] {
				if t := g.Header().Rrtype; t == dns.TypeA || t == dns.TypeAAAA {
					m.Extra = append(m.Extra, g)
				}
			}
		}
	}
	if len(m.Answer) == 0 {
		n.negative(m, d, dns.RcodeSuccess)
	}
}

// negative is NODATA or NXDOMAIN with the zone's SOA, its TTL the SOA
// minimum (RFC 2308).
func (n *Node) negative(m *dns.Msg, d *data, rcode int) {
	m.Rcode = rcode
	soa := dns.Copy(d.soa).(*dns.SOA)
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	m.Ns = []dns.RR{soa}
}

// missRcode is the cluster's answer for a name the zone does not hold
// (zone/resolve.go): in the sender and VERP trees a name under an address
// that has an entity is NODATA; else a well-formed but incomplete reversed
// address may still lead to listed names (NODATA, RFC 8020) and anything
// other is NXDOMAIN.
func (n *Node) missRcode(s *slot, name string) int {
	var q qname.Name
	var buf [256]byte
	off, err := dns.PackDomainName(name, buf[:], 0, nil, false)
	if err != nil {
		return dns.RcodeNameError
	}
	if _, err := q.ReadWire(buf[:off], 0); err != nil {
		return dns.RcodeNameError
	}
	idx, ok := q.HasSuffix(n.apexWire)
	if !ok || idx < 1 {
		return dns.RcodeNameError
	}
	rev := qname.ParseRevIP(&q, idx-1)
	switch {
	case s.tree != qname.RelayZone && rev.Full && n.hasEntity(s.prefix, rev):
		return dns.RcodeSuccess
	case rev.Partial:
		return dns.RcodeSuccess
	}
	return dns.RcodeNameError
}

// hasEntity reports whether the transferred zones show an entity at the
// address: a relay listed, or any sender or VERP name under it.
func (n *Node) hasEntity(prefix string, rev qname.RevIP) bool {
	for _, s := range n.slots {
		if s.prefix != prefix {
			continue
		}
		d := s.cur.Load()
		if d == nil {
			continue
		}
		if d.nodes[revName(rev, s.tree, n.cfg.Apex)] {
			return true
		}
	}
	return false
}

// revName is the name of an address in a tree.
func revName(rev qname.RevIP, tree, apex string) string {
	return strings.TrimSuffix(qname.Relay(rev.Addr, apex), qname.RelayZone+"."+apex) + tree + "." + apex
}
