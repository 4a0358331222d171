package index

import "unsafe"

// Arena garbage: a replaced or deleted record leaves its cold words behind.
// When the garbage outgrows both compactMinWords and the live records, the
// Txn that commits copies every live cold record into a new arena and
// points the hot entries at the copies, so a node that rewrites its records
// for months holds at most about twice their size. The copy costs one pass
// over the index, paid for by at least as many words of garbage written
// since the last one.
const compactMinWords = 4 << 20 // 16 MiB

// needsCompaction reports whether the arena's garbage is worth a copy.
func (a *arena) needsCompaction() bool {
	return a.dead > a.compactAt && a.dead > a.live
}

// compact moves the live cold records of the pair and VERP tables into a
// new arena.
func (t *Txn) compact() {
	na, move := relocate(t.cold, t.v.cold)
	t.writer(&t.v.pairs).rewrite(func(e *entry) { e.cold = move(e.cold) })
	t.writer(&t.v.verps).rewrite(func(e *entry) { e.cold = move(e.cold) })
	t.cold = na
	t.v.cold = na.view()
}

// compactEntities moves the entities' live cold records into a new arena.
func (t *Txn) compactEntities() {
	old := t.v.ecold
	na := newEntityArena()
	na.compactAt, na.compactions = t.ecold.compactAt, t.ecold.compactions+1
	t.v.entities.rewrite(t.gen, func(h *entHot) {
		w := old.record(h.cold)
		n := entityWords(w)
		text := unsafe.Slice((*byte)(unsafe.Pointer(&w[entHeader])), 4*(n-entHeader))
		h.cold = na.addEntity(loadSeen(w), int64(w[entUpdated]), text)
	})
	t.ecold = na
	t.v.ecold = na.view()
}

// relocate returns a new arena to compact a into and the function that
// copies a record of old (a's view) into it and returns its new place.
func relocate(a *arena, old coldView) (*arena, func(uint32) uint32) {
	na := newArena()
	na.compactAt, na.compactions = a.compactAt, a.compactions+1
	return na, func(ref uint32) uint32 {
		w := old.record(ref)
		p, _, _ := old.fields(w)
		return na.add(loadSeen(w), int64(w[coldUpdated]), old.names[p.by], old.names[p.method], old.text(w))
	}
}
