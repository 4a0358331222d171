package index

import (
	"net/netip"
	"slices"

	"github.com/wlns/wlns/record"
)

// Txn builds the next version of an Index. Only one Txn may be open at a time
// (the state machine is the single writer); readers keep seeing the old
// version until Commit.
type Txn struct {
	ix *Index
	v  *View
	// cold is the arena the Txn appends to: the Index's, or a new one for
	// BeginEmpty.
	cold *arena
	// gen is the generation of the Txn's own table nodes; it may write in
	// place every node of generation ≥ gen (table.go).
	gen uint64

	oHost4, oHost6 owned
	net4Copied     [33]bool
	net6Copied     [129]bool
}

// Begin starts a Txn on a copy of the current version.
func (ix *Index) Begin() *Txn {
	old := ix.Load()
	nv := *old
	nv.len4 = slices.Clone(old.len4)
	nv.len6 = slices.Clone(old.len6)
	return &Txn{ix: ix, v: &nv, cold: ix.cold, gen: ix.gens.Add(1)}
}

// BeginEmpty starts a Txn on an empty index, for restoring a snapshot off to
// the side: readers see the old data until Commit swaps the new in whole.
func (ix *Index) BeginEmpty() *Txn {
	return &Txn{ix: ix, v: &View{}, cold: newArena(), gen: ix.gens.Add(1)}
}

// View returns the version being built, so the writer can read its own
// writes. It must not be used after Commit or handed to other goroutines.
func (t *Txn) View() *View { return t.v }

// SetSerial sets the version number of the View being built.
func (t *Txn) SetSerial(n uint64) { t.v.serial = n }

// SetZoneSerial sets the SOA serial of the View being built.
func (t *Txn) SetZoneSerial(n uint32) { t.v.zone = n }

// Commit publishes the version being built. The Txn must not be used after.
func (t *Txn) Commit() {
	if t.cold.needsCompaction() {
		t.compact()
	}
	t.ix.cold = t.cold
	t.ix.cur.Store(t.v)
	t.v = nil
}

// PutEntity adds or replaces the entity with e.ID, moving its member prefixes
// to e.Prefixes. The caller has checked that no other entity owns any of
// them. The index keeps e; the caller must not change it afterwards.
func (t *Txn) PutEntity(e *record.Entity) {
	if old := t.v.Entity(e.ID); old != nil {
		t.dropPrefixes(old)
		t.countEntity(old, -1)
	}
	t.countEntity(e, 1)
	t.v.entities.set(e.ID, e, t.gen)
	for _, p := range e.Prefixes {
		t.setPrefix(p, e)
	}
}

// DeleteEntity removes the entity and its member prefixes. Its pairs and
// VERP sources are the caller's to delete.
func (t *Txn) DeleteEntity(id uint64) {
	old := t.v.Entity(id)
	if old == nil {
		return
	}
	t.dropPrefixes(old)
	t.v.entities.set(id, nil, t.gen)
	t.countEntity(old, -1)
}

func (t *Txn) countEntity(e *record.Entity, d int) {
	t.v.counts.Entities += d
	if e.Registered {
		t.v.counts.Registered += d
	}
}

func (t *Txn) dropPrefixes(e *record.Entity) {
	for _, p := range e.Prefixes {
		if owner := t.v.PrefixOwner(p); owner != nil && owner.ID == e.ID {
			t.setPrefix(p, nil)
		}
	}
}

// setPrefix points p at e, or removes p when e is nil.
func (t *Txn) setPrefix(p netip.Prefix, e *record.Entity) {
	a, bits := p.Addr(), p.Bits()
	if e != nil {
		t.v.counts.PrefixMember++
	} else {
		t.v.counts.PrefixMember--
	}
	switch {
	case a.Is4() && bits == 32:
		u := be4(a)
		m := writable(&t.v.host4, &t.oHost4, shardOfUint32(u))
		setOrDelete(m, u, e)
	case a.Is4():
		m := t.net4(bits)
		setOrDelete(m, be4(a), e)
		t.v.len4 = usedLengths(t.v.net4[:])
	case bits == 128:
		k := a.As16()
		m := writable(&t.v.host6, &t.oHost6, shardOf16(&k))
		setOrDelete(m, k, e)
	default:
		m := t.net6(bits)
		setOrDelete(m, a.As16(), e)
		t.v.len6 = usedLengths(t.v.net6[:])
	}
}

func (t *Txn) net4(bits int) map[uint32]*record.Entity {
	if !t.net4Copied[bits] {
		t.v.net4[bits] = cloneOrMake(t.v.net4[bits])
		t.net4Copied[bits] = true
	}
	return t.v.net4[bits]
}

func (t *Txn) net6(bits int) map[[16]byte]*record.Entity {
	if !t.net6Copied[bits] {
		t.v.net6[bits] = cloneOrMake(t.v.net6[bits])
		t.net6Copied[bits] = true
	}
	return t.v.net6[bits]
}

func cloneOrMake[K comparable](m map[K]*record.Entity) map[K]*record.Entity {
	out := make(map[K]*record.Entity, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func setOrDelete[K comparable](m map[K]*record.Entity, k K, e *record.Entity) {
	if e != nil {
		m[k] = e
	} else {
		delete(m, k)
	}
}

// usedLengths lists the indexes of non-empty maps, longest prefix first.
func usedLengths[K comparable](ms []map[K]*record.Entity) []uint8 {
	var out []uint8
	for l := len(ms) - 1; l >= 0; l-- {
		if len(ms[l]) > 0 {
			out = append(out, uint8(l))
		}
	}
	return out
}

// Child starts a Txn on top of t's uncommitted version, for a group of
// writes that must apply all or nothing: Adopt keeps them, dropping the
// child discards them. t must not be written while the child is open.
func (t *Txn) Child() *Txn {
	nv := *t.v
	nv.len4 = slices.Clone(t.v.len4)
	nv.len6 = slices.Clone(t.v.len6)
	return &Txn{ix: t.ix, v: &nv, cold: t.cold, gen: t.ix.gens.Add(1)}
}

// Adopt makes the child's writes part of t. The child must not be used after.
func (t *Txn) Adopt(child *Txn) {
	t.v = child.v
	for _, o := range []struct{ dst, src *owned }{
		{&t.oHost4, &child.oHost4}, {&t.oHost6, &child.oHost6},
	} {
		o.dst.merge(o.src)
	}
	for i := range t.net4Copied {
		t.net4Copied[i] = t.net4Copied[i] || child.net4Copied[i]
	}
	for i := range t.net6Copied {
		t.net6Copied[i] = t.net6Copied[i] || child.net6Copied[i]
	}
	child.v = nil
}
