package index

import (
	"fmt"
	"math"
	"net/netip"

	"github.com/wlns/wlns/record"
)

// PutEntity adds or replaces the entity with e.ID, with e's seen mark,
// moving its member prefixes to e.Prefixes. The caller has checked that no
// other entity owns any of them. The index copies what it keeps; e stays
// the caller's. e.ID must fit in 32 bits.
func (t *Txn) PutEntity(e *record.Entity) {
	if e.ID > math.MaxUint32 {
		panic(fmt.Sprintf("index: entity ID %d does not fit in 32 bits", e.ID))
	}
	if old := t.v.EntityRef(e.ID); old.Found() {
		t.dropEntity(old)
	}
	t.scratch = appendEntityText(t.scratch[:0], e)
	h := entHot{created: clampTime(e.Created), lastQ: clampTime(e.LastQueried),
		cold: t.ecold.addEntity(e.Seen(), e.Updated, t.scratch)}
	t.v.ecold = t.ecold.view()
	t.v.entities.set(e.ID, h, t.gen)
	t.countEntity(e.Registered, 1)
	for _, p := range e.Prefixes {
		t.setPrefix(p, uint32(e.ID))
	}
}

// DeleteEntity removes the entity and its member prefixes. Its pairs and
// VERP sources are the caller's to delete.
func (t *Txn) DeleteEntity(id uint64) {
	if old := t.v.EntityRef(id); old.Found() {
		t.dropEntity(old)
		t.v.entities.set(id, entHot{}, t.gen)
	}
}

// TouchEntity raises the LastQueried of entity id to at and reports
// whether it did: false when there is no such entity or it was queried at
// or after at already. Only the entity's hot entry changes, so its seen
// mark stays as it is.
func (t *Txn) TouchEntity(id uint64, at int64) bool {
	r := t.v.EntityRef(id)
	if !r.Found() || int64(r.h.lastQ) >= at {
		return false
	}
	r.h.lastQ = clampTime(at)
	t.v.entities.set(id, r.h, t.gen)
	return true
}

// dropEntity removes what old holds besides its hot entry: its member
// prefixes, its counts and its cold record.
func (t *Txn) dropEntity(old EntityRef) {
	id := uint32(old.ID())
	for _, p := range old.Prefixes() {
		if t.v.prefixOwnerID(p) == id {
			t.setPrefix(p, 0)
		}
	}
	t.countEntity(old.Registered(), -1)
	t.ecold.dropEntity(t.v.ecold, old.h.cold)
}

func (t *Txn) countEntity(registered bool, d int) {
	t.v.counts.Entities += d
	if registered {
		t.v.counts.Registered += d
	}
}

// setPrefix points p at entity id, or removes p when id is 0.
func (t *Txn) setPrefix(p netip.Prefix, id uint32) {
	if id != 0 {
		t.v.counts.PrefixMember++
	} else {
		t.v.counts.PrefixMember--
	}
	if a := p.Addr(); a.Is4() && p.Bits() == 32 {
		w := aw[uint32, uint32]{tb: &t.v.host4, min: t.gen, gen: t.gen}
		k := host4Key(be4(a))
		if id != 0 {
			w.put(k, id, func(uint32, uint32) bool { return true })
		} else {
			w.remove(k, func(uint32) bool { return true })
		}
		return
	}
	n := netOf(p)
	w := aw[uint64, netEntry]{tb: &t.v.nets, min: t.gen, gen: t.gen}
	count, lens := &t.v.n6[min(n.bits, 128)], &t.v.len6
	if n.v4 {
		count, lens = &t.v.n4[min(n.bits, 32)], &t.v.len4
	}
	was := *count
	if id != 0 {
		n.id = id
		before := w.tb.n
		w.put(netKey(&n), n, netEntry.same)
		if w.tb.n > before {
			*count++
		}
	} else if w.remove(netKey(&n), n.same) {
		*count--
	}
	switch {
	case (was == 0) == (*count == 0): // the lengths in use did not change
	case n.v4:
		*lens = usedLengths(t.v.n4[:])
	default:
		*lens = usedLengths(t.v.n6[:])
	}
}

// usedLengths lists the lengths with a prefix, longest first. It returns a
// new slice: older Views keep theirs.
func usedLengths(n []uint32) []uint8 {
	var out []uint8
	for l := len(n) - 1; l >= 0; l-- {
		if n[l] > 0 {
			out = append(out, uint8(l))
		}
	}
	return out
}
