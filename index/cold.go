package index

import (
	"sync/atomic"
	"unsafe"
)

// The cold part of a record is what DNS does not read: its key text, who
// verified it and how, when it was last updated, and the local seen mark.
// Cold records live in an append-only arena of 32-bit words, in chunks that
// never move, so a published View can read any record it references while
// the writer appends after it. A cold record is never changed once written,
// except its seen word, which is atomic.
//
// Layout, in words: seen, updated, then one word packing the record's
// provenance (its by/method pair, interned, 20 bits) and the text's length
// (12 bits), then the text's bytes, packed: 12 bytes and the text. A
// provenance or a length too large for its bits is written as provWide,
// followed by by, method and length words. Times are Unix seconds in 32
// bits (clampTime).
const (
	chunkBits   = 16
	chunkWords  = 1 << chunkBits
	coldSeen    = 0
	coldUpdated = 1
	coldPacked  = 2
	coldHeader  = 3
	lenBits     = 12
	provWide    = 1<<32 - 1
	// maxColdText is the longest pair or VERP text kept (senders are far
	// shorter); an entity's text may be longer and takes chunks of its own.
	maxColdText = 4 * (chunkWords - coldHeader - 3)
)

// arena is the writer's side of the cold store. Only the single writer
// touches it; a View sees it through a coldView, the headers as they were
// when the View was last written.
type arena struct {
	chunks [][]uint32
	next   uint64 // word index of the next record
	names  []string
	ids    map[string]uint32
	provs  []prov
	provID map[prov]uint32
	// live and dead count the words of referenced and of replaced or
	// deleted records.
	live, dead uint64
	// compactAt is the garbage, in words, past which a commit compacts
	// (compact.go); compactions counts them.
	compactAt   uint64
	compactions int
}

// prov is a by/method pair, as numbers in the name table.
type prov struct{ by, method uint32 }

// coldView is what a View reads of the arena.
type coldView struct {
	chunks [][]uint32
	names  []string
	provs  []prov
}

func newArena() *arena {
	return &arena{names: []string{""}, ids: map[string]uint32{"": 0}, provs: []prov{{}}, provID: map[prov]uint32{{}: 0},
		compactAt: compactMinWords}
}

func (a *arena) view() coldView { return coldView{chunks: a.chunks, names: a.names, provs: a.provs} }

// intern returns the number of s in the name table, adding it if new.
func (a *arena) intern(s string) uint32 {
	if id, ok := a.ids[s]; ok {
		return id
	}
	id := uint32(len(a.names))
	a.names = append(a.names, s)
	a.ids[s] = id
	return id
}

// provenance returns the number of the by/method pair, adding it if new.
func (a *arena) provenance(by, method string) (prov, uint32) {
	p := prov{a.intern(by), a.intern(method)}
	id, ok := a.provID[p]
	if !ok {
		id = uint32(len(a.provs))
		a.provs = append(a.provs, p)
		a.provID[p] = id
	}
	return p, id
}

// packed is the header word for provenance id and a text of n bytes, or
// provWide when either does not fit.
func packed(id uint32, n int) uint32 {
	if id >= provWide>>lenBits || n >= 1<<lenBits-1 {
		return provWide
	}
	return id<<lenBits | uint32(n)
}

func coldWords(packedWord uint32, textLen int) uint64 {
	n := uint64(coldHeader + (textLen+3)/4)
	if packedWord == provWide {
		n += 3
	}
	return n
}

// add appends a cold record and returns its word index.
func (a *arena) add(seen int64, updated int64, by, method, text string) uint32 {
	p, id := a.provenance(by, method)
	pw := packed(id, len(text))
	n := coldWords(pw, len(text))
	ref := a.reserve(n)
	w := a.chunks[ref>>chunkBits][ref%chunkWords:][:n]
	w[coldSeen] = clampTime(seen)
	w[coldUpdated] = clampTime(updated)
	w[coldPacked] = pw
	at := coldHeader
	if pw == provWide {
		w[at], w[at+1], w[at+2] = p.by, p.method, uint32(len(text))
		at += 3
	}
	if len(text) > 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&w[at])), len(text)), text)
	}
	a.next = ref + n
	a.live += n
	return uint32(ref)
}

// reserve returns the word index where a record of n words goes: after
// the last one, or in the next chunk when it does not fit. A record longer
// than a chunk (a group with thousands of members) gets chunks of its own,
// cut from one array, so that its words are contiguous: the entry of each
// of those chunks is the rest of the array from the chunk on.
func (a *arena) reserve(n uint64) uint64 {
	ci, off := a.next>>chunkBits, a.next%chunkWords
	if off+n > chunkWords {
		ci, off = ci+1, 0
	}
	if ci<<chunkBits+n > 1<<32 {
		panic("index: cold arena beyond 16 GiB")
	}
	for ci > uint64(len(a.chunks)) {
		a.chunks = append(a.chunks, make([]uint32, chunkWords))
	}
	if ci == uint64(len(a.chunks)) {
		k := max((n+chunkWords-1)/chunkWords, 1)
		big := make([]uint32, k*chunkWords)
		for i := range k {
			a.chunks = append(a.chunks, big[i*chunkWords:])
		}
	}
	return ci<<chunkBits | off
}

// drop counts the record at ref as garbage.
func (a *arena) drop(c coldView, ref uint32) {
	w := c.record(ref)
	_, n, _ := c.fields(w)
	words := coldWords(w[coldPacked], n)
	a.live -= words
	a.dead += words
}

// record returns the words of the cold record at ref, from its first word
// to the end of its chunk.
func (c *coldView) record(ref uint32) []uint32 {
	return c.chunks[ref>>chunkBits][ref%chunkWords:]
}

// fields decodes a cold record's header: its provenance, its text's length
// and the word the text starts at.
func (c *coldView) fields(w []uint32) (p prov, n int, at int) {
	if pw := w[coldPacked]; pw != provWide {
		return c.provs[pw>>lenBits], int(pw & (1<<lenBits - 1)), coldHeader
	}
	return prov{w[coldHeader], w[coldHeader+1]}, int(w[coldHeader+2]), coldHeader + 3
}

// text returns a cold record's text; the string shares the arena.
func (c *coldView) text(w []uint32) string {
	_, n, at := c.fields(w)
	if n == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Pointer(&w[at])), n)
}

func coldSeenWord(w []uint32) *uint32 { return &w[coldSeen] }

// markSeen raises the seen word to now and reports whether it moved.
func markSeen(w []uint32, now int64) bool {
	p := coldSeenWord(w)
	if t := clampTime(now); atomic.LoadUint32(p) < t {
		atomic.StoreUint32(p, t)
		return true
	}
	return false
}

func loadSeen(w []uint32) int64 { return int64(atomic.LoadUint32(coldSeenWord(w))) }

// clampTime keeps a Unix time in the 32 bits a record stores (1970–2106).
func clampTime(t int64) uint32 {
	switch {
	case t < 0:
		return 0
	case t > 1<<32-1:
		return 1<<32 - 1
	}
	return uint32(t)
}
