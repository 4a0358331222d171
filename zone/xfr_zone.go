package zone

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// A transferable zone is the whitelist written out as a finite set of
// records that a standard secondary (BIND, NSD, Knot) serves with wlns's
// answers: exact names for single addresses, wildcards for CIDR members,
// and wildcards added at every empty non-terminal below a wildcard so that
// the closest encloser never blocks what longest-prefix match would answer
// (see docs/operations.md, "Secondaries", for where this cannot hold).

// xfrRec is one owner name of a transferable zone with its two records:
// A 127.0.2.<code> and the TXT text.
type xfrRec struct {
	name string // fully qualified, lower-case presentation format
	code byte
	txt  string
}

// xfrZone is one generated version of a transferable zone.
type xfrZone struct {
	origin string // the zone's name, fully qualified
	serial uint32
	recs   []xfrRec // sorted by name, names unique
	// own are the apex part's other records (the NS set, glue and the zone
	// records), sorted by their presentation form.
	own []dns.RR
	// gaps counts the owner names where a standard server's answer differs
	// from wlns's (see relayGap).
	gaps int
}

// xfrParts are the parts the zones are written out in: the apex's own
// records ("") and the three trees (record.Trees), each a transferable
// zone below the apex by its first label; the apex zone is all four.
func xfrParts() []string {
	t := record.Trees()
	return append([]string{""}, t[:]...)
}

// errZoneTooLarge says that a zone cannot be written out within the limit.
var errZoneTooLarge = errors.New("zone too large to transfer")

// xfrLimits bounds what a zone may expand to.
type xfrLimits struct {
	// maxRecords is the most owner names one zone may have.
	maxRecords int
	// maxMember is the most addresses one CIDR member may expand to in the
	// sender and VERP zones, whose names carry a full address.
	maxMember int
}

// buildXFRZone writes out one part of the zones from the view: the tree
// below the label sub, or for "" the apex's own records.
func (r *Responder) buildXFRZone(v *index.View, sub string, lim xfrLimits) (*xfrZone, error) {
	apex := strings.ToLower(dns.Fqdn(dnsName(r.apexWire)))
	z := &xfrZone{origin: apex, serial: v.ZoneSerial()}
	if sub == "" {
		z.own = r.ownRRs(v)
		return z, nil
	}
	z.origin = sub + "." + apex
	b := &xfrBuilder{r: r, v: v, apex: apex, lim: lim, recs: map[string]xfrPrio{}, txts: map[*record.Entity]string{}}
	for _, s := range record.Trees() {
		if s != sub {
			continue
		}
		var err error
		switch s {
		case qname.RelayZone:
			b.relay()
		case qname.VerpZone:
			err = b.verp()
		case qname.SenderZone:
			err = b.sender()
		}
		if err != nil {
			return nil, fmt.Errorf("writing out %s: %w", z.origin, err)
		}
		if len(b.recs) > lim.maxRecords {
			return nil, fmt.Errorf("writing out %s: more than %d names: %w", z.origin, lim.maxRecords, errZoneTooLarge)
		}
	}
	z.recs = make([]xfrRec, 0, len(b.recs))
	for _, p := range b.recs {
		z.recs = append(z.recs, p.rec)
	}
	slices.SortFunc(z.recs, func(a, b xfrRec) int { return strings.Compare(a.name, b.name) })
	z.recs, z.own = r.xfrCuts(v, sub, z.origin, z.recs)
	z.gaps = b.gaps
	return z, nil
}

// sortRRs sorts records by their presentation form and drops duplicates.
func sortRRs(rrs []dns.RR) []dns.RR {
	slices.SortFunc(rrs, func(a, b dns.RR) int { return strings.Compare(a.String(), b.String()) })
	return slices.CompactFunc(rrs, func(a, b dns.RR) bool { return a.String() == b.String() })
}

// dnsName turns a wire-format name into presentation format.
func dnsName(wire []byte) string {
	name, _, err := dns.UnpackDomainName(wire, 0)
	if err != nil {
		return "."
	}
	return name
}

// xfrPrio is a record with the precedence of its match: where two matches
// want one owner name, the one wlns tries first (lower prio) wins.
type xfrPrio struct {
	rec  xfrRec
	prio int
}

// xfrBuilder collects the records of one zone.
type xfrBuilder struct {
	r    *Responder
	v    *index.View
	apex string
	lim  xfrLimits
	recs map[string]xfrPrio
	txts map[*record.Entity]string // the relay TXT of each entity, shared
	gaps int
}

func (b *xfrBuilder) put(name string, code byte, txt string, prio int) {
	if old, ok := b.recs[name]; ok && old.prio <= prio {
		return
	}
	b.recs[name] = xfrPrio{rec: xfrRec{name: name, code: code, txt: txt}, prio: prio}
}

// relayText is the relay-zone TXT of an entity, made once per entity.
func (b *xfrBuilder) relayText(e *record.Entity) string {
	t, ok := b.txts[e]
	if !ok {
		t = RelayText(e)
		b.txts[e] = t
	}
	return t
}

// addresses lists the addresses of an entity's members that resolve to it
// (longest-prefix match), for the sender and VERP zones; a member larger
// than the limit makes the zone impossible to write out.
func (b *xfrBuilder) addresses(e *record.Entity) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, p := range e.Prefixes {
		if underCut(b.v, p) {
			continue // the zone holds a referral there (xfrCuts)
		}
		host := p.Addr().BitLen() - p.Bits()
		if host > 30 || 1<<host > b.lim.maxMember {
			return nil, fmt.Errorf("member %s of %s has %s addresses, more than %d: %w", p, e.Label(), hostCount(host), b.lim.maxMember, errZoneTooLarge)
		}
		for a := p.Addr(); a.IsValid() && p.Contains(a); a = a.Next() {
			if o := b.v.EntityRefOf(a); o.Found() && o.ID() == e.ID {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

func hostCount(bits int) string {
	if bits > 62 {
		return fmt.Sprintf("2^%d", bits)
	}
	return fmt.Sprint(uint64(1) << bits)
}

// revName is the reversed address with a trailing dot, as in query names.
func revName(a netip.Addr) string {
	if a.Is4() {
		return revLabels4(a.As4(), 4) + "."
	}
	return revLabels6(a.As16(), 32) + "."
}

// ownRRs are the apex part of the apex zone: the NS set and the glue of
// in-zone name servers, and the zone records operators published, as the
// responder answers them, sorted and without duplicates. (Delegations'
// glue lies below their cuts, in the trees: xfrCuts.)
func (r *Responder) ownRRs(v *index.View) []dns.RR {
	rrs, _, _ := r.ownSource(v.ZoneRecords())
	return sortRRs(rrs)
}
