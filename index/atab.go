package index

import (
	"math/bits"
	"unsafe"
)

// atab is a map from fixed-width hash keys to small pointer-free values,
// the shape of the address tables: keys in sorted leaves under an
// extendible-hash directory, as the pair table (table.go), without the
// pair table's expiry and seen bookkeeping. Keys and values sit in two
// arrays per leaf, so a /32 relay costs its 4-byte key and 4-byte ID.
//
// Several values may share a key (a hash that is not one-to-one); they sit
// side by side, and the caller tells them apart (run, and the same func of
// put and remove).
//
// Copy-on-write by generation, as the pair table: a writer whose min is m
// writes in place every node of generation ≥ m and copies the others.
type atab[K akey, V any] struct {
	depth uint8
	gen   uint64 // of the pages slice
	pages []*apage[K, V]
	n     int
}

// akey is the type of an atab's keys; the directory serves them by their
// top bits.
type akey interface{ ~uint32 | ~uint64 }

type apage[K akey, V any] struct {
	gen uint64
	ls  [dirSlots]*aleaf[K, V]
}

type aleaf[K akey, V any] struct {
	gen   uint64
	depth uint8
	ks    []K // sorted
	vs    []V
}

// aleafMax is the most entries a leaf holds before it splits, unless the
// directory is as deep as maxDirDepth allows.
const aleafMax = 256

// maxDirDepth is the deepest directory a table of n entries gets: at most
// max(dirSlots, 4n) slots. Keys that share more top bits than that leaves
// room for — chosen or forged ones: spread keys stay far below it — stay
// in one long leaf, searched by halving like any other, instead of
// doubling the directory once per shared bit (257 keys sharing 23 bits
// made 2^24 slots, 128 MiB).
func maxDirDepth(n int) uint8 { return max(dirPageBits, uint8(bits.Len(uint(n)))+1) }

func keyBits[K akey]() uint8 {
	var k K
	return uint8(unsafe.Sizeof(k) * 8)
}

func (tb *atab[K, V]) slot(k K) uint64 { return uint64(k) >> (keyBits[K]() - tb.depth) }

func (tb *atab[K, V]) leafAt(i uint64) *aleaf[K, V] {
	return tb.pages[i>>dirPageBits].ls[i&(dirSlots-1)]
}

// run returns the values with key k; they share the table's memory. It
// allocates nothing.
func (tb *atab[K, V]) run(k K) []V {
	if tb.pages == nil {
		return nil
	}
	l := tb.leafAt(tb.slot(k))
	i := searchKeys(l.ks, k)
	j := i
	for j < len(l.ks) && l.ks[j] == k {
		j++
	}
	return l.vs[i:j]
}

// searchKeys returns the position of the first key of ks ≥ k.
func searchKeys[K akey](ks []K, k K) int {
	lo, hi := 0, len(ks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ks[m] < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// aw writes an atab on behalf of one transaction.
type aw[K akey, V any] struct {
	tb  *atab[K, V]
	min uint64 // nodes with gen ≥ min are the writer's own
	gen uint64 // gen given to the nodes it creates
}

func (w aw[K, V]) owns(gen uint64) bool { return gen >= w.min }

func (w aw[K, V]) init() {
	if w.tb.pages != nil {
		return
	}
	p := &apage[K, V]{gen: w.gen}
	l := &aleaf[K, V]{gen: w.gen}
	for i := range p.ls {
		p.ls[i] = l
	}
	w.tb.pages, w.tb.gen, w.tb.depth = []*apage[K, V]{p}, w.gen, dirPageBits
}

// page returns directory page pi ready for writing.
func (w aw[K, V]) page(pi uint64) *apage[K, V] {
	tb := w.tb
	if !w.owns(tb.gen) {
		tb.pages = append([]*apage[K, V](nil), tb.pages...)
		tb.gen = w.gen
	}
	if p := tb.pages[pi]; !w.owns(p.gen) {
		np := *p
		np.gen = w.gen
		tb.pages[pi] = &np
	}
	return tb.pages[pi]
}

// point points the slots that leaf l, found at slot i, serves at nl (the
// slots of depth-d leaf are 1<<(depth-d) neighbours).
func (w aw[K, V]) point(i uint64, depth uint8, nl *aleaf[K, V]) {
	sh := w.tb.depth - depth
	start := i >> sh << sh
	for s := start; s < start+1<<sh; s++ {
		w.page(s >> dirPageBits).ls[s&(dirSlots-1)] = nl
	}
}

// own returns the leaf serving k ready for writing.
func (w aw[K, V]) own(k K) *aleaf[K, V] {
	w.init()
	i := w.tb.slot(k)
	l := w.tb.leafAt(i)
	if w.owns(l.gen) {
		return l
	}
	nl := &aleaf[K, V]{gen: w.gen, depth: l.depth,
		ks: append(make([]K, 0, len(l.ks)+1), l.ks...), vs: append(make([]V, 0, len(l.vs)+1), l.vs...)}
	w.point(i, l.depth, nl)
	return nl
}

// put stores v under k, replacing the value of k that same reports equal
// to v, if any.
func (w aw[K, V]) put(k K, v V, same func(a, b V) bool) {
	l := w.own(k)
	j := searchKeys(l.ks, k)
	for ; j < len(l.ks) && l.ks[j] == k; j++ {
		if same(l.vs[j], v) {
			l.vs[j] = v
			return
		}
	}
	l.ks = insertAt(l.ks, j, k)
	l.vs = insertAt(l.vs, j, v)
	w.tb.n++
	if len(l.ks) > aleafMax {
		w.split(l, w.tb.slot(k))
	}
}

func insertAt[T any](s []T, j int, x T) []T {
	if len(s) == cap(s) {
		grown := make([]T, len(s), len(s)+len(s)/8+2)
		copy(grown, s)
		s = grown
	}
	s = s[:len(s)+1]
	copy(s[j+1:], s[j:])
	s[j] = x
	return s
}

// remove deletes the value of k that match reports, if any.
func (w aw[K, V]) remove(k K, match func(V) bool) bool {
	if !anyOf(w.tb.run(k), match) {
		return false
	}
	l := w.own(k)
	j := searchKeys(l.ks, k)
	for !match(l.vs[j]) {
		j++
	}
	l.ks = append(l.ks[:j], l.ks[j+1:]...)
	l.vs = append(l.vs[:j], l.vs[j+1:]...)
	w.tb.n--
	return true
}

func anyOf[V any](vs []V, match func(V) bool) bool {
	for _, v := range vs {
		if match(v) {
			return true
		}
	}
	return false
}

// split divides l, found at slot i, by its next key bit.
func (w aw[K, V]) split(l *aleaf[K, V], i uint64) {
	if l.depth >= keyBits[K]()-1 || l.depth == w.tb.depth && w.tb.depth >= maxDirDepth(w.tb.n) {
		return // the keys share all but one bit, or too many: leave the leaf long
	}
	if l.depth == w.tb.depth {
		w.double()
		i <<= 1
	}
	bit := keyBits[K]() - 1 - l.depth
	cut := len(l.ks)
	for j, k := range l.ks { // sorted: the keys with the bit set come last
		if uint64(k)>>bit&1 == 1 {
			cut = j
			break
		}
	}
	half := func(from, to int) *aleaf[K, V] {
		return &aleaf[K, V]{gen: w.gen, depth: l.depth + 1,
			ks: append([]K(nil), l.ks[from:to]...), vs: append([]V(nil), l.vs[from:to]...)}
	}
	left, right := half(0, cut), half(cut, len(l.ks))
	sh := w.tb.depth - l.depth
	start := i >> sh << sh
	w.point(start, left.depth, left)
	w.point(start+1<<(sh-1), right.depth, right)
	for _, c := range []struct {
		l *aleaf[K, V]
		i uint64
	}{{left, start}, {right, start + 1<<(sh-1)}} {
		if len(c.l.ks) > aleafMax {
			w.split(c.l, c.i)
		}
	}
}

// double doubles the directory: slot i of the new one serves what slot
// i/2 of the old one did.
func (w aw[K, V]) double() {
	tb := w.tb
	pages := make([]*apage[K, V], 2*len(tb.pages))
	for pi := range pages {
		p := &apage[K, V]{gen: w.gen}
		for j := range p.ls {
			p.ls[j] = tb.leafAt((uint64(pi)<<dirPageBits | uint64(j)) >> 1)
		}
		pages[pi] = p
	}
	tb.pages, tb.gen = pages, w.gen
	tb.depth++
}
