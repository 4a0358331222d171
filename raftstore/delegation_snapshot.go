package raftstore

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
func (rs *restored) restoreDelegation(d *dec) error {
	if rs.version < 4 {
		return fmt.Errorf("record tag %d in a format %d snapshot", tagDelegation, rs.version)
	}
	dl := &record.Delegation{Prefix: d.prefix(), By: d.str(), Created: d.varint(), Updated: d.varint()}
	n := d.uvarint()
	for i := uint64(0); i < n && i <= record.MaxNameServers; i++ {
		ns := record.NameServer{Name: d.str()}
		for m, j := d.uvarint(), uint64(0); j < m && j <= 16; j++ {
			ns.Addrs = append(ns.Addrs, d.prefix().Addr())
		}
		dl.NS = append(dl.NS, ns)
	}
	if err := d.end(); err != nil {
		return err
	}
	return rs.txn.PutDelegation(dl)
}
