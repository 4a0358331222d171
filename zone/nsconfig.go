package zone

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/record"
)

// nameServer is one NS name of the zone with the addresses its glue
// carries (only for a name inside the zone).
type nameServer struct {
	name  string // fully qualified, lower case
	addrs []netip.Addr
}

// parseNS reads the NS configuration: each entry is a name, or
// "name=address" for a name inside the zone (repeat the entry for more
// addresses). A name inside the zone must have an address: a resolver
// that only learns the name cannot look it up without asking the very
// servers it names. A name outside the zone must not have one: its address
// belongs to its own zone.
func parseNS(entries []string, apex string) ([]nameServer, error) {
	apex = strings.ToLower(dns.Fqdn(apex))
	var out []nameServer
	for _, e := range entries {
		name, addr, hasAddr := strings.Cut(strings.TrimSpace(e), "=")
		if _, ok := dns.IsDomainName(name); !ok || name == "" {
			return nil, fmt.Errorf("NS %q: not a domain name", e)
		}
		name = strings.ToLower(dns.Fqdn(name))
		i := slices.IndexFunc(out, func(ns nameServer) bool { return ns.name == name })
		if i < 0 {
			out = append(out, nameServer{name: name})
			i = len(out) - 1
		}
		inZone := dns.IsSubDomain(apex, name)
		switch {
		case hasAddr && !inZone:
			return nil, fmt.Errorf("NS %q: %s is outside the zone %s, so its address is not glue: "+
				"publish it in its own zone and give the name alone", e, name, apex)
		case inZone && inDataZone(name, apex):
			return nil, fmt.Errorf("NS %q: %s is inside the relay, sender or VERP zone, whose names answer from the whitelist", e, name)
		case hasAddr:
			a, err := netip.ParseAddr(strings.TrimSpace(addr))
			if err != nil || a.Zone() != "" {
				return nil, fmt.Errorf("NS %q: address %q: want an IPv4 or IPv6 address", e, addr)
			}
			if !slices.Contains(out[i].addrs, a.Unmap()) {
				out[i].addrs = append(out[i].addrs, a.Unmap())
			}
		}
	}
	var errs []error
	for _, ns := range out {
		if dns.IsSubDomain(apex, ns.name) && len(ns.addrs) == 0 {
			errs = append(errs, fmt.Errorf("NS %s is inside the zone %s but has no address: resolvers cannot reach it without glue; "+
				"give it as %s=<address> (repeat for an IPv6 one), or name a server outside the zone",
				ns.name, apex, strings.TrimSuffix(ns.name, ".")))
		}
	}
	return out, errors.Join(errs...)
}

// inDataZone reports whether name (under apex) is at or under the relay,
// sender or VERP zone.
func inDataZone(name, apex string) bool {
	rel := strings.TrimSuffix(strings.TrimSuffix(name, apex), ".")
	top := rel[strings.LastIndexByte(rel, '.')+1:]
	return record.IsTree(top)
}

// CheckNS checks the NS configuration as NewResponder will read it (see
// Config.NS), so that a server refuses to start on it before anything
// else: a name inside the zone without an address, an address for a name
// outside it.
func CheckNS(ns []string, apex string) error {
	if len(ns) == 0 {
		return nil // DefaultNS
	}
	_, err := parseNS(ns, apex)
	return err
}
