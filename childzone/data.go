package childzone

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// data is one cut zone as transferred, read-only once built.
type data struct {
	origin string
	soa    *dns.SOA
	// owners holds each owner name's records (lower-case names).
	owners map[string][]dns.RR
	// nodes holds every owner and every name between it and the origin
	// (empty non-terminals answer NODATA).
	nodes map[string]bool
}

// newData checks a transfer (SOA first, every record inside origin) and
// indexes it; the closing SOA of a transfer may be left in or out.
func newData(origin string, rrs []dns.RR) (*data, error) {
	if len(rrs) == 0 {
		return nil, fmt.Errorf("zone %s: empty transfer", origin)
	}
	soa, ok := rrs[0].(*dns.SOA)
	if !ok || !strings.EqualFold(soa.Hdr.Name, origin) {
		return nil, fmt.Errorf("zone %s: transfer does not start with its SOA", origin)
	}
	d := &data{origin: origin, soa: soa, owners: map[string][]dns.RR{}, nodes: map[string]bool{origin: true}}
	for i, rr := range rrs {
		name := strings.ToLower(rr.Header().Name)
		if !dns.IsSubDomain(origin, name) {
			return nil, fmt.Errorf("zone %s: record outside the zone: %s", origin, rr)
		}
		if _, isSOA := rr.(*dns.SOA); isSOA && i > 0 {
			continue // the transfer's closing SOA
		}
		rr.Header().Name = name
		d.owners[name] = append(d.owners[name], rr)
		for n := name; n != origin && !d.nodes[n]; n = parent(n) {
			d.nodes[n] = true
		}
	}
	return d, nil
}

// parent is name without its first label.
func parent(name string) string {
	if i, end := dns.NextLabel(name, 0); !end {
		return name[i:]
	}
	return "."
}

// records returns all records of the zone, SOA first, for the disk copy.
func (d *data) records() []dns.RR {
	out := []dns.RR{d.soa}
	for _, rrs := range d.owners {
		for _, rr := range rrs {
			if rr != dns.RR(d.soa) {
				out = append(out, rr)
			}
		}
	}
	return out
}
