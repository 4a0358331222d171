package zone

import (
	"net/netip"
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
// responder builds a new one when a View with other zone records is
// published (publishOwn), never on the query path.
type ownTable struct {
	src *record.ZoneRecords
	// serial is the View serial (log index) the table was built for.
	serial uint64
	// names maps the wire form of a name's labels before the apex (lower
	// case, no root; "" is the apex) to its records. Every name between a
	// record's owner and the apex is present, empty if it owns nothing
	// (an empty non-terminal: NODATA, never NXDOMAIN).
	names map[string]*ownName
	// served and unserved count src's records: in the answers, or left
	// out because they cannot be built under this apex (a name too long
	// for it). The configuration's records are not counted.
	served, unserved int
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

// follow makes r keep its own-names table current with ix: the table is
// rebuilt on the index's writer, before a View with other zone records is
// published (index.OnPublish), so a reader always finds the table built
// and never builds one (0 allocations per query, one build per change).
func (r *Responder) follow(ix index.Reader) {
	ix.OnPublish(r.publishOwn)
	r.publishOwn(ix.Load())
}

// publishOwn makes the table for v's zone records current, unless it is
// already, or the current one is from a later View (follow's first call
// can race the writer's hook).
func (r *Responder) publishOwn(v *index.View) {
	r.ownMu.Lock()
	defer r.ownMu.Unlock()
	if t := r.own.Load(); t.src == v.ZoneRecords() || v.Serial() < t.serial {
		return
	}
	t := r.compileOwn(v.ZoneRecords())
	t.serial = v.Serial()
	r.own.Store(t)
}

// compileOwn builds the table for the configured name servers and z.
func (r *Responder) compileOwn(z *record.ZoneRecords) *ownTable {
	t := &ownTable{src: z, names: map[string]*ownName{"": {}}}
	rrs, fromZone, unserved := r.ownSource(z)
	buf := make([]byte, dns.MaxMsgSize)
	for i, rr := range rrs {
		switch added := t.add(r.apexName, rr, buf); {
		case i < len(rrs)-fromZone:
		case added:
			t.served++
		default:
			unserved++
		}
	}
	t.unserved = unserved
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
// and glue, then the fromZone records built from z (unserved counts z's
// records that cannot be built under this apex). Every record of an RRset
// gets the TTL of its first (configured glue before a replicated record at
// the same name), so answers and zone transfers agree.
func (r *Responder) ownSource(z *record.ZoneRecords) (rrs []dns.RR, fromZone, unserved int) {
	rrs = r.configRRs()
	z.Each(func(zr *record.ZoneRecord) bool {
		rr, err := zonerec.RR(zr, r.apexName, r.ttl)
		if err != nil {
			unserved++
			return true
		}
		rrs = append(rrs, rr)
		fromZone++
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
	return rrs, fromZone, unserved
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
// non-terminals above it, and reports whether it is in the table after.
// Duplicates collapse; the first TTL of an RRset stands.
func (t *ownTable) add(apex string, rr dns.RR, buf []byte) bool {
	h := rr.Header()
	key := ownKey(strings.ToLower(h.Name), apex)
	if key == "\x00" {
		return false
	}
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return false
	}
	_, owner, err := dns.UnpackDomainName(buf[:end], 0)
	if err != nil {
		return false
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
			return true
		}
	}
	s.rrs = append(s.rrs, ownRR{rdata: rdata, tOff: targetOffset(rr)})
	return true
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

// ownKey is the table key of a fully qualified name: the wire form of its
// labels before apex, ASCII lower-cased (a query's labels are), escapes
// decoded (`a\.b` is one label, `\077` is "m"); "\x00" when it is not
// under apex.
func ownKey(name, apex string) string {
	if !dns.IsSubDomain(apex, name) {
		return "\x00"
	}
	var buf [256]byte
	if _, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false); err != nil {
		return "\x00"
	}
	off := 0
	for range dns.CountLabel(name) - dns.CountLabel(apex) {
		off += 1 + int(buf[off])
	}
	b := buf[:off]
	for i, c := range b { // length bytes are at most 63, below 'A'
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
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
		out = addrRRs(out, ns.name, ns.addrs, r.ttl)
	}
	return out
}

// addrRRs appends an A or AAAA record at name (fully qualified) for each
// address: the glue of the configured name servers and of delegations.
func addrRRs(out []dns.RR, name string, addrs []netip.Addr, ttl uint32) []dns.RR {
	for _, a := range addrs {
		h := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: ttl}
		if a.Is4() {
			h.Rrtype = dns.TypeA
			out = append(out, &dns.A{Hdr: h, A: a.AsSlice()})
		} else {
			h.Rrtype = dns.TypeAAAA
			out = append(out, &dns.AAAA{Hdr: h, AAAA: a.AsSlice()})
		}
	}
	return out
}
