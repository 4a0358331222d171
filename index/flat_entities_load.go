package index

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sort"
	"unsafe"
)

// entLoad holds the entities' parts a FlatLoader has read: hot pages read
// straight into the pages the View keeps, arena parts into its chunks,
// /32 parts into the leaves' key and ID arrays.
type entLoad struct {
	read   bool // any entity part came
	pages  []*idPage[entHot]
	sparse [][]uint32 // blocks of ID, created, last queried, cold
	chunks [][]uint32
	used   []int
	host4  [][]uint32 // each: its keys, then as many IDs
	// emptyBefore says the previous arena part was empty: the part after
	// one must be a whole chunk (the start of a record longer than one).
	emptyBefore bool
}

// entityPart returns the memory an entity part of n bytes is read into.
func (l *FlatLoader) entityPart(part FlatPart, n int) ([]byte, error) {
	e := &l.e
	e.read = true
	switch part {
	case FlatEntHot:
		if len(e.pages) >= idDense/idSlots {
			return nil, errFlat("more than %d entity pages", idDense/idSlots)
		}
		if n == 0 {
			e.pages = append(e.pages, nil)
			return nil, nil
		}
		if n != entPageBytes {
			return nil, errFlat("an entity page of %d bytes", n)
		}
		p := &partMem[idPage[entHot]](l.src, 1)[0]
		e.pages = append(e.pages, p)
		return unsafe.Slice((*byte)(unsafe.Pointer(&p.v[0])), n), nil
	case FlatEntSparse:
		if n == 0 || n%entSparseBytes != 0 || n > MaxFlatPart {
			return nil, errFlat("a sparse entity block of %d bytes", n)
		}
		if k := len(e.sparse); k > 0 && 4*len(e.sparse[k-1]) != MaxFlatPart {
			return nil, errFlat("a sparse entity block after a short one")
		}
		return e.words(&e.sparse, l.src, n), nil
	case FlatEntArena:
		if n%4 != 0 || n > 4*chunkWords || e.emptyBefore && n != 4*chunkWords {
			return nil, errFlat("an entity arena part of %d bytes", n)
		}
		e.emptyBefore = n == 0
		e.used = append(e.used, n/4)
		if n == 0 {
			e.chunks = append(e.chunks, nil)
			return nil, nil
		}
		return e.words(&e.chunks, l.src, n), nil
	}
	if n == 0 || n%8 != 0 || n > 8*Host4Block {
		return nil, errFlat("a /32 block of %d bytes", n)
	}
	if k := len(e.host4); k > 0 && len(e.host4[k-1]) != 2*Host4Block {
		return nil, errFlat("a /32 block after a short one")
	}
	return e.words(&e.host4, l.src, n), nil
}

// words appends a block of n bytes to blocks, src's (Alias) or new, and
// returns its memory.
func (e *entLoad) words(blocks *[][]uint32, src []byte, n int) []byte {
	w := partMem[uint32](src, n/4)
	*blocks = append(*blocks, w)
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), n)
}

// finishEntities checks the entity parts read and makes them the Txn's
// entities: every hot entry's cold record where the canonical arena puts
// it, its text whole and well formed, each /32 member found in the /32
// table under its entity and no other entry there, no prefix of two
// entities. The other member prefixes are put into their table.
func (l *FlatLoader) finishEntities() error {
	t, e := l.t, &l.e
	if t.v.counts.Entities != 0 {
		return errFlat("entity parts into an index holding entities")
	}
	if err := buildHost4(&t.v.host4, e.host4, t.gen); err != nil {
		return err
	}
	a := newEntityArena()
	a.chunks = e.chunks
	c := &entCheck{t: t, a: a, used: e.used, next: 1, host4: make([]uint64, 0, t.v.host4.n)}
	if len(a.chunks) > 0 && (e.used[0] == 0 || a.chunks[0][0] != 0) {
		return errFlat("the entity arena's word 0 is not zero")
	}
	t.v.entities = byID[entHot]{gen: t.gen, pages: e.pages, gens: make([]uint64, len(e.pages))}
	for i := range t.v.entities.gens {
		t.v.entities.gens[i] = t.gen
	}
	for pi, p := range e.pages {
		if p == nil {
			continue
		}
		for j, h := range p.v {
			if err := c.entity(uint64(pi)<<idBits|uint64(j), h); err != nil {
				return err
			}
		}
	}
	if err := l.sparseEntities(c); err != nil {
		return err
	}
	if err := c.end(); err != nil {
		return err
	}
	if err := c.sameHost4(e.host4); err != nil {
		return err
	}
	a.next, a.live = c.next, c.live
	if k := len(a.chunks) - 1; k >= 0 { // the chunk the writer appends to next
		a.chunks[k] = append(a.chunks[k][:len(a.chunks[k]):len(a.chunks[k])], make([]uint32, chunkWords-e.used[k])...)
	}
	t.ecold = a
	t.v.ecold = a.view()
	return nil
}

// sparseEntities checks and keeps the entities with IDs past the pages.
func (l *FlatLoader) sparseEntities(c *entCheck) error {
	prev := uint64(idDense - 1)
	for _, b := range l.e.sparse {
		for i := 0; i < len(b); i += 4 {
			id, h := uint64(b[i]), entHot{created: b[i+1], lastQ: b[i+2], cold: b[i+3]}
			if id <= prev || h.cold == 0 {
				return errFlat("sparse entity %d out of order or without a record", id)
			}
			prev = id
			if err := c.entity(id, h); err != nil {
				return err
			}
			c.t.v.entities.set(id, h, c.t.gen)
		}
	}
	return nil
}

// entCheck follows the canonical entity arena through the entities in ID
// order, as coldCheck does for the pairs'.
type entCheck struct {
	t    *Txn
	a    *arena
	used []int
	next uint64 // where the next record goes
	live uint64
	cur  int // chunk of the last record
	// host4 are the /32 members seen, as their key in the top 32 bits and
	// their entity's ID below.
	host4 []uint64
}

// entity checks entity id's hot entry, cold record and member prefixes.
func (c *entCheck) entity(id uint64, h entHot) error {
	if h.cold == 0 || id == 0 {
		switch {
		case h == entHot{}:
			return nil
		case id == 0:
			return errFlat("an entity with ID 0")
		}
		return errFlat("entity %d has times but no record", id)
	}
	text, err := c.claim(h.cold)
	if err != nil {
		return errFlat("entity %d: %w", id, err)
	}
	t := parseEntityText(text)
	c.t.countEntity(t.flags&entRegistered != 0, 1)
	for b := t.prefixes; len(b) > 0; {
		var p netip.Prefix
		p, b = decodePrefix(b)
		if err := c.prefix(p, uint32(id)); err != nil {
			return errFlat("entity %d: %w", id, err)
		}
	}
	return nil
}

// prefix checks that p is entity id's alone: a /32 is noted for
// sameHost4, any other prefix is put in its table.
func (c *entCheck) prefix(p netip.Prefix, id uint32) error {
	v := c.t.v
	if a := p.Addr(); a.Is4() && p.Bits() == 32 {
		c.host4 = append(c.host4, uint64(host4Key(be4(a)))<<32|uint64(id))
		v.counts.PrefixMember++
		return nil
	}
	if n := netOf(p); v.findNet(&n) != 0 {
		return errors.New(p.String() + " is another entity's member too")
	}
	c.t.setPrefix(p, id)
	return nil
}

// sameHost4 checks that the /32 table read holds exactly the /32 members
// the entities list, each under its entity: both sorted by key, in one
// pass, where a look-up per member would cost a cache miss each.
func (c *entCheck) sameHost4(blocks [][]uint32) error {
	seen := radixSortHigh(c.host4)
	i := 0
	for _, blk := range blocks {
		m := len(blk) / 2
		for j, k := range blk[:m] {
			if i == len(seen) || seen[i] != uint64(k)<<32|uint64(blk[m+j]) {
				return errFlat("the /32 table does not give each entity its /32 members (at key %#x)", k)
			}
			i++
		}
	}
	if i != len(seen) {
		return errFlat("the /32 table does not give each entity its /32 members (%d of %d)", i, len(seen))
	}
	return nil
}

// radixSortHigh sorts xs by their top 32 bits (stable: two passes of 16
// bits) and returns the sorted slice, which may be xs or a new one.
func radixSortHigh(xs []uint64) []uint64 {
	tmp := make([]uint64, len(xs))
	for shift := 32; shift < 64; shift += 16 {
		var count [1 << 16]int
		for _, x := range xs {
			count[x>>shift&0xffff]++
		}
		pos := 0
		for i, n := range count {
			count[i], pos = pos, pos+n
		}
		for _, x := range xs {
			d := x >> shift & 0xffff
			tmp[count[d]] = x
			count[d]++
		}
		xs, tmp = tmp, xs
	}
	return xs
}

// claim checks that the next entity record is at ref, whole, canonical
// (seen zero, padding zero) and in bounds, and returns its text.
func (c *entCheck) claim(ref uint32) (string, error) {
	ci, off := int(ref>>chunkBits), int(ref%chunkWords)
	if ci >= len(c.a.chunks) || off+entHeader > c.used[ci] {
		return "", errors.New("its record is outside the arena")
	}
	if uint64(ref) != c.next && off != 0 { // only a record that does not fit moves on
		return "", errNotPlaced
	}
	n, err := entityTextLen(wordString(c.a.chunks[ci][off+entHeader:]))
	if errors.Is(err, errShortText) && off == 0 && len(c.a.chunks[ci]) == chunkWords {
		c.merge(ci)
		n, err = entityTextLen(wordString(c.a.chunks[ci][off+entHeader:]))
	}
	if err != nil {
		return "", err
	}
	words := uint64(entHeader + (n+3)/4)
	if want := placeCold(c.next, words); want != ref {
		return "", errNotPlaced
	}
	if err := c.filled(ci); err != nil {
		return "", err
	}
	w := c.a.chunks[ci][off : off+int(words)]
	s := wordString(w[entHeader:])
	for _, b := range []byte(s[n:]) {
		if b != 0 {
			return "", errors.New("its record's padding is not zero")
		}
	}
	if w[entSeen] != 0 {
		return "", errors.New("its record has a seen mark")
	}
	c.cur, c.next = ci, uint64(ref)+words
	c.live += words
	return s[:n], nil
}

// filled checks that the chunks from the last record's up to (not
// including) chunk ci hold exactly the words the records placed in them.
func (c *entCheck) filled(ci int) error {
	for j := c.cur; j < ci; j++ {
		if want := min(max(int64(c.next)-int64(j)<<chunkBits, 0), chunkWords); int64(c.used[j]) != want {
			return errFlat("entity arena part %d holds words no record uses", j)
		}
	}
	return nil
}

// end checks that the records used every arena part, and all of the last.
func (c *entCheck) end() error {
	if c.next == 1 {
		if len(c.a.chunks) > 0 {
			return errFlat("entity arena parts without entities")
		}
		return nil
	}
	if uint64(len(c.a.chunks)) != (c.next-1)>>chunkBits+1 {
		return errFlat("entity arena parts after the last record")
	}
	return c.filled(len(c.a.chunks))
}

// merge makes chunk ci and the whole chunks after it (and the first one
// that is not) one array, as reserve lays out a record longer than a chunk.
func (c *entCheck) merge(ci int) {
	k := ci
	for k+1 < len(c.a.chunks) && c.used[k] == chunkWords {
		k++
	}
	big := make([]uint32, 0, (k-ci)<<chunkBits+c.used[k])
	for j := ci; j <= k; j++ {
		big = append(big, c.a.chunks[j][:c.used[j]]...)
	}
	for j := ci; j <= k; j++ {
		c.a.chunks[j] = big[(j-ci)<<chunkBits:]
	}
}

var (
	errShortText = errors.New("its record runs past its part")
	errNotPlaced = errors.New("its record is not where the flat arena puts it")
)

// entityTextLen is the length of the entity text s starts with, checked
// as parseEntityText and decodePrefix will read it: known flags, strings
// and prefixes within s, prefix lengths of their family, and the lone
// flag exactly when there is no name and one prefix (as appendEntityText
// writes it).
func entityTextLen(s string) (int, error) {
	if len(s) == 0 {
		return 0, errShortText
	}
	flags := s[0]
	if flags&^(entGroup|entRegistered|entPinned|entLone) != 0 {
		return 0, errors.New("its record has unknown flags")
	}
	i, strs, count := 1, 3, uint64(1)
	if flags&entLone != 0 {
		strs = 2
	}
	nameLen := uint64(0)
	for k := range strs {
		n, w := binary.Uvarint([]byte(s[i:min(len(s), i+binary.MaxVarintLen64)]))
		if w <= 0 || n > uint64(len(s)-i-w) {
			return 0, errShortText
		}
		if k == 0 && strs == 3 {
			nameLen = n
		}
		i += w + int(n)
	}
	if flags&entLone == 0 {
		n, w := binary.Uvarint([]byte(s[i:min(len(s), i+binary.MaxVarintLen64)]))
		if w <= 0 || n > uint64(len(s)-i-w)/5 {
			return 0, errShortText
		}
		if nameLen == 0 && n == 1 {
			return 0, errors.New("its record is a lone relay's without the lone flag")
		}
		i, count = i+w, n
	}
	for range count {
		if i >= len(s) {
			return 0, errShortText
		}
		size := 5
		switch tag := s[i]; {
		case tag <= 32:
		case tag >= v6Tag && tag <= v6Tag+128:
			size = 17
		default:
			return 0, errors.New("its record has a prefix of an unknown length")
		}
		if size > len(s)-i {
			return 0, errShortText
		}
		i += size
	}
	return i, nil
}

// wordString is the bytes of ws as a string sharing their memory.
func wordString(ws []uint32) string {
	if len(ws) == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Pointer(&ws[0])), 4*len(ws))
}

// buildHost4 makes tb the /32 table of the blocks read: keys strictly
// increasing, IDs not zero, a leaf for every key prefix of at most
// aleafMax keys whose parent prefix holds more; a leaf within one block
// shares its memory (capacity clipped, so a write copies it).
func buildHost4(tb *atab[uint32, uint32], blocks [][]uint32, gen uint64) error {
	b := &a4builder{blocks: blocks}
	prev, first := uint32(0), true
	for _, blk := range blocks {
		m := len(blk) / 2
		for i, k := range blk[:m] {
			if !first && k <= prev || blk[m+i] == 0 {
				return errFlat("/32 keys out of order or without an entity")
			}
			prev, first = k, false
		}
		b.n += m
	}
	if b.n == 0 {
		return nil
	}
	b.maxDepth = maxDirDepth(b.n)
	b.split(0, b.n, 0, gen)
	depth := max(uint8(dirPageBits), b.depth)
	pages := make([]*apage[uint32, uint32], 1<<(depth-dirPageBits))
	for i := range pages {
		pages[i] = &apage[uint32, uint32]{gen: gen}
	}
	slot := uint64(0)
	for _, l := range b.leaves {
		for end := slot + 1<<(depth-l.depth); slot < end; slot++ {
			pages[slot>>dirPageBits].ls[slot&(dirSlots-1)] = l
		}
	}
	tb.depth, tb.gen, tb.pages, tb.n = depth, gen, pages, b.n
	return nil
}

// a4builder builds the /32 table's leaves from its sorted blocks, as
// inserting makes them: no leaf deeper than maxDepth (maxDirDepth), where
// more than aleafMax keys sharing the bits above stay in one leaf.
type a4builder struct {
	blocks   [][]uint32
	n        int
	leaves   []*aleaf[uint32, uint32]
	depth    uint8
	maxDepth uint8
}

func (b *a4builder) key(i int) uint32 { return b.blocks[i/Host4Block][i%Host4Block] }

func (b *a4builder) id(i int) uint32 {
	blk := b.blocks[i/Host4Block]
	return blk[len(blk)/2+i%Host4Block]
}

func (b *a4builder) split(lo, hi int, depth uint8, gen uint64) {
	if hi-lo > aleafMax && depth < 32 && depth < b.maxDepth {
		bit := 31 - depth
		mid := lo + sort.Search(hi-lo, func(i int) bool { return b.key(lo+i)>>bit&1 == 1 })
		b.split(lo, mid, depth+1, gen)
		b.split(mid, hi, depth+1, gen)
		return
	}
	l := &aleaf[uint32, uint32]{gen: gen, depth: depth}
	switch {
	case lo == hi:
	case lo/Host4Block == (hi-1)/Host4Block:
		blk, m := b.blocks[lo/Host4Block], len(b.blocks[lo/Host4Block])/2
		s, e := lo%Host4Block, (hi-1)%Host4Block+1
		l.ks, l.vs = blk[s:e:e], blk[m+s:m+e:m+e]
	default:
		for i := lo; i < hi; i++ {
			l.ks, l.vs = append(l.ks, b.key(i)), append(l.vs, b.id(i))
		}
	}
	b.leaves = append(b.leaves, l)
	b.depth = max(b.depth, depth)
}
