package index

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unsafe"
)

// The flat form of the pair and VERP tables is what a snapshot holds: the
// 32-byte hot entries and the cold arena's words as they sit in memory, so
// a restore reads them into place in large blocks instead of rebuilding
// records one by one (DESIGN.md, "Flat form").
//
// It is canonical: the same records give the same bytes whatever history
// built the tables (the leaf shapes, the arena's garbage and its interning
// order are not part of it). Entries come in key order (hash, digest rest,
// entity); the arena is the one a fresh index would build by adding their
// cold records in that order, pairs first, with the by/method names
// numbered in first use and every seen mark zero (the mark is local, never
// replicated). The restore builds the leaves from the sorted entries: a
// leaf for every hash prefix of at most leafMax entries whose parent prefix
// holds more, which is also what inserting them one by one gives.

// FlatPart names a part of the flat form. Parts come in this order, each
// kind as a run of one or more parts.
type FlatPart uint8

// Flat parts.
const (
	// FlatPairs is a block of pair entries, FlatBlock of them but the last.
	FlatPairs FlatPart = iota + 1
	// FlatVerps is a block of VERP source entries.
	FlatVerps
	// FlatName is one name (a By or Method value) of the arena's table.
	FlatName
	// FlatProv is one by/method pair: two little-endian uint32 name numbers.
	FlatProv
	// FlatArena is one arena chunk's used words, little endian.
	FlatArena
	// FlatEntHot is a page of idSlots entity hot entries by ID (created,
	// last queried, cold reference: uint32 little endian each), pages from
	// the first to the last holding an entity; a page without one is an
	// empty part. The entity parts come before the pairs'.
	FlatEntHot
	// FlatEntSparse is a block of entities with IDs past the pages: ID and
	// hot entry, in ID order.
	FlatEntSparse
	// FlatEntArena is one chunk of the entities' arena, its used words.
	FlatEntArena
	// FlatHost4 is a block of Host4Block IPv4 /32 members (the last one
	// fewer) in key order: their keys, then their entity IDs.
	FlatHost4
)

// Written reports whether the query path writes into parts of kind p:
// the arenas' cold records hold the seen marks (Ref.MarkSeen,
// EntityRef.MarkSeen) that positive answers store. Alias keeps them in
// place like the others; a caller serving from a private file mapping
// should have their pages copied in before queries come (a first write
// into each page is a copy-on-write fault).
func (p FlatPart) Written() bool { return p == FlatArena || p == FlatEntArena }

// order is where parts of kind p come in the flat form: the entities'
// kinds first.
func (p FlatPart) order() int {
	if p >= FlatEntHot {
		return int(p - FlatEntHot)
	}
	return int(p) + int(FlatHost4-FlatEntHot)
}

// Sizes of the flat form.
const (
	// EntryBytes is the size of one entry: hk, lo (uint64), entity,
	// created, last queried, cold (uint32), little endian, in that order.
	EntryBytes = int(unsafe.Sizeof(entry{}))
	// FlatBlock is how many entries a FlatPairs or FlatVerps part holds
	// (the last one of its kind fewer): 1 MiB.
	FlatBlock = 1 << 15
	// MaxFlatPart is the largest part the flat form holds, in bytes.
	MaxFlatPart = FlatBlock * EntryBytes
	provBytes   = 8
	maxName     = 1 << 16
	// maxNames bounds the names and by/method pairs a flat form may hold,
	// so that many tiny parts cannot make a load allocate far more than
	// it reads.
	maxNames = 1 << 20
)

// littleEndian reports whether entries are laid out in memory as in the
// flat form, so blocks can be copied to and from memory as they are.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// WriteFlat calls emit with v's entities and pair and VERP tables in flat
// form, one part at a time, and stops at emit's first error. The bytes
// emit gets are only valid until it returns.
func (v *View) WriteFlat(emit func(FlatPart, []byte) error) error {
	if err := (&flatEntWriter{v: v, emit: emit}).write(); err != nil {
		return err
	}
	fw := &flatWriter{cv: &v.cold, emit: emit, nameID: map[uint32]uint32{0: 0}, names: []string{""},
		provs: []prov{{}}, provID: map[prov]uint32{{}: 0}, provOf: make([]uint32, len(v.cold.provs))}
	for i := range fw.provOf {
		fw.provOf[i] = noProv
	}
	fw.entries(&v.pairs, FlatPairs)
	fw.entries(&v.verps, FlatVerps)
	for _, n := range fw.names[1:] {
		fw.put(FlatName, []byte(n))
	}
	for _, p := range fw.provs[1:] {
		fw.put(FlatProv, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, p.by), p.method))
	}
	fw.arena(&v.pairs, &v.verps)
	return fw.err
}

// noProv marks a View by/method number not numbered in the flat form yet.
const noProv = ^uint32(0)

// flatWriter renumbers the cold records into the canonical arena as it
// writes; the first error sticks.
type flatWriter struct {
	cv     *coldView
	emit   func(FlatPart, []byte) error
	names  []string
	nameID map[uint32]uint32 // the View's name number → the flat one
	provs  []prov
	provID map[prov]uint32
	provOf []uint32 // the View's by/method number → the flat one, or noProv
	next   uint64   // where the next cold record goes in the flat arena
	buf    []byte
	hdr    []uint32 // the View's header word of each entry of a leaf
	err    error
}

func (fw *flatWriter) put(part FlatPart, b []byte) {
	if fw.err == nil {
		fw.err = fw.emit(part, b)
	}
}

// entries writes tb's entries in key order, their cold references
// pointing into the flat arena.
func (fw *flatWriter) entries(tb *table, part FlatPart) {
	fw.buf = slices.Grow(fw.buf[:0], MaxFlatPart)
	eachSorted(tb, func(es []entry) {
		fw.headers(es)
		for i := range es {
			_, words := fw.flatHeader(&es[i], fw.hdr[i])
			ne := es[i]
			ne.cold = fw.place(words)
			fw.buf = appendEntry(fw.buf, &ne)
			if len(fw.buf) == MaxFlatPart {
				fw.put(part, fw.buf)
				fw.buf = fw.buf[:0]
			}
		}
	})
	if len(fw.buf) > 0 {
		fw.put(part, fw.buf)
	}
}

// headers reads the header word of each of es's cold records into fw.hdr,
// in a loop of independent loads: the records lie scattered over the
// arena, and a load each per entry, among the rest of the work, would
// wait for one cache miss at a time.
func (fw *flatWriter) headers(es []entry) {
	fw.hdr = slices.Grow(fw.hdr[:0], len(es))[:len(es)]
	chunks := fw.cv.chunks
	for i := range es {
		ref := es[i].cold
		fw.hdr[i] = chunks[ref>>chunkBits][ref%chunkWords+coldPacked]
	}
}

// flatHeader returns the flat header word and size of e's cold record,
// whose header word in the View is h.
func (fw *flatWriter) flatHeader(e *entry, h uint32) (uint32, uint64) {
	var n int
	var id uint32
	if h != provWide {
		n = int(h & (1<<lenBits - 1))
		if id = fw.provOf[h>>lenBits]; id == noProv {
			id = fw.flatProv(fw.cv.provs[h>>lenBits])
			fw.provOf[h>>lenBits] = id
		}
	} else {
		var p prov
		p, n, _ = fw.cv.fields(fw.cv.record(e.cold))
		id = fw.flatProv(p)
	}
	pw := packed(id, n)
	return pw, coldWords(pw, n)
}

// flatProv returns the flat number of the View's by/method pair p,
// numbering it if new.
func (fw *flatWriter) flatProv(p prov) uint32 {
	np := prov{fw.name(p.by), fw.name(p.method)}
	id, ok := fw.provID[np]
	if !ok {
		id = uint32(len(fw.provs))
		fw.provs = append(fw.provs, np)
		fw.provID[np] = id
	}
	return id
}

// name returns the flat number of the View's name number id.
func (fw *flatWriter) name(id uint32) uint32 {
	n, ok := fw.nameID[id]
	if !ok {
		n = uint32(len(fw.names))
		fw.names = append(fw.names, fw.cv.names[id])
		fw.nameID[id] = n
	}
	return n
}

// place returns where a cold record of n words goes in the flat arena,
// the way arena.add places it.
func (fw *flatWriter) place(n uint64) uint32 {
	ref := placeCold(fw.next, n)
	fw.next = uint64(ref) + n
	return ref
}

// placeCold is where arena.add puts a record of n words when the next free
// word is next: there, or at the start of the next chunk when it would
// cross a chunk's end.
func placeCold(next, n uint64) uint32 {
	ci, off := next>>chunkBits, next%chunkWords
	if off+n > chunkWords {
		ci, off = ci+1, 0
	}
	return uint32(ci<<chunkBits | off)
}

// arena writes the flat arena chunk by chunk: the cold records of the
// tables' entries, in the order entries placed them.
func (fw *flatWriter) arena(tables ...*table) {
	fw.next = 0
	chunk := make([]uint32, 0, chunkWords)
	var ci uint64
	for _, tb := range tables {
		eachSorted(tb, func(es []entry) {
			fw.headers(es) // the loads that bring the records into the cache
			for i := range es {
				pw, words := fw.flatHeader(&es[i], fw.hdr[i])
				if ref := uint64(fw.place(words)); ref>>chunkBits != ci {
					fw.put(FlatArena, wordBytes(chunk))
					chunk, ci = chunk[:0], ref>>chunkBits
				}
				chunk = appendCold(chunk, fw.cv, fw.cv.record(es[i].cold), pw, fw.name)
			}
		})
	}
	if len(chunk) > 0 {
		fw.put(FlatArena, wordBytes(chunk))
	}
}

// appendCold appends the flat form of the cold record w: seen zero, its
// update time, header word pw, the by/method names when wide, the text.
func appendCold(chunk []uint32, cv *coldView, w []uint32, pw uint32, name func(uint32) uint32) []uint32 {
	p, n, at := cv.fields(w)
	chunk = append(chunk, 0, w[coldUpdated], pw)
	if pw == provWide {
		chunk = append(chunk, name(p.by), name(p.method), uint32(n))
	}
	return append(chunk, w[at:at+(n+3)/4]...)
}

// wordBytes returns the little-endian bytes of ws, sharing ws's memory on
// a little-endian machine.
func wordBytes(ws []uint32) []byte {
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(ws))), 4*len(ws))
	}
	b := make([]byte, 0, 4*len(ws))
	for _, x := range ws {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

func appendEntry(b []byte, e *entry) []byte {
	b = binary.LittleEndian.AppendUint64(b, e.hk)
	b = binary.LittleEndian.AppendUint64(b, e.lo)
	b = binary.LittleEndian.AppendUint32(b, e.ent)
	b = binary.LittleEndian.AppendUint32(b, e.created)
	b = binary.LittleEndian.AppendUint32(b, e.lastQ)
	return binary.LittleEndian.AppendUint32(b, e.cold)
}

// eachSorted calls fn with each leaf's entries of tb in key order, leaf
// by leaf. Leaves in slot order are sorted by hash; entries of one hash
// (one leaf) are put in order. fn must not keep or change es.
func eachSorted(tb *table, fn func(es []entry)) {
	var tie []entry
	tb.eachLeaf(func(l *leaf) bool {
		es := l.es
		for j := 1; j < len(es); j++ {
			if es[j].hk == es[j-1].hk {
				tie = append(tie[:0], es...)
				slices.SortFunc(tie, func(a, b entry) int { return compareKeys(a.key(), b.key()) })
				es = tie
				break
			}
		}
		fn(es)
		return true
	})
}

// errFlat is a flat form that does not hold together.
func errFlat(format string, args ...any) error {
	return fmt.Errorf("flat tables: "+format, args...)
}
