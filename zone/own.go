package zone

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/zonerec"
)

// ownTable is the zone's own names compiled for answering: the apex NS set
// and the name servers' glue from the configuration, and the replicated
// zone records of one View (src). It never changes once built; the
// responder builds a new one when a View holds other zone records.
type ownTable struct {
	src *record.ZoneRecords
	// names maps the wire form of a name's labels before the apex (lower
	// case, no root; "" is the apex) to its records. Every name between a
	// record's owner and the apex is present, empty if it owns nothing
	// (an empty non-terminal: NODATA, never NXDOMAIN).
	names map[string]*ownName
	// skipped counts zone records that could not be built under this apex
	// (a name too long for it).
	skipped int
}

// ownName is the records of one name, by type.
type ownName struct {
	sets []ownSet
}

// ownSet is one RRset.
type ownSet struct {
	rtype int
	ttl   uint32
	rrs   []ownRR
}

// ownRR is one record's RDATA in wire form (names uncompressed).
type ownRR struct {
	rdata []byte
	// target is the name inside the zone an NS, MX or SRV record points at,
	// whose addresses go in the additional section; nil for none. tOff is
	// where that name starts in rdata.
	target *ownName
	tOff   int
}

func (n *ownName) set(rtype int) *ownSet {
	for i := range n.sets {
		if n.sets[i].rtype == rtype {
			return &n.sets[i]
		}
	}
	return nil
}

// ownTableFor returns the table for v's zone records, building it when they
// changed since the last one (an allocation once per change, none per
// query).
func (r *Responder) ownTableFor(v *index.View) *ownTable {
	z := v.ZoneRecords()
	if t := r.own.Load(); t.src == z {
		return t
	}
	t := r.compileOwn(z)
	r.own.Store(t)
	return t
}

// compileOwn builds the table for the configured name servers and z.
func (r *Responder) compileOwn(z *record.ZoneRecords) *ownTable {
	t := &ownTable{src: z, names: map[string]*ownName{"": {}}}
	var rrs []dns.RR
	rrs, t.skipped = r.ownSource(z)
	buf := make([]byte, dns.MaxMsgSize)
	for _, rr := range rrs {
		t.add(r.apexName, rr, buf)
	}
	for _, n := range t.names {
		for i := range n.sets {
			for j := range n.sets[i].rrs {
				o := &n.sets[i].rrs[j]
				if o.tOff >= 0 {
					o.target = t.names[ownKey(targetOf(o), r.apexName)]
				}
			}
		}
	}
	return t
}

// ownSource is every record of the zone's own names: the configured NS set
// and glue, then the zone records of z (skipped counts those that cannot
// be built under this apex). Every record of an RRset gets the TTL of its
// first (configured glue before a replicated record at the same name), so
// answers and zone transfers agree.
func (r *Responder) ownSource(z *record.ZoneRecords) (rrs []dns.RR, skipped int) {
	rrs = r.configRRs()
	z.Each(func(zr *record.ZoneRecord) bool {
		rr, err := zonerec.RR(zr, r.apexName, r.ttl)
		if err != nil {
			skipped++
			return true
		}
		rrs = append(rrs, rr)
		return true
	})
	type setKey struct {
		name  string
		rtype uint16
	}
	ttls := map[setKey]uint32{}
	for _, rr := range rrs {
		h := rr.Header()
		k := setKey{strings.ToLower(h.Name), h.Rrtype}
		if ttl, ok := ttls[k]; ok {
			h.Ttl = ttl
		} else {
			ttls[k] = h.Ttl
		}
	}
	return rrs, skipped
}

// targetOf reads back the target name of an NS, MX or SRV record.
func targetOf(o *ownRR) string {
	name, _, err := dns.UnpackDomainName(o.rdata, o.tOff)
	if err != nil {
		return ""
	}
	return strings.ToLower(name)
}

// add puts rr into the table (the owner is under apex), with the empty
// non-terminals above it. Duplicates collapse; the first TTL of an RRset
// stands.
func (t *ownTable) add(apex string, rr dns.RR, buf []byte) {
	h := rr.Header()
	key := ownKey(strings.ToLower(h.Name), apex)
	if key == "\x00" {
		t.skipped++
		return
	}
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		t.skipped++
		return
	}
	_, owner, err := dns.UnpackDomainName(buf[:end], 0)
	if err != nil {
		t.skipped++
		return
	}
	rdata := append([]byte(nil), buf[owner+10:end]...) // type, class, TTL, RDLENGTH
	for k := key; ; {
		if t.names[k] == nil {
			t.names[k] = &ownName{}
		}
		if k == "" {
			break
		}
		k = k[1+int(k[0]):]
	}
	n := t.names[key]
	s := n.set(int(h.Rrtype))
	if s == nil {
		n.sets = append(n.sets, ownSet{rtype: int(h.Rrtype), ttl: h.Ttl})
		s = &n.sets[len(n.sets)-1]
	}
	for _, o := range s.rrs {
		if string(o.rdata) == string(rdata) {
			return
		}
	}
	s.rrs = append(s.rrs, ownRR{rdata: rdata, tOff: targetOffset(rr)})
}

// targetOffset is where the name an NS, MX or SRV record points at starts
// in its RDATA, -1 for other types.
func targetOffset(rr dns.RR) int {
	switch rr.(type) {
	case *dns.NS:
		return 0
	case *dns.MX:
		return 2
	case *dns.SRV:
		return 6
	}
	return -1
}

// ownKey is the table key of a fully qualified, lower-case name: the wire
// form of its labels before apex; "\x00" when it is not under apex.
func ownKey(name, apex string) string {
	if !dns.IsSubDomain(apex, name) {
		return "\x00"
	}
	rel := strings.TrimSuffix(strings.TrimSuffix(name, apex), ".")
	if rel == "" {
		return ""
	}
	var b []byte
	for _, l := range dns.SplitDomainName(rel) {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return string(b)
}

// queryKey appends the table key of the question's labels [0, idx) to dst.
func queryKey(dst []byte, n *qname.Name, idx int) []byte {
	for i := 0; i < idx; i++ {
		l := n.Label(i)
		dst = append(dst, byte(len(l)))
		dst = append(dst, l...)
	}
	return dst
}

// configRRs are the records the configuration gives: the apex NS set and
// the addresses of the name servers inside the zone.
func (r *Responder) configRRs() []dns.RR {
	var out []dns.RR
	apex := r.apexName
	for _, ns := range r.nameServers {
		out = append(out, &dns.NS{Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: r.ttl}, Ns: ns.name})
	}
	for _, ns := range r.nameServers {
		for _, a := range ns.addrs {
			if a.Is4() {
				out = append(out, &dns.A{Hdr: dns.RR_Header{Name: ns.name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: r.ttl}, A: a.AsSlice()})
			} else {
				out = append(out, &dns.AAAA{Hdr: dns.RR_Header{Name: ns.name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: r.ttl}, AAAA: a.AsSlice()})
			}
		}
	}
	return out
}
