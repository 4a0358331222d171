package index

import (
	"encoding/binary"
	"math/bits"
	"sort"
	"unsafe"
)

// FlatLoader reads the flat form of the pair and VERP tables (flat.go)
// back into a Txn: each part is read straight into the memory the index
// keeps (entry blocks become the leaves' arrays, arena parts its chunks),
// then Finish checks that the whole holds together and builds the
// directory. Memory grows with the parts actually read, never with a size
// a part or count claims.
type FlatLoader struct {
	t     *Txn
	last  FlatPart
	slabs [2][][]entry // pairs, VERP sources: blocks of FlatBlock but the last
	n     [2]int
	names [][]byte
	provs [][]byte
	// chunks are the arena's chunks; used says how many words of each
	// the flat form filled.
	chunks [][]uint32
	used   []int
	// e holds the entities' parts.
	e entLoad
	// src is the part Alias hands over, whose memory the index keeps
	// instead of new memory; nil for Part.
	src []byte
}

// LoadFlat starts reading a flat form into t, which must come from
// BeginEmpty and hold no pair or VERP source, nor any entity when the
// form holds entity parts (a format-5 snapshot's entities come as
// records, put before its pair tables are loaded).
func (t *Txn) LoadFlat() *FlatLoader { return &FlatLoader{t: t} }

// Part returns the memory that the next part, of kind part and n bytes,
// is to be read into; the caller fills all of it before the next call.
// Parts must come in the order of their kinds and within the sizes the
// flat form allows.
func (l *FlatLoader) Part(part FlatPart, n int) ([]byte, error) {
	if part < FlatPairs || part > FlatHost4 || l.last != 0 && part.order() < l.last.order() {
		return nil, errFlat("part kind %d after kind %d", part, l.last)
	}
	l.last = part
	switch part {
	case FlatEntHot, FlatEntSparse, FlatEntArena, FlatHost4:
		return l.entityPart(part, n)
	case FlatPairs, FlatVerps:
		return l.entryPart(int(part-FlatPairs), n)
	case FlatName:
		if n > maxName || len(l.names) >= maxNames {
			return nil, errFlat("a name of %d bytes", n)
		}
		b := make([]byte, n)
		l.names = append(l.names, b)
		return b, nil
	case FlatProv:
		if n != provBytes || len(l.provs) >= maxNames {
			return nil, errFlat("a by/method pair of %d bytes", n)
		}
		b := make([]byte, n)
		l.provs = append(l.provs, b)
		return b, nil
	}
	if n == 0 || n%4 != 0 || n > 4*chunkWords {
		return nil, errFlat("an arena part of %d bytes", n)
	}
	// Exactly the part: Finish gives the last chunk its room to grow.
	c := partMem[uint32](l.src, n/4)
	l.chunks = append(l.chunks, c)
	l.used = append(l.used, n/4)
	return unsafe.Slice((*byte)(unsafe.Pointer(&c[0])), n), nil
}

// Alias takes the next part, of kind part, from b itself where Part has it
// read into new memory: the index keeps b's memory (entry blocks as the
// leaves' arrays, arena parts as its chunks, entity pages and /32 blocks
// as the View's); names and by/method pairs are copied. So b must stay
// valid, and be changed by nobody else, for as long as anything taken from
// the index may be used: Views, and the strings their records hand out,
// which share the arena. The index writes into it: a seen mark is stored
// in place in its record's arena word. Every other write copies the leaf,
// page or chunk first, as it does after any restore (capacities are
// clipped, generations older than the next Txn's). b must start on an
// 8-byte boundary (InPlace), and the machine be little endian.
func (l *FlatLoader) Alias(part FlatPart, b []byte) error {
	if !InPlace(b) {
		return errFlat("a part of %d bytes cannot be used in place (big-endian machine or misaligned)", len(b))
	}
	l.src = b[:len(b):len(b)]
	defer func() { l.src = nil }()
	got, err := l.Part(part, len(b))
	if err == nil && len(b) > 0 && &got[0] != &b[0] {
		copy(got, b) // a name or by/method pair
	}
	return err
}

// InPlace reports whether b can be a part that Alias takes as it is: the
// machine is little endian (the flat form's byte order) and b starts on an
// 8-byte boundary (an entry's alignment).
func InPlace(b []byte) bool {
	return littleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%8 == 0
}

// partMem is the memory of a part of n values of T: src itself when Alias
// hands it over (capacity n, so an append copies), else new memory.
func partMem[T any](src []byte, n int) []T {
	if src != nil {
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(src))), n)
	}
	return make([]T, n)
}

func (l *FlatLoader) entryPart(i, n int) ([]byte, error) {
	if n == 0 || n%EntryBytes != 0 || n > MaxFlatPart {
		return nil, errFlat("an entry block of %d bytes", n)
	}
	if k := len(l.slabs[i]); k > 0 && len(l.slabs[i][k-1]) != FlatBlock {
		return nil, errFlat("an entry block after a short one")
	}
	es := partMem[entry](l.src, n/EntryBytes)
	l.slabs[i] = append(l.slabs[i], es)
	l.n[i] += len(es)
	return unsafe.Slice((*byte)(unsafe.Pointer(&es[0])), n), nil
}

// Counts returns how many pairs and VERP sources the parts read so far hold.
func (l *FlatLoader) Counts() (pairs, verps int) { return l.n[0], l.n[1] }

// Finish checks the parts read — entries in key order with known flags and
// entities, every cold record where the canonical arena puts it and in
// bounds, names and by/method pairs that exist — and makes them the Txn's
// tables and arena. known says whether a record's entity exists (nil:
// every one does); the index itself holds records of any entity. On error
// the Txn is left unusable.
func (l *FlatLoader) Finish(known func(entity uint64) bool) error {
	if !littleEndian {
		l.swap()
	}
	if l.e.read {
		if err := l.finishEntities(); err != nil {
			return err
		}
	}
	a, err := l.arena()
	if err != nil {
		return err
	}
	cc := &coldCheck{a: a, used: l.used, cur: -1}
	perEntity := &entityCounts{}
	for i, tb := range []*table{&l.t.v.pairs, &l.t.v.verps} {
		if err := l.check(i, cc, perEntity); err != nil {
			return err
		}
		if err := build(tb, [2]string{"pair", "VERP"}[i], l.slabs[i], l.n[i], l.t.gen); err != nil {
			return err
		}
	}
	if err := cc.end(); err != nil {
		return err
	}
	if err := perEntity.known(known); err != nil {
		return err
	}
	a.next, a.live = cc.next, cc.live
	if k := len(a.chunks) - 1; k >= 0 { // the chunk the writer appends to next
		a.chunks[k] = append(a.chunks[k], make([]uint32, chunkWords-len(a.chunks[k]))...)
	}
	l.t.cold = a
	l.t.v.cold = a.view()
	perEntity.apply(l.t)
	return nil
}

// arena builds the arena's name and by/method tables from the parts.
func (l *FlatLoader) arena() (*arena, error) {
	a := newArena()
	for _, b := range l.names {
		s := string(b)
		if _, dup := a.ids[s]; dup {
			return nil, errFlat("name %q twice", s)
		}
		a.ids[s] = uint32(len(a.names))
		a.names = append(a.names, s)
	}
	for _, b := range l.provs {
		p := prov{binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])}
		if _, dup := a.provID[p]; dup || p.by >= uint32(len(a.names)) || p.method >= uint32(len(a.names)) {
			return nil, errFlat("by/method pair %d is repeated or names no name", len(a.provs))
		}
		a.provID[p] = uint32(len(a.provs))
		a.provs = append(a.provs, p)
	}
	a.chunks = l.chunks
	return a, nil
}

// check walks table i's entries in order: keys strictly increasing, flags
// known, cold records in place; it counts them per entity.
func (l *FlatLoader) check(i int, cc *coldCheck, per *entityCounts) error {
	var prev *entry
	flags := uint64(flagDomain | flagPinned)
	if i == 1 {
		flags = flagPinned
	}
	for _, slab := range l.slabs[i] {
		for j := range slab {
			e := &slab[j]
			if prev != nil && compareKeys(prev.key(), e.key()) >= 0 {
				return errFlat("entries out of key order")
			}
			prev = e
			if e.lo&flagMask&^flags != 0 {
				return errFlat("entry flags %#x", e.lo&flagMask)
			}
			if err := cc.claim(e.cold); err != nil {
				return err
			}
			per.add(e.ent)
			l.t.countFlat(i, e)
		}
	}
	return nil
}

// countFlat counts a loaded entry of table i (0 pairs, 1 VERP sources).
func (t *Txn) countFlat(i int, e *entry) {
	switch {
	case i == 1:
		t.v.counts.VerpSources++
	case e.lo&flagDomain != 0:
		t.v.counts.DomainPairs++
	default:
		t.v.counts.Pairs++
	}
}

// coldCheck follows the canonical arena's placement through the entries.
type coldCheck struct {
	a    *arena
	used []int
	next uint64 // where the next record goes
	live uint64
	cur  int // chunk of the last record, -1 before the first
}

// claim checks that the next cold record is at ref, whole and in bounds.
func (c *coldCheck) claim(ref uint32) error {
	ci, off := int(ref>>chunkBits), int(ref%chunkWords)
	if ci >= len(c.a.chunks) || off+coldHeader > c.used[ci] {
		return errFlat("cold reference %d is outside the arena", ref)
	}
	w := c.a.chunks[ci][off:c.used[ci]]
	n, err := c.textLen(w)
	if err != nil {
		return err
	}
	words := coldWords(w[coldPacked], n)
	if words > uint64(len(w)) {
		return errFlat("cold record %d runs past its part", ref)
	}
	if want := placeCold(c.next, words); want != ref {
		return errFlat("cold record at %d, the flat arena puts it at %d", ref, want)
	}
	if c.cur >= 0 && ci != c.cur && uint64(c.used[c.cur]) != c.next-uint64(c.cur)<<chunkBits {
		return errFlat("arena part %d holds words no record uses", c.cur)
	}
	c.cur, c.next = ci, uint64(ref)+words
	c.live += words
	return nil
}

// textLen decodes a cold record's header as coldView.fields does, checking
// the numbers it holds.
func (c *coldCheck) textLen(w []uint32) (int, error) {
	if pw := w[coldPacked]; pw != provWide {
		if pw>>lenBits >= uint32(len(c.a.provs)) {
			return 0, errFlat("a cold record names by/method pair %d", pw>>lenBits)
		}
		return int(pw & (1<<lenBits - 1)), nil
	}
	if len(w) < coldHeader+3 {
		return 0, errFlat("a wide cold record runs past its part")
	}
	names := uint32(len(c.a.names))
	if w[coldHeader] >= names || w[coldHeader+1] >= names || w[coldHeader+2] > maxColdText {
		return 0, errFlat("a wide cold record names no name or is too long")
	}
	return int(w[coldHeader+2]), nil
}

// end checks that the records used every arena part, and all of the last.
func (c *coldCheck) end() error {
	if c.cur < 0 {
		if len(c.a.chunks) > 0 {
			return errFlat("arena parts without records")
		}
		return nil
	}
	if c.cur != len(c.a.chunks)-1 || uint64(c.used[c.cur]) != c.next-uint64(c.cur)<<chunkBits {
		return errFlat("arena parts hold words no record uses")
	}
	return nil
}

// entityCounts counts records per entity while loading.
type entityCounts struct {
	dense  []uint32
	sparse map[uint32]uint32
}

// add counts a record of entity id.
func (c *entityCounts) add(id uint32) {
	if id < idDense {
		if int(id) >= len(c.dense) {
			c.dense = append(c.dense, make([]uint32, int(id)+1-len(c.dense))...)
		}
		c.dense[id]++
		return
	}
	if c.sparse == nil {
		c.sparse = map[uint32]uint32{}
	}
	c.sparse[id]++
}

// known checks, once per entity with records, that it exists: in ID
// order, far cheaper than a look-up per record.
func (c *entityCounts) known(exists func(uint64) bool) error {
	if exists == nil {
		return nil
	}
	for id, n := range c.dense {
		if n > 0 && !exists(uint64(id)) {
			return errFlat("a record of entity %d, which the snapshot does not hold", id)
		}
	}
	for id := range c.sparse {
		if !exists(uint64(id)) {
			return errFlat("a record of entity %d, which the snapshot does not hold", id)
		}
	}
	return nil
}

func (c *entityCounts) apply(t *Txn) {
	for id, n := range c.dense {
		if n > 0 {
			t.v.records.set(uint64(id), n, t.gen)
		}
	}
	for id, n := range c.sparse {
		t.v.records.set(uint64(id), n, t.gen)
	}
}

// build makes tb, the table called name, the table of the n sorted entries in slabs: a leaf for
// every hash prefix of at most leafMax entries whose parent holds more.
// A leaf within one slab shares its memory (capacity clipped, so a write
// copies it); one across two slabs is copied.
//
// Keys are SHA-256 bits, so n honest entries never need a leaf deeper than
// log2(n)+1: with d = bits.Len(n), 2^d > n, each d-bit prefix holds fewer
// than one entry on average, and more than leafMax of them sharing one
// (Poisson(1) ≥ 129: about e^-1/129!, under 10^-217, times 2n prefixes)
// has no real chance. Entries forged to share a long hash prefix (the
// load does not hash texts again) would make the directory 2^depth slots
// of 8 bytes, so such a file is refused at depth d+1: the directory is
// then at most max(dirSlots, 4n) slots, no more than the 32 bytes an
// entry takes in the file.
func build(tb *table, name string, slabs [][]entry, n int, gen uint64) error {
	if n == 0 {
		return nil
	}
	b := &builder{slabs: slabs, gen: gen, limit: uint8(min(63, bits.Len(uint(n))+1))}
	b.split(0, n, 0)
	if b.tooDeep {
		return errFlat("the %s table: more than %d of its %d entries share a %d-bit hash prefix (a real table never reaches that depth)", name, leafMax, n, b.limit)
	}
	depth := max(uint8(dirPageBits), b.depth)
	pages := make([]*dirPage, 1<<(depth-dirPageBits))
	for i := range pages {
		pages[i] = &dirPage{gen: gen}
	}
	slot := uint64(0)
	for _, l := range b.leaves {
		for end := slot + 1<<(depth-l.depth); slot < end; slot++ {
			pages[slot>>dirPageBits].ls[slot&(dirSlots-1)] = l
		}
	}
	tb.depth, tb.gen, tb.pages, tb.n = depth, gen, pages, n
	return nil
}

type builder struct {
	slabs   [][]entry
	gen     uint64
	leaves  []*leaf // in slot order
	depth   uint8   // the deepest leaf's
	limit   uint8   // the deepest a leaf may be
	tooDeep bool    // a leaf past limit held more than leafMax entries
}

func (b *builder) at(i int) *entry { return &b.slabs[i/FlatBlock][i%FlatBlock] }

// split makes the leaves of entries [lo, hi), which share their top depth
// hash bits.
func (b *builder) split(lo, hi int, depth uint8) {
	if hi-lo <= leafMax || depth >= b.limit {
		if hi-lo > leafMax {
			b.tooDeep = true
			return
		}
		b.leaf(lo, hi, depth)
		return
	}
	bit := 63 - depth
	mid := lo + sort.Search(hi-lo, func(i int) bool { return b.at(lo+i).hk>>bit&1 == 1 })
	b.split(lo, mid, depth+1)
	b.split(mid, hi, depth+1)
}

func (b *builder) leaf(lo, hi int, depth uint8) {
	l := &leaf{gen: b.gen, depth: depth}
	switch {
	case lo == hi:
	case lo/FlatBlock == (hi-1)/FlatBlock:
		s, end := b.slabs[lo/FlatBlock], (hi-1)%FlatBlock+1
		l.es = s[lo%FlatBlock : end : end]
	default:
		l.es = make([]entry, 0, hi-lo)
		for i := lo; i < hi; i++ {
			l.es = append(l.es, *b.at(i))
		}
	}
	l.recount()
	b.leaves = append(b.leaves, l)
	b.depth = max(b.depth, depth)
}

// swap turns the little-endian parts read on a big-endian machine into
// native entries and words.
func (l *FlatLoader) swap() {
	for _, slabs := range l.slabs {
		for _, s := range slabs {
			for i := range s {
				b := unsafe.Slice((*byte)(unsafe.Pointer(&s[i])), EntryBytes)
				s[i] = entry{hk: binary.LittleEndian.Uint64(b), lo: binary.LittleEndian.Uint64(b[8:]),
					ent: binary.LittleEndian.Uint32(b[16:]), created: binary.LittleEndian.Uint32(b[20:]),
					lastQ: binary.LittleEndian.Uint32(b[24:]), cold: binary.LittleEndian.Uint32(b[28:])}
			}
		}
	}
	for ci, c := range l.chunks {
		swapWords(c[:l.used[ci]])
	}
	for _, p := range l.e.pages {
		if p != nil {
			swapWords(unsafe.Slice((*uint32)(unsafe.Pointer(&p.v[0])), entPageBytes/4))
		}
	}
	for _, blocks := range [][][]uint32{l.e.sparse, l.e.chunks, l.e.host4} {
		for _, ws := range blocks {
			swapWords(ws)
		}
	}
}

// swapWords turns little-endian words read on a big-endian machine into
// native ones.
func swapWords(ws []uint32) {
	for i, x := range ws {
		ws[i] = binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Pointer(&x)), 4))
	}
}
