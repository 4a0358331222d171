// Package index is the in-memory whitelist every node answers DNS from: relay
// entities found by longest-prefix match, sender/relay pairs, hashed-address
// pairs and VERP sources.
//
// Readers never wait: Load returns an immutable View, and the single writer
// (the state machine) builds the next version in a Txn and publishes it whole
// with one atomic store. Pairs and VERP sources are 32-byte entries in small
// sorted leaves under a hash directory, keyed by entity and a digest of the
// sender (the same SHA-256 the hashed query label carries), with the fields
// only the API reads in an append-only arena (DESIGN.md). A Txn copies the
// leaves and directory pages it writes, so a write costs the records it
// touches, not the size of the index.
//
// The index owns the data structure only. It decides nothing about what a
// command means (raftstore does) and imports no DNS, HTTP or Raft code.
package index

import (
	"encoding/binary"
	"net/netip"
	"sync/atomic"

	"github.com/wlns/wlns/record"
)

// Index holds the current version of the whitelist.
type Index struct {
	cur atomic.Pointer[View]
	// gens numbers transactions, for copy-on-write (table.go).
	gens atomic.Uint64
	// cold is the writer's arena: only the writer touches it.
	cold *arena
}

// New returns an empty index.
func New() *Index {
	ix := &Index{cold: newArena()}
	ix.cur.Store(&View{})
	return ix
}

// Load returns the current version. It never blocks and the View it returns
// never changes.
func (ix *Index) Load() *View { return ix.cur.Load() }

// View is one immutable version of the index.
type View struct {
	serial   uint64
	zone     uint32
	entities byID[*record.Entity]
	// host4 and host6 map single addresses (/32, /128) to their entities.
	host4 shards[uint32, *record.Entity]
	host6 shards[[16]byte, *record.Entity]
	// net4 and net6 hold the shorter prefixes, by length.
	net4 [33]map[uint32]*record.Entity
	net6 [129]map[[16]byte]*record.Entity
	// len4 and len6 list the prefix lengths in net4/net6 that are in use,
	// longest first.
	len4, len6 []uint8
	// pairs and verps are keyed by entity and the SHA-256 of the sender
	// or domain; cold holds their text, by, method, updated and seen mark.
	pairs, verps table
	cold         coldView
	records      byID[uint32] // pairs and VERP sources per entity
	counts       Counts
	// zoneRecords are the zone's own records (zonerecords.go).
	zoneRecords *record.ZoneRecords
	// deleg holds the delegated prefixes; nil when there are none.
	deleg *delegations
}

// Counts says how many records of each kind a View holds.
type Counts struct {
	Entities     int `json:"entities"`
	Registered   int `json:"registered"`
	Pairs        int `json:"pairs"`
	DomainPairs  int `json:"domain_pairs"`
	VerpSources  int `json:"verp_sources"`
	PrefixMember int `json:"prefixes"`
}

// Serial is the version number of this View: the Raft index of the last
// command applied to it.
func (v *View) Serial() uint64 { return v.serial }

// ZoneSerial is the SOA serial of this View: it never decreases from one
// View to the next, nor across a snapshot restore or a restored backup
// (the writer decides how; see SetZoneSerial).
func (v *View) ZoneSerial() uint32 { return v.zone }

// Counts returns the number of records by kind.
func (v *View) Counts() Counts { return v.counts }

// Entity returns the entity with the given ID, or nil.
func (v *View) Entity(id uint64) *record.Entity {
	return v.entities.get(id)
}

// EntityOf returns the entity whose member prefix matches ip longest, or nil.
// It allocates nothing.
func (v *View) EntityOf(ip netip.Addr) *record.Entity {
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is4() {
		u := be4(ip)
		if e := v.host4.get(shardOfUint32(u), u); e != nil {
			return e
		}
		for _, l := range v.len4 {
			if e := v.net4[l][u&mask4(l)]; e != nil {
				return e
			}
		}
		return nil
	}
	if !ip.Is6() {
		return nil
	}
	a := ip.As16()
	if e := v.host6.get(shardOf16(&a), a); e != nil {
		return e
	}
	for _, l := range v.len6 {
		if e := v.net6[l][mask16(a, l)]; e != nil {
			return e
		}
	}
	return nil
}

// PrefixOwner returns the entity that has exactly prefix p as a member, or nil.
func (v *View) PrefixOwner(p netip.Prefix) *record.Entity {
	a, bits := p.Addr(), p.Bits()
	switch {
	case a.Is4() && bits == 32:
		u := be4(a)
		return v.host4.get(shardOfUint32(u), u)
	case a.Is4():
		return v.net4[bits][be4(a)]
	case bits == 128:
		k := a.As16()
		return v.host6.get(shardOf16(&k), k)
	default:
		return v.net6[bits][a.As16()]
	}
}

// Entities calls fn for every entity, in ID order, until fn returns false.
func (v *View) Entities(fn func(*record.Entity) bool) {
	v.entities.each(func(_ uint64, e *record.Entity) bool { return fn(e) })
}

func be4(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func mask4(bits uint8) uint32 {
	if bits == 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

func mask16(a [16]byte, bits uint8) [16]byte {
	var out [16]byte
	full := int(bits / 8)
	copy(out[:full], a[:full])
	if rem := bits % 8; rem != 0 {
		out[full] = a[full] & (0xff << (8 - rem))
	}
	return out
}
