package index

import "sync/atomic"

// table is the hot store of pairs or VERP sources: fixed-width entries in
// small sorted leaves under an extendible-hash directory (see DESIGN.md).
//
// The directory has 1<<depth slots, in pages of dirSlots; slot i serves the
// hashes whose top depth bits are i. A leaf of depth d < depth serves
// 1<<(depth-d) neighbouring slots. A leaf past leafMax entries splits in
// two by its next hash bit, doubling the directory first when its depth is
// the directory's. Nothing ever merges: a deleted entry only shrinks its leaf.
//
// Copy-on-write by generation: a node (leaf, page, page list) whose gen is
// below the writer's min was published, or belongs to a transaction the
// writer must not change, and is copied before a write; a node at or above
// min is the writer's own and is written in place.
type table struct {
	depth uint8
	gen   uint64 // of the pages slice
	pages []*dirPage
	n     int
}

const (
	leafMax     = 128 // entries; 4 KiB of entries
	dirPageBits = 9
	dirSlots    = 1 << dirPageBits
	// flagMask is the low byte of entry.lo, which holds flags, not digest.
	flagMask = 0xff
)

// Entry flags.
const (
	flagDomain = 1 << iota // a domain-wide pair
	flagPinned
)

// entry is one record's hot fields, 32 bytes.
type entry struct {
	// hk is digest bits 0–63 mixed with the entity: the table's hash and
	// sort key.
	hk uint64
	// lo is digest bits 64–119 in its high 56 bits, flags in the low 8.
	lo      uint64
	ent     uint32
	created uint32 // Unix seconds
	lastQ   uint32 // Unix seconds, replicated LastQueried
	cold    uint32 // word index of the cold record in the arena
}

type leaf struct {
	gen   uint64
	depth uint8
	// minActive is the least active (entry.active) of the leaf's unpinned
	// entries, noActive when it has none: a sweep skips a leaf whose
	// minActive is at or after its cutoff.
	minActive uint32
	// marked is set (atomically: readers set it) when a record of the leaf
	// may have a seen mark not yet reported; a leaf is born marked, so a
	// mark made through the leaf it replaced is not lost (see EachPairMarked).
	marked uint32
	es     []entry
}

// noActive is the minActive of a leaf with no unpinned entry.
const noActive = 1<<32 - 1

// active is when an entry was last active (record.Meta.LastActive), or
// noActive for a pinned entry, which never expires.
func (e *entry) active() uint32 {
	if e.lo&flagPinned != 0 {
		return noActive
	}
	return max(e.created, e.lastQ)
}

// recount recomputes l.minActive.
func (l *leaf) recount() {
	l.minActive = noActive
	for i := range l.es {
		l.minActive = min(l.minActive, l.es[i].active())
	}
}

// changed keeps l.minActive right after an entry's active time went from
// was to now.
func (l *leaf) changed(was, now uint32) {
	if now < l.minActive {
		l.minActive = now
	} else if was == l.minActive && now != was {
		l.recount()
	}
}

type dirPage struct {
	gen uint64
	ls  [dirSlots]*leaf
}

// key is what identifies an entry: its hash, digest rest and entity.
type key struct {
	hk, lo uint64
	ent    uint32
}

func (e *entry) key() key { return key{e.hk, e.lo &^ flagMask, e.ent} }

func (e *entry) is(k key) bool { return e.hk == k.hk && e.lo&^flagMask == k.lo && e.ent == k.ent }

// slot is the directory slot of hash hk.
func (tb *table) slot(hk uint64) uint64 { return hk >> (64 - uint64(tb.depth)) }

func (tb *table) leafAt(i uint64) *leaf { return tb.pages[i>>dirPageBits].ls[i&(dirSlots-1)] }

// search returns the position of the first entry of es with hash ≥ hk.
func search(es []entry, hk uint64) int {
	lo, hi := 0, len(es)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if es[m].hk < hk {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// seekScan is how far seek walks from its guess before it falls back to a
// binary search of what remains: a guess is off by about √n/2 ≈ 6
// entries in a full leaf, three 64-byte lines either way.
const seekScan = 8

// seek is search(l.es, hk) for an hk that l serves, found by
// interpolation: the entries share their top l.depth hash bits with hk,
// and the bits below them are SHA-256 bits, spread evenly, so entry
// n·(hk's rest)/2^64 is within a few of the answer. A lookup then reads
// one or two cache lines of the leaf where a binary search reads six
// dependent ones (at 10M pairs each a cache and TLB miss). Its result
// does not depend on the guess being good: an uneven leaf costs at most
// seekScan steps more than search.
func (l *leaf) seek(hk uint64) int {
	if len(l.es) == 0 {
		return 0
	}
	j := l.guess(hk)
	return l.seekFrom(hk, j, l.es[j].hk)
}

// guess is where seek starts in a leaf of at least one entry.
func (l *leaf) guess(hk uint64) int { return int((hk << l.depth >> 32) * uint64(len(l.es)) >> 32) }

// seekFrom is seek from entry j, whose hash is at.
func (l *leaf) seekFrom(hk uint64, j int, at uint64) int {
	es := l.es
	if at < hk {
		for end := min(j+seekScan, len(es)); j < end; {
			if j++; j == len(es) || es[j].hk >= hk {
				return j
			}
		}
		return j + search(es[j:], hk)
	}
	for stop := max(j-seekScan, 0); j > stop; j-- {
		if es[j-1].hk < hk {
			return j
		}
	}
	return search(es[:j], hk)
}

// findFrom is the entry of l with key k, or nil, sought from entry j,
// whose hash is at.
func (l *leaf) findFrom(k key, j int, at uint64) *entry {
	es := l.es
	for j = l.seekFrom(k.hk, j, at); j < len(es) && es[j].hk == k.hk; j++ {
		if es[j].is(k) {
			return &es[j]
		}
	}
	return nil
}

// find returns the entry with key k, or nil. It allocates nothing.
func (tb *table) find(k key) *entry {
	e, _ := tb.lookup(k)
	return e
}

// lookup returns the entry with key k and its leaf, or nil.
func (tb *table) lookup(k key) (*entry, *leaf) {
	if tb.pages == nil {
		return nil, nil
	}
	l := tb.leafAt(tb.slot(k.hk))
	if len(l.es) == 0 {
		return nil, nil
	}
	j := l.guess(k.hk)
	if e := l.findFrom(k, j, l.es[j].hk); e != nil {
		return e, l
	}
	return nil, nil
}

// maxLookups is the most keys lookupAll takes.
const maxLookups = 8

// lookupAll is lookup for each of ks (at most maxLookups): es[i] and
// ls[i], nil when called, for ks[i]. It reads the directory slots of all
// the keys first, then their leaves' first entries, then finishes each
// search, so that the cache misses of the look-ups overlap instead of
// following each other: n look-ups of a large table cost little more
// than one.
func (tb *table) lookupAll(ks []key, es []*entry, ls []*leaf) {
	if tb.pages == nil {
		return
	}
	var js [maxLookups]int
	var at [maxLookups]uint64
	for i := range ks {
		ls[i] = tb.leafAt(tb.slot(ks[i].hk))
	}
	for i := range ks {
		if l := ls[i]; len(l.es) > 0 {
			js[i] = l.guess(ks[i].hk)
			at[i] = l.es[js[i]].hk
		}
	}
	for i := range ks {
		if len(ls[i].es) > 0 {
			es[i] = ls[i].findFrom(ks[i], js[i], at[i])
		}
		if es[i] == nil {
			ls[i] = nil
		}
	}
}

// each calls fn for every entry until fn returns false.
func (tb *table) each(fn func(*entry, *leaf) bool) {
	tb.eachLeaf(func(l *leaf) bool { return l.each(fn) })
}

// eachOf calls fn, until it returns false, for every entry of entity.
func (tb *table) eachOf(entity uint64, fn func(*entry, *leaf) bool) {
	if entity > 1<<32-1 {
		return
	}
	id := uint32(entity)
	tb.eachLeaf(func(l *leaf) bool {
		for j := range l.es {
			if l.es[j].ent == id && !fn(&l.es[j], l) {
				return false
			}
		}
		return true
	})
}

// eachBefore calls fn, until it returns false, for every entry of the
// leaves holding an unpinned entry last active before cutoff, skipping
// the others: what fn is called for is a superset of those entries.
func (tb *table) eachBefore(cutoff uint64, fn func(*entry, *leaf) bool) {
	tb.eachLeaf(func(l *leaf) bool { return uint64(l.minActive) >= cutoff || l.each(fn) })
}

// eachLeaf calls fn for every leaf until fn returns false.
func (tb *table) eachLeaf(fn func(*leaf) bool) {
	for i := uint64(0); i < uint64(len(tb.pages))*dirSlots && tb.pages != nil; {
		l := tb.leafAt(i)
		if !fn(l) {
			return
		}
		i += 1 << (tb.depth - l.depth)
	}
}

func (l *leaf) each(fn func(*entry, *leaf) bool) bool {
	for j := range l.es {
		if !fn(&l.es[j], l) {
			return false
		}
	}
	return true
}

// tw writes a table on behalf of one transaction.
type tw struct {
	tb  *table
	min uint64 // nodes with gen ≥ min are the writer's own
	gen uint64 // gen given to the nodes it creates
}

func (w tw) owns(gen uint64) bool { return gen >= w.min }

func (w tw) init() {
	if w.tb.pages != nil {
		return
	}
	p := &dirPage{gen: w.gen}
	l := &leaf{gen: w.gen, minActive: noActive, marked: 1}
	for i := range p.ls {
		p.ls[i] = l
	}
	w.tb.pages, w.tb.gen, w.tb.depth = []*dirPage{p}, w.gen, dirPageBits
}

// page returns page pi ready for writing.
func (w tw) page(pi uint64) *dirPage {
	tb := w.tb
	if !w.owns(tb.gen) {
		tb.pages = append([]*dirPage(nil), tb.pages...)
		tb.gen = w.gen
	}
	p := tb.pages[pi]
	if !w.owns(p.gen) {
		np := *p
		np.gen = w.gen
		p = &np
		tb.pages[pi] = p
	}
	return p
}

// setRange points the n slots from start at l.
func (w tw) setRange(start, n uint64, l *leaf) {
	for i := start; i < start+n; i++ {
		w.page(i >> dirPageBits).ls[i&(dirSlots-1)] = l
	}
}

// span is the first slot and the number of slots that leaf l at slot i serves.
func (w tw) span(l *leaf, i uint64) (uint64, uint64) {
	sh := w.tb.depth - l.depth
	return i >> sh << sh, 1 << sh
}

// leafFor returns the leaf serving hk ready for writing, with room for one
// more entry.
func (w tw) leafFor(hk uint64) *leaf {
	w.init()
	return w.own(w.tb.slot(hk))
}

// own returns the leaf at slot i ready for writing.
func (w tw) own(i uint64) *leaf {
	l := w.tb.leafAt(i)
	if w.owns(l.gen) {
		return l
	}
	nl := &leaf{gen: w.gen, depth: l.depth, minActive: l.minActive, marked: 1, es: make([]entry, len(l.es), len(l.es)+1)}
	copy(nl.es, l.es)
	start, n := w.span(l, i)
	w.setRange(start, n, nl)
	return nl
}

// rewrite calls fn with every entry ready for writing; fn must not change
// an entry's key or active time.
func (w tw) rewrite(fn func(*entry)) {
	if w.tb.pages == nil {
		return
	}
	for i := uint64(0); i < uint64(len(w.tb.pages))*dirSlots; {
		l := w.own(i)
		for j := range l.es {
			fn(&l.es[j])
		}
		i += 1 << (w.tb.depth - l.depth)
	}
}

// put adds e or replaces the entry with its key; it returns the replaced
// entry, if any.
func (w tw) put(e entry) (old entry, replaced bool) {
	l := w.leafFor(e.hk)
	k := e.key()
	j := search(l.es, e.hk)
	for ; j < len(l.es) && l.es[j].hk == e.hk; j++ {
		if l.es[j].is(k) {
			old = l.es[j]
			l.es[j] = e
			l.changed(old.active(), e.active())
			return old, true
		}
	}
	if len(l.es) == cap(l.es) {
		grown := make([]entry, len(l.es), len(l.es)+len(l.es)/8+2)
		copy(grown, l.es)
		l.es = grown
	}
	l.es = l.es[:len(l.es)+1]
	copy(l.es[j+1:], l.es[j:])
	l.es[j] = e
	l.changed(noActive, e.active())
	w.tb.n++
	if len(l.es) > leafMax {
		w.split(l, w.tb.slot(e.hk))
	}
	return entry{}, false
}

// touch raises the lastQ of the entry with key k to at and reports whether
// it did: false when there is no such entry or it is at or after at.
func (w tw) touch(k key, at uint32) bool {
	if e := w.tb.find(k); e == nil || e.lastQ >= at {
		return false
	}
	l := w.leafFor(k.hk)
	j := search(l.es, k.hk)
	for !l.es[j].is(k) {
		j++
	}
	was := l.es[j].active()
	l.es[j].lastQ = at
	l.changed(was, l.es[j].active())
	return true
}

// remove deletes the entry with key k and returns it.
func (w tw) remove(k key) (entry, bool) {
	if w.tb.find(k) == nil {
		return entry{}, false
	}
	l := w.leafFor(k.hk)
	j := search(l.es, k.hk)
	for !l.es[j].is(k) {
		j++
	}
	old := l.es[j]
	l.es = append(l.es[:j], l.es[j+1:]...)
	l.changed(old.active(), noActive)
	w.tb.n--
	return old, true
}

// split divides l, found at slot i, by its next hash bit.
func (w tw) split(l *leaf, i uint64) {
	if l.depth >= 63 {
		return // every entry shares 63 hash bits: leave the leaf long
	}
	if l.depth == w.tb.depth {
		w.double()
		i <<= 1
	}
	bit := 63 - uint64(l.depth)
	cut := len(l.es)
	for j := range l.es { // sorted by hash: the entries with the bit set come last
		if l.es[j].hk>>bit&1 == 1 {
			cut = j
			break
		}
	}
	left := &leaf{gen: w.gen, depth: l.depth + 1, marked: 1, es: append([]entry(nil), l.es[:cut]...)}
	right := &leaf{gen: w.gen, depth: l.depth + 1, marked: 1, es: append([]entry(nil), l.es[cut:]...)}
	left.recount()
	right.recount()
	start, n := w.span(l, i)
	w.setRange(start, n/2, left)
	w.setRange(start+n/2, n/2, right)
	if len(left.es) > leafMax {
		w.split(left, start)
	}
	if len(right.es) > leafMax {
		w.split(right, start+n/2)
	}
}

// double doubles the directory: slot i of the new one serves what slot
// i/2 of the old one did.
func (w tw) double() {
	tb := w.tb
	pages := make([]*dirPage, 2*len(tb.pages))
	for pi := range pages {
		p := &dirPage{gen: w.gen}
		for j := range p.ls {
			s := uint64(pi)<<dirPageBits | uint64(j)
			p.ls[j] = tb.leafAt(s >> 1)
		}
		pages[pi] = p
	}
	tb.pages, tb.gen = pages, w.gen
	tb.depth++
}

// eachMarked walks the marked leaves: it clears a leaf's flag, calls due
// for each of its entries, and sets the flag again when one was due. A
// mark made during the walk sets the flag after it was cleared, so no mark
// is missed.
func (tb *table) eachMarked(cv *coldView, due func(Ref) bool) {
	tb.eachLeaf(func(l *leaf) bool {
		if atomic.LoadUint32(&l.marked) == 0 {
			return true
		}
		atomic.StoreUint32(&l.marked, 0)
		any := false
		for j := range l.es {
			if due(Ref{e: &l.es[j], l: l, cv: cv}) {
				any = true
			}
		}
		if any {
			atomic.StoreUint32(&l.marked, 1)
		}
		return true
	})
}
