package index

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

// compact moves the live cold records of the Txn's tables into a new arena.
func (t *Txn) compact() {
	na := newArena()
	na.compactAt, na.compactions = t.cold.compactAt, t.cold.compactions+1
	old := t.v.cold
	move := func(e *entry) {
		w := old.record(e.cold)
		p, _, _ := old.fields(w)
		e.cold = na.add(loadSeen(w), int64(w[coldUpdated]), old.names[p.by], old.names[p.method], old.text(w))
	}
	t.writer(&t.v.pairs).rewrite(move)
	t.writer(&t.v.verps).rewrite(move)
	t.cold = na
	t.v.cold = na.view()
}
