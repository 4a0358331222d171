package index

import (
	"net/netip"

	"github.com/wlns/wlns/record"
)

// An entity (a lone relay or a group) is held in three places, none of
// them behind a per-entity pointer (DESIGN.md, "Entities"):
//
//   - its hot entry, 12 bytes in pages by ID (View.entities): created, the
//     replicated last query, and the word index of its cold record (never
//     0: the entities' arena leaves word 0 unused, so 0 means "none");
//   - its cold record in the entities' arena (entity_text.go): seen mark,
//     updated, and a packed text of flags, name, contact, PTR and member
//     prefixes;
//   - one entry per member prefix in the address tables: /32s by a
//     one-to-one hash of the address to the ID (8 bytes), every other
//     prefix by a hash of (family, length, address) to the prefix and ID.
type entHot struct {
	created uint32 // Unix seconds
	lastQ   uint32 // Unix seconds, replicated LastQueried
	cold    uint32 // word index of the cold record in the arena; 0: none
}

// Entity flags, the first byte of the cold text.
const (
	entGroup = 1 << iota
	entRegistered
	entPinned
	// entLone marks a text without a name or a prefix count: an entity
	// with no name and one member prefix (most relays).
	entLone
)

// netEntry is a member prefix other than an IPv4 /32, with its entity.
type netEntry struct {
	a    [16]byte // the prefix's address: IPv4 in the first 4 bytes
	id   uint32
	bits uint8
	v4   bool
}

func (n netEntry) same(o netEntry) bool { return n.a == o.a && n.bits == o.bits && n.v4 == o.v4 }

// host4Key is the key of an IPv4 /32 in View.host4: the address times an
// odd constant, one-to-one (so keys never collide) and spread in its top
// bits, which the directory serves by.
func host4Key(u uint32) uint32 { return u * 0x9E3779B1 }

// netKey is the key of a prefix in View.nets.
func netKey(n *netEntry) uint64 {
	hi := uint64(n.a[0])<<56 | uint64(n.a[1])<<48 | uint64(n.a[2])<<40 | uint64(n.a[3])<<32 |
		uint64(n.a[4])<<24 | uint64(n.a[5])<<16 | uint64(n.a[6])<<8 | uint64(n.a[7])
	lo := uint64(n.a[8])<<56 | uint64(n.a[9])<<48 | uint64(n.a[10])<<40 | uint64(n.a[11])<<32 |
		uint64(n.a[12])<<24 | uint64(n.a[13])<<16 | uint64(n.a[14])<<8 | uint64(n.a[15])
	x := uint64(n.bits)
	if n.v4 {
		x |= 1 << 8
	}
	return mix64(hi ^ mix64(lo^x*0x9E3779B97F4A7C15))
}

// mix64 is the splitmix64 finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// netOf is the netEntry of prefix p (its address as given, not masked).
func netOf(p netip.Prefix) netEntry {
	a := p.Addr()
	n := netEntry{bits: uint8(p.Bits()), v4: a.Is4()}
	if n.v4 {
		b := a.As4()
		copy(n.a[:4], b[:])
	} else {
		n.a = a.As16()
	}
	return n
}

// findNet returns the ID stored for n's prefix, or 0.
func (v *View) findNet(n *netEntry) uint32 {
	for _, e := range v.nets.run(netKey(n)) {
		if e.same(*n) {
			return e.id
		}
	}
	return 0
}

// entityIDOf is the ID of the entity whose member prefix matches ip
// longest, or 0. It allocates nothing.
func (v *View) entityIDOf(ip netip.Addr) uint32 {
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is4() {
		u := be4(ip)
		if r := v.host4.run(host4Key(u)); len(r) > 0 {
			return r[0]
		}
		n := netEntry{v4: true}
		for _, l := range v.len4 {
			m := u & mask4(l)
			n.a[0], n.a[1], n.a[2], n.a[3], n.bits = byte(m>>24), byte(m>>16), byte(m>>8), byte(m), l
			if id := v.findNet(&n); id != 0 {
				return id
			}
		}
		return 0
	}
	if !ip.Is6() {
		return 0
	}
	a := ip.As16()
	for _, l := range v.len6 {
		n := netEntry{a: mask16(a, l), bits: l}
		if id := v.findNet(&n); id != 0 {
			return id
		}
	}
	return 0
}

// prefixOwnerID is the ID of the entity that has exactly p as a member, or 0.
func (v *View) prefixOwnerID(p netip.Prefix) uint32 {
	if a := p.Addr(); a.Is4() && p.Bits() == 32 {
		if r := v.host4.run(host4Key(be4(a))); len(r) > 0 {
			return r[0]
		}
		return 0
	}
	n := netOf(p)
	return v.findNet(&n)
}

// EntityRef is a handle on one entity of a View: its hot fields by value,
// its cold fields on demand. The zero EntityRef is "not found". Reading
// one allocates nothing, except Entity and Prefixes, which build copies.
type EntityRef struct {
	h  entHot
	id uint64
	cv *coldView
}

// EntityRef returns the entity with the given ID; see EntityRef.Found.
func (v *View) EntityRef(id uint64) EntityRef {
	h := v.entities.get(id)
	if h.cold == 0 {
		return EntityRef{}
	}
	return EntityRef{h: h, id: id, cv: &v.ecold}
}

// EntityRefOf returns the entity whose member prefix matches ip longest.
// It allocates nothing: the DNS path calls it.
func (v *View) EntityRefOf(ip netip.Addr) EntityRef {
	if id := v.entityIDOf(ip); id != 0 {
		return v.EntityRef(uint64(id))
	}
	return EntityRef{}
}

// PrefixOwnerID returns the ID of the entity that has exactly prefix p as
// a member, or 0.
func (v *View) PrefixOwnerID(p netip.Prefix) uint64 { return uint64(v.prefixOwnerID(p)) }

// Entity returns a copy of the entity with the given ID, or nil. Changing
// it does not change the index.
func (v *View) Entity(id uint64) *record.Entity { return v.EntityRef(id).Entity() }

// EntityOf returns a copy of the entity whose member prefix matches ip
// longest, or nil. DNS uses EntityRefOf.
func (v *View) EntityOf(ip netip.Addr) *record.Entity { return v.EntityRefOf(ip).Entity() }

// PrefixOwner returns a copy of the entity that has exactly prefix p as a
// member, or nil.
func (v *View) PrefixOwner(p netip.Prefix) *record.Entity {
	return v.Entity(v.PrefixOwnerID(p))
}

// EachEntity calls fn for every entity, in ID order, until fn returns
// false. It allocates nothing.
func (v *View) EachEntity(fn func(EntityRef) bool) {
	v.entities.each(func(id uint64, h entHot) bool { return fn(EntityRef{h: h, id: id, cv: &v.ecold}) })
}

// Entities calls fn with a copy of every entity, in ID order, until fn
// returns false. EachEntity reads them without copies.
func (v *View) Entities(fn func(*record.Entity) bool) {
	v.EachEntity(func(r EntityRef) bool { return fn(r.Entity()) })
}

// Found reports whether r names an entity.
func (r EntityRef) Found() bool { return r.h.cold != 0 }

// ID is the entity's ID.
func (r EntityRef) ID() uint64 { return r.id }

// Group reports whether the entity is a named relay group.
func (r EntityRef) Group() bool { return r.flags()&entGroup != 0 }

// Registered reports whether the entity answers in the relay zone.
func (r EntityRef) Registered() bool { return r.flags()&entRegistered != 0 }

// Pinned reports whether the entity never expires.
func (r EntityRef) Pinned() bool { return r.flags()&entPinned != 0 }

// Created is when the entity was first written, Unix seconds.
func (r EntityRef) Created() int64 { return int64(r.h.created) }

// LastQueried is the replicated time of the entity's last relay-zone
// answer, or zero.
func (r EntityRef) LastQueried() int64 { return int64(r.h.lastQ) }

// LastActive is LastQueried, or Created when later (record.Meta.LastActive).
func (r EntityRef) LastActive() int64 { return int64(max(r.h.lastQ, r.h.created)) }

// ExpiredAt is record.Meta.ExpiredAt for this entity.
func (r EntityRef) ExpiredAt(cutoff int64) bool {
	return cutoff > 0 && !r.Pinned() && r.LastActive() < cutoff
}

// Updated is when the entity was last changed, Unix seconds.
func (r EntityRef) Updated() int64 { return int64(r.cold()[entUpdated]) }

// Seen is the local time of the entity's last positive answer, or zero.
func (r EntityRef) Seen() int64 { return loadSeen(r.cold()) }

// MarkSeen records a positive relay-zone answer at Unix time now: one
// atomic load, and a store when the mark moves. Safe from any goroutine.
func (r EntityRef) MarkSeen(now int64) { markSeen(r.cold(), now) }

// Name is the group's name, empty for a lone relay. The string shares the
// index's memory; it never changes.
func (r EntityRef) Name() string { return r.text().name }

// Contact is the relay's accountable address.
func (r EntityRef) Contact() string { return r.text().contact }

// PTR is the relay's forward-confirmed reverse name.
func (r EntityRef) PTR() string { return r.text().ptr }

// LonePrefix returns the entity's member prefix when it has exactly one.
// It allocates nothing.
func (r EntityRef) LonePrefix() (netip.Prefix, bool) {
	t := r.text()
	if t.n != 1 {
		return netip.Prefix{}, false
	}
	p, _ := decodePrefix(t.prefixes)
	return p, true
}

// Prefixes returns a copy of the entity's member prefixes, in the order
// they were written.
func (r EntityRef) Prefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, r.text().n)
	r.EachPrefix(func(p netip.Prefix) bool { out = append(out, p); return true })
	return out
}

// EachPrefix calls fn for each member prefix, in the order they were
// written, until fn returns false. It allocates nothing.
func (r EntityRef) EachPrefix(fn func(netip.Prefix) bool) {
	t := r.text()
	b := t.prefixes
	for range t.n {
		var p netip.Prefix
		if p, b = decodePrefix(b); !fn(p) {
			return
		}
	}
}

// Entity builds the record.Entity r names (nil for the zero EntityRef),
// with its seen mark. Changing it does not change the index.
func (r EntityRef) Entity() *record.Entity {
	if !r.Found() {
		return nil
	}
	t := r.text()
	e := &record.Entity{ID: r.id, Name: t.name, Group: r.Group(), Prefixes: r.Prefixes(), Registered: r.Registered(),
		Contact: t.contact, PTR: t.ptr}
	e.Created, e.Updated, e.LastQueried, e.Pinned = r.Created(), r.Updated(), r.LastQueried(), r.Pinned()
	e.MarkSeen(r.Seen())
	return e
}

func (r EntityRef) cold() []uint32 { return r.cv.record(r.h.cold) }

func (r EntityRef) flags() byte {
	if !r.Found() {
		return 0
	}
	return entityBytes(r.cold())[0]
}

func (r EntityRef) text() entityText { return parseEntityText(entityBytes(r.cold())) }
