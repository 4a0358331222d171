package fsm

import (
	"fmt"
	"net/netip"

	"github.com/wlns/wlns/record"
)

// tagDelegation is a delegation record (since format 4): prefix, by, created,
// updated, then each name server's name and glue addresses (as full-length
// prefixes).
const tagDelegation = tagZoneRecord + 1

// delegations writes ds, which View.Delegations returns in prefix order.
func (sw *snapWriter) delegations(ds []*record.Delegation) {
	e := &sw.e
	for _, d := range ds {
		e.prefix(d.Prefix)
		e.str(d.By)
		e.varint(d.Created)
		e.varint(d.Updated)
		e.uvarint(uint64(len(d.NS)))
		for _, ns := range d.NS {
			e.str(ns.Name)
			e.uvarint(uint64(len(ns.Addrs)))
			for _, a := range ns.Addrs {
				e.prefix(netip.PrefixFrom(a, a.BitLen()))
			}
		}
		sw.record(tagDelegation)
	}
}

// restoreDelegation decodes one delegation into the index being built.
// What apply would refuse is refused here too, with what is wrong: more
// name servers or addresses than a delegation may have, names that do not
// normalize, a cut inside or around another delegation's (a damaged or
// forged snapshot; a node must not serve referrals no command could make).
func (rs *restored) restoreDelegation(d *dec) error {
	if rs.version < 4 {
		return fmt.Errorf("record tag %d in a format %d snapshot", tagDelegation, rs.version)
	}
	dl := &record.Delegation{Prefix: d.prefix(), By: d.str(), Created: d.varint(), Updated: d.varint()}
	n := d.uvarint()
	if n > record.MaxNameServers {
		return fmt.Errorf("the delegation of %s has %d name servers, at most %d", dl.Prefix, n, record.MaxNameServers)
	}
	for range n {
		ns := record.NameServer{Name: d.str()}
		m := d.uvarint()
		if m > record.MaxGlue {
			return fmt.Errorf("the delegation of %s: name server %q has %d addresses, at most %d", dl.Prefix, ns.Name, m, record.MaxGlue)
		}
		for range m {
			ns.Addrs = append(ns.Addrs, d.prefix().Addr())
		}
		dl.NS = append(dl.NS, ns)
	}
	if err := d.end(); err != nil {
		return err
	}
	if _, err := record.NormalizeNameServers(dl.NS); err != nil {
		return fmt.Errorf("the delegation of %s: %w", dl.Prefix, err)
	}
	key, err := record.CutKey(dl.Prefix)
	if err != nil {
		return fmt.Errorf("the delegation of %s: %w", dl.Prefix, err)
	}
	if o := overlapping(rs.txn.View(), key); o != nil {
		return fmt.Errorf("the delegation of %s overlaps the delegation of %s", dl.Prefix, o.Prefix)
	}
	return rs.txn.PutDelegation(dl)
}
