package zone

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// The sender and VERP zones as records. Their names carry a full address,
// so each CIDR member is written out address by address (up to
// xfrLimits.maxMember addresses a member): pairs × addresses × forms names.
// A pair gets its hashed, hashed-plus-domain, escaped and plain names; a
// domain-wide pair a wildcard below its domain, plus a wildcard at every
// node its other names create below that domain (the closest encloser must
// not block it, as in the relay zone).

// Precedence of names that two matches want (lower wins), in wlns's order:
// the hashed label first, then the address splits with the shortest local
// part, then domain-wide entries.
const (
	prioHashed = 0
	prioDomain = 1000
)

// entityAddrs caches each entity's addresses for one build.
type entityAddrs map[uint64][]netip.Addr

func (b *xfrBuilder) addrsOf(c entityAddrs, e *record.Entity) ([]netip.Addr, error) {
	if a, ok := c[e.ID]; ok {
		return a, nil
	}
	a, err := b.addresses(e)
	if err != nil {
		return nil, err
	}
	c[e.ID] = a
	return a, nil
}

// verp writes the VERP zone.
func (b *xfrBuilder) verp() error {
	c := entityAddrs{}
	var err error
	b.v.Verps(func(vp *record.Verp) bool {
		e := b.v.Entity(vp.Entity)
		if e == nil {
			return true
		}
		var addrs []netip.Addr
		if addrs, err = b.addrsOf(c, e); err != nil {
			return false
		}
		t := text(&listing{kind: matchVerp, entity: e, what: vp.Domain, created: vp.Created})
		for _, a := range addrs {
			if name, nerr := qname.Verp(vp.Domain, a, b.apex); nerr == nil {
				b.put(name, 4, t, 0)
			}
		}
		return len(b.recs) <= b.lim.maxRecords
	})
	tv := b.r.testVerp
	if name, nerr := qname.Verp(tv.Domain, loopback2, b.apex); nerr == nil {
		b.put(name, 4, text(&listing{kind: matchVerp, entity: b.r.testEntity, what: tv.Domain}), 0)
	}
	return err
}

// sender writes the sender zone.
func (b *xfrBuilder) sender() error {
	c := entityAddrs{}
	var err error
	var owners []senderOwner
	domains := map[string]xfrRec{} // domain-wide wildcard owner → its record
	b.v.Pairs(func(p *record.Pair) bool {
		e := b.v.Entity(p.Entity)
		if e == nil {
			return true
		}
		var addrs []netip.Addr
		if addrs, err = b.addrsOf(c, e); err != nil {
			return false
		}
		for _, a := range addrs {
			owners = b.pairNames(owners, domains, p, e, a)
		}
		return len(b.recs) <= b.lim.maxRecords
	})
	if err != nil {
		return err
	}
	owners = b.pairNames(owners, domains, b.r.testPair, b.r.testEntity, loopback2)
	b.fillDomains(owners, domains)
	return nil
}

// senderOwner is a sender-zone owner name and the reversed address (with
// the zone and apex) it sits under.
type senderOwner struct{ name, base string }

// pairNames puts the names of one pair under one address.
func (b *xfrBuilder) pairNames(owners []senderOwner, domains map[string]xfrRec, p *record.Pair, e *record.Entity, a netip.Addr) []senderOwner {
	base := revName(a) + qname.SenderZone + "." + b.apex
	if p.DomainWide() {
		name := "*." + p.Sender + "." + base
		rec := xfrRec{name: name, code: 3, txt: text(&listing{kind: matchDomain, entity: e, what: p.Sender, created: p.Created})}
		domains[name] = rec
		b.put(name, rec.code, rec.txt, prioDomain)
		return append(owners, senderOwner{name, base})
	}
	hashed := text(&listing{kind: matchHashed, entity: e, created: p.Created})
	readable := text(&listing{kind: matchAddress, entity: e, what: p.Sender, created: p.Created})
	local := p.Sender[:strings.LastIndexByte(p.Sender, '@')]
	for _, f := range []qname.Form{qname.Hashed, qname.HashedDomain, qname.Escaped, qname.Plain} {
		name, err := qname.Sender(p.Sender, a, b.apex, f)
		if err != nil {
			continue
		}
		name = strings.ToLower(name)
		switch f {
		case qname.Hashed, qname.HashedDomain:
			b.put(name, 2, hashed, prioHashed)
		case qname.Escaped:
			b.put(name, 2, readable, 1)
		default:
			b.put(name, 2, readable, 1+strings.Count(local, "."))
		}
		owners = append(owners, senderOwner{name, base})
	}
	return owners
}

// fillDomains puts a wildcard at every node between an owner and its
// address that lies below a domain-wide entry, carrying the longest such
// domain, so that a standard server's closest encloser finds it.
func (b *xfrBuilder) fillDomains(owners []senderOwner, domains map[string]xfrRec) {
	if len(domains) == 0 {
		return
	}
	for _, o := range owners {
		for n := parentName(o.name); len(n) > len(o.base); n = parentName(n) {
			w := "*." + n
			if _, ok := b.recs[w]; ok {
				continue
			}
			for d := n; len(d) > len(o.base); d = parentName(d) {
				if rec, ok := domains["*."+d]; ok {
					b.put(w, rec.code, rec.txt, prioDomain)
					break
				}
			}
		}
	}
}

// parentName drops the first label of a presentation-format name.
func parentName(n string) string {
	if i, end := dns.NextLabel(n, 0); !end {
		return n[i:]
	}
	return "."
}
