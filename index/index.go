// Package index is the in-memory whitelist every node answers DNS from: relay
// entities found by longest-prefix match, sender/relay pairs, hashed-address
// pairs and VERP sources.
//
// Readers never wait: Load returns an immutable View, and the single writer
// (the state machine) builds the next version in a Txn and publishes it whole
// with one atomic store. Pairs and VERP sources are 32-byte entries in small
// sorted leaves under a hash directory, keyed by entity and a digest of the
// sender (the same SHA-256 the hashed query label carries), with the fields
// only the API reads in an append-only arena (DESIGN.md). Entities are
// 12-byte entries in pages by ID, their name, contact, PTR and members in
// an arena of their own, found from an address through pointer-free
// address tables; DNS reads them through an EntityRef. A Txn copies the
// leaves and pages it writes, so a write costs the records it touches, not
// the size of the index.
//
// A snapshot holds the flat form of the entities and the pair and VERP
// tables; a restore reads it back into place, or, from bytes the store
// mapped, keeps its parts where they lie (FlatLoader.Alias).
//
// The index owns the data structure only. It decides nothing about what a
// command means (package fsm does) and imports no DNS, HTTP or Raft code.
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
	// cold and ecold are the writer's arenas, for pairs and VERP sources
	// and for entities: only the writer touches them.
	cold, ecold *arena
	// hooks are called with each View before it is published (OnPublish).
	hooks atomic.Pointer[[]func(*View)]
	// names finds groups by name for every View (View.GroupNamed).
	names *GroupNames
}

// OnPublish registers f, called with every View a Txn commits, on the
// committing goroutine (the writer's) and before readers can Load it:
// what readers derive from a View (the zone's own-names table) is built
// there, off their path. f must be quick when nothing it depends on
// changed, and must not write to the index.
func (ix *Index) OnPublish(f func(*View)) {
	for {
		old := ix.hooks.Load()
		var next []func(*View)
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, f)
		if ix.hooks.CompareAndSwap(old, &next) {
			return
		}
	}
}

// New returns an empty index.
func New() *Index {
	ix := &Index{cold: newArena(), ecold: newEntityArena(), names: &GroupNames{}}
	ix.cur.Store(&View{zone: 1, names: ix.names}) // the SOA serial before any write
	return ix
}

// Load returns the current version. It never blocks and the View it returns
// never changes.
func (ix *Index) Load() *View { return ix.cur.Load() }

// View is one immutable version of the index.
type View struct {
	serial uint64
	zone   uint32
	// entities holds each entity's hot entry by ID (entities.go).
	entities byID[entHot]
	// host4 maps IPv4 /32 members to their entity IDs; nets holds every
	// other member prefix, by (family, length, address).
	host4 atab[uint32, uint32]
	nets  atab[uint64, netEntry]
	// n4 and n6 count the prefixes in nets by length; len4 and len6 list
	// the lengths in use, longest first.
	n4         [33]uint32
	n6         [129]uint32
	len4, len6 []uint8
	// pairs and verps are keyed by entity and the SHA-256 of the sender
	// or domain; cold holds their text, by, method, updated and seen mark;
	// ecold the entities' cold records (an arena of their own, so that the
	// pairs' arena can be loaded whole from a snapshot).
	pairs, verps table
	cold, ecold  coldView
	records      byID[uint32] // pairs and VERP sources per entity
	counts       Counts
	// zoneRecords are the zone's own records (zonerecords.go).
	zoneRecords *record.ZoneRecords
	// deleg holds the delegated prefixes; nil when there are none.
	deleg *delegations
	// names is the Index's group name table (GroupNamed), shared by all
	// its Views.
	names *GroupNames
	// owner is what the memory a restore left the View in place depends
	// on (Txn.Own); every later View carries it, so it stays reachable
	// while any View that may read that memory does.
	owner any
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
