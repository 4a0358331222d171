package index

import (
	"encoding/binary"
	"unsafe"
)

// The flat form of the entities (DESIGN.md, "Flat form"), written before
// the pair tables: their hot entries by ID, their cold records in a
// canonical arena, and the IPv4 /32 address table, each as it sits in
// memory, so a restore reads them into place instead of putting entities
// one by one. The other member prefixes (a group's CIDRs, IPv6) are few
// and rebuilt from the cold records.
//
// Canonical, as the pairs' form: hot pages in ID order with each cold
// reference renumbered into the arena a fresh index builds by adding the
// entities' cold records in ID order (compactEntities' arena), seen marks
// zero, the /32 table in key order.

// Sizes of the entities' flat form.
const (
	// EntHotBytes is the size of an entity's hot entry: created, last
	// queried and the cold reference, uint32 little endian each.
	EntHotBytes = int(unsafe.Sizeof(entHot{}))
	// entPageBytes is a FlatEntHot part holding a page of entries.
	entPageBytes = idSlots * EntHotBytes
	// entSparseBytes is one FlatEntSparse entry: the ID, then the hot entry.
	entSparseBytes = 4 + EntHotBytes
	// Host4Block is how many /32 members a FlatHost4 part holds (the
	// last one fewer): their keys, then their entity IDs.
	Host4Block = 1 << 17
)

// flatEntWriter writes the entities' parts; the first error sticks.
type flatEntWriter struct {
	v    *View
	emit func(FlatPart, []byte) error
	err  error
}

func (w *flatEntWriter) put(part FlatPart, b []byte) {
	if w.err == nil {
		w.err = w.emit(part, b)
	}
}

// write emits the hot pages, the sparse IDs, the arena and the /32 table.
func (w *flatEntWriter) write() error {
	w.hot()
	w.arena()
	w.host4()
	return w.err
}

// entityPlacer follows the canonical entity arena: word 0 unused, then
// each record where arena.reserve puts it.
type entityPlacer struct{ next uint64 }

func newEntityPlacer() entityPlacer { return entityPlacer{next: 1} }

func (p *entityPlacer) place(words uint64) uint32 {
	ref := placeCold(p.next, words)
	p.next = uint64(ref) + words
	return ref
}

// hot writes the dense pages, from page 0 to the last one holding an
// entity (a page with none is an empty part), then the sparse IDs in
// blocks, each hot entry's cold reference renumbered.
func (w *flatEntWriter) hot() {
	pl := newEntityPlacer()
	renumber := func(h entHot) entHot {
		h.cold = pl.place(entityWords(w.v.ecold.record(h.cold)))
		return h
	}
	var zero entHot
	pages := w.v.entities.pages
	last := len(pages) - 1
	for last >= 0 && (pages[last] == nil || pages[last].v == [idSlots]entHot{}) {
		last--
	}
	var page [idSlots]entHot
	for _, p := range pages[:last+1] {
		if p == nil || p.v == [idSlots]entHot{} {
			w.put(FlatEntHot, nil)
			continue
		}
		for i, h := range p.v {
			page[i] = h
			if h != zero {
				page[i] = renumber(h)
			}
		}
		w.put(FlatEntHot, hotBytes(page[:]))
	}
	var buf []byte
	w.v.entities.each(func(id uint64, h entHot) bool {
		if id < idDense {
			return true
		}
		h = renumber(h)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(id))
		buf = appendHot(buf, h)
		if len(buf) == MaxFlatPart/entSparseBytes*entSparseBytes {
			w.put(FlatEntSparse, buf)
			buf = buf[:0]
		}
		return true
	})
	if len(buf) > 0 {
		w.put(FlatEntSparse, buf)
	}
}

// arena writes the canonical entity arena chunk by chunk: word 0, then
// each entity's cold record (seen zero) in ID order. A chunk no record
// uses (before a record longer than a chunk) is an empty part; such a
// record runs on over whole chunks, as reserve lays it out.
func (w *flatEntWriter) arena() {
	if w.v.counts.Entities == 0 {
		return
	}
	pl := newEntityPlacer()
	chunk := append(make([]uint32, 0, chunkWords), 0)
	var ci uint64
	w.v.entities.each(func(_ uint64, h entHot) bool {
		rec := w.v.ecold.record(h.cold)
		n := entityWords(rec)
		ref := uint64(pl.place(n))
		for ; ci < ref>>chunkBits; ci++ {
			w.put(FlatEntArena, wordBytes(chunk))
			chunk = chunk[:0]
		}
		chunk = append(chunk, 0, rec[entUpdated])
		chunk = append(chunk, rec[entHeader:n]...)
		for len(chunk) > chunkWords { // a record longer than a chunk
			w.put(FlatEntArena, wordBytes(chunk[:chunkWords]))
			chunk = append(chunk[:0], chunk[chunkWords:]...)
			ci++
		}
		return true
	})
	w.put(FlatEntArena, wordBytes(chunk))
}

// host4 writes the /32 table in key order, Host4Block entries a part:
// their keys, then their IDs.
func (w *flatEntWriter) host4() {
	keys := make([]uint32, 0, Host4Block)
	ids := make([]uint32, 0, Host4Block)
	flush := func() {
		if len(keys) > 0 {
			w.put(FlatHost4, append(append(make([]byte, 0, 8*len(keys)), wordBytes(keys)...), wordBytes(ids)...))
			keys, ids = keys[:0], ids[:0]
		}
	}
	w.v.host4.eachLeaf(func(l *aleaf[uint32, uint32]) {
		for i, k := range l.ks {
			keys, ids = append(keys, k), append(ids, l.vs[i])
			if len(keys) == Host4Block {
				flush()
			}
		}
	})
	flush()
}

// eachLeaf calls fn for every leaf once, in slot order (so keys come in
// order).
func (tb *atab[K, V]) eachLeaf(fn func(*aleaf[K, V])) {
	var prev *aleaf[K, V]
	for _, p := range tb.pages {
		for _, l := range p.ls {
			if l != prev {
				fn(l)
				prev = l
			}
		}
	}
}

// hotBytes is the flat form of hot entries, sharing hs's memory on a
// little-endian machine.
func hotBytes(hs []entHot) []byte {
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(hs))), EntHotBytes*len(hs))
	}
	b := make([]byte, 0, EntHotBytes*len(hs))
	for _, h := range hs {
		b = appendHot(b, h)
	}
	return b
}

func appendHot(b []byte, h entHot) []byte {
	b = binary.LittleEndian.AppendUint32(b, h.created)
	b = binary.LittleEndian.AppendUint32(b, h.lastQ)
	return binary.LittleEndian.AppendUint32(b, h.cold)
}
