package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/wlns/wlns/index/internal/oracle"
	"github.com/wlns/wlns/record"
)

// flatPart is one emitted part, copied.
type flatPart struct {
	kind FlatPart
	b    []byte
}

func writeFlat(t testing.TB, v *View) []flatPart {
	t.Helper()
	var parts []flatPart
	if err := v.WriteFlat(func(k FlatPart, b []byte) error {
		parts = append(parts, flatPart{k, bytes.Clone(b)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return parts
}

// loadFlat reads parts into a fresh index, refusing records of entities
// not in known, if not nil. It loads them twice, read into new memory
// (Part) and in place (Alias, from aligned copies), and returns an error
// unless both loads refuse the parts with the same error or both accept
// them and write them out the same: every test of the loader checks the
// in-place load against the read one.
func loadFlat(parts []flatPart, known []uint64) (*Index, error) {
	ix, err := loadFlatBy(parts, known, false)
	ipIx, ipErr := loadFlatBy(parts, known, true)
	switch {
	case (err == nil) != (ipErr == nil) || err != nil && err.Error() != ipErr.Error():
		return nil, fmt.Errorf("read load: %v; in-place load: %v", err, ipErr)
	case err != nil:
		return nil, err
	}
	var a, b []flatPart
	for _, p := range []struct {
		ix  *Index
		out *[]flatPart
	}{{ix, &a}, {ipIx, &b}} {
		if err := p.ix.Load().WriteFlat(func(k FlatPart, b []byte) error {
			*p.out = append(*p.out, flatPart{k, bytes.Clone(b)})
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if !bytes.Equal(flatBytes(a), flatBytes(b)) {
		return nil, errors.New("the in-place load writes out other parts than the read one")
	}
	return ix, nil
}

// loadFlatBy loads parts by reading them into new memory, or in place.
func loadFlatBy(parts []flatPart, known []uint64, inPlace bool) (*Index, error) {
	ix := New()
	tx := ix.BeginEmpty()
	l := tx.LoadFlat()
	for _, p := range parts {
		if inPlace {
			if err := l.Alias(p.kind, alignedBytes(p.b)); err != nil {
				return nil, err
			}
			continue
		}
		buf, err := l.Part(p.kind, len(p.b))
		if err != nil {
			return nil, err
		}
		copy(buf, p.b)
	}
	var ok func(uint64) bool
	if known != nil {
		ok = func(id uint64) bool { return slices.Contains(known, id) }
	}
	if err := l.Finish(ok); err != nil {
		return nil, err
	}
	tx.Commit()
	return ix, nil
}

// alignedBytes is a copy of b on an 8-byte boundary, as a part of a
// mapped format-7 snapshot lies.
func alignedBytes(b []byte) []byte {
	words := make([]uint64, len(b)/8+1)
	out := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(b))
	copy(out, b)
	return out
}

func flatBytes(parts []flatPart) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, byte(p.kind))
		b = binary.AppendUvarint(b, uint64(len(p.b)))
		b = append(b, p.b...)
	}
	return b
}

// TestFlat_RestoredTablesAnswerAsTheOldStore runs the differential test's
// random histories (deletes, touches, dropped batches, arena compaction)
// and, every few commits, writes the new store's tables flat, loads them
// into a fresh index and demands the same answers as the old store, the
// same records per entity and expiry candidates, and the same bytes when
// written again.
func TestFlat_RestoredTablesAnswerAsTheOldStore(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			w := newWorld()
			oix, nix := oracle.New(), New()
			nix.cold.compactAt, nix.ecold.compactAt = 64, 64
			for round := 0; round < 30; round++ {
				tx := pair{oix.Begin(), nix.Begin()}
				for i := r.IntN(60); i > 0; i-- {
					w.step(r, tx)
				}
				tx.old.Commit()
				tx.new.Commit()
				if round%5 != 4 {
					continue
				}
				parts := writeFlat(t, nix.Load())
				back, err := loadFlat(parts, nil)
				if err != nil {
					t.Fatal(err)
				}
				w.compare(t, oix.Load(), back.Load(), false)
				w.compareDerived(t, oix.Load(), back.Load())
				if again := writeFlat(t, back.Load()); !bytes.Equal(flatBytes(again), flatBytes(parts)) {
					t.Fatal("loaded tables write other bytes")
				}
			}
		})
	}
}

// TestFlat_SameRecordsSameBytes: two indexes holding the same records
// after different histories (one with deletes, rewrites, touches and
// compactions, one put in reverse order at once) write the same bytes.
func TestFlat_SameRecordsSameBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	w := newWorld()
	a, o := New(), oracle.New() // the oracle keeps member prefixes apart
	a.cold.compactAt, a.ecold.compactAt = 64, 64
	for round := range 41 {
		tx := pair{o.Begin(), a.Begin()}
		for i := r.IntN(60); i > 0; i-- {
			w.step(r, tx)
		}
		for _, id := range w.entities[:3*(round/40)] { // the last round: some entities for sure
			e := w.randEntity(r, tx.old.View(), id)
			tx.old.PutEntity(e)
			tx.new.PutEntity(e)
		}
		tx.old.Commit()
		tx.new.Commit()
	}
	var ps []*record.Pair
	var vs []*record.Verp
	var es []*record.Entity
	a.Load().Pairs(func(p *record.Pair) bool { ps = append(ps, p); return true })
	a.Load().Verps(func(v *record.Verp) bool { vs = append(vs, v); return true })
	a.Load().Entities(func(e *record.Entity) bool { es = append(es, e); return true })
	b := New()
	tx := b.Begin()
	for i := len(es) - 1; i >= 0; i-- {
		tx.PutEntity(es[i])
	}
	for i := len(ps) - 1; i >= 0; i-- {
		tx.PutPair(ps[i])
	}
	for i := len(vs) - 1; i >= 0; i-- {
		tx.PutVerp(vs[i])
	}
	tx.Commit()
	if len(ps) < 20 || len(vs) < 5 || len(es) < 4 || a.cold.compactions == 0 || a.ecold.compactions == 0 {
		t.Fatalf("%d pairs, %d VERP sources, %d entities, %d and %d compactions: the history is too tame",
			len(ps), len(vs), len(es), a.cold.compactions, a.ecold.compactions)
	}
	if !bytes.Equal(flatBytes(writeFlat(t, a.Load())), flatBytes(writeFlat(t, b.Load()))) {
		t.Fatal("the same records wrote different bytes")
	}
}

// TestFlat_LargeTablesLoadAsInserted loads 200k pairs (several entry
// blocks and arena chunks, leaves across block ends) and finds every one;
// the leaves are the ones inserting the pairs one by one makes.
func TestFlat_LargeTablesLoadAsInserted(t *testing.T) {
	const n = 200_000
	src := buildPairs(n)
	parts := writeFlat(t, src.Load())
	var blocks, chunks int
	for _, p := range parts {
		blocks += b2i(p.kind == FlatPairs)
		chunks += b2i(p.kind == FlatArena)
	}
	if blocks < 6 || chunks < 4 {
		t.Fatalf("%d entry blocks, %d arena chunks: too few to cross their ends", blocks, chunks)
	}
	back, err := loadFlat(parts, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := back.Load()
	for i := range n {
		p := benchPair(i)
		got := v.Pair(p.Entity, []byte(p.Sender))
		if got == nil || got.Sender != p.Sender || got.By != p.By || got.Created != p.Created || got.DomainWide() != p.DomainWide() {
			t.Fatalf("pair %d: got %+v, want %+v", i, got, p)
		}
	}
	if c := v.Counts(); c.Pairs+c.DomainPairs != n || c.DomainPairs != n/10 || v.RecordsOf(1) != 2 {
		t.Fatalf("counts %+v, RecordsOf(1) %d", c, v.RecordsOf(1))
	}
	if got, want := leafShape(&v.pairs), leafShape(&src.Load().pairs); got != want {
		t.Fatalf("leaves %s, inserted %s", got, want)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// leafShape lists a table's leaves as depth:entries.
func leafShape(tb *table) string {
	var s strings.Builder
	tb.eachLeaf(func(l *leaf) bool { fmt.Fprintf(&s, "%d:%d ", l.depth, len(l.es)); return true })
	return s.String()
}

// threeEntityPairs returns an index of n pairs spread over entities 1–3
// and four tokens.
func threeEntityPairs(n int) *Index {
	ix := New()
	tx := ix.Begin()
	for i := range n {
		p := benchPair(i)
		p.Entity = uint64(i%3 + 1)
		p.By = fmt.Sprintf("tok%d", i%4)
		tx.PutPair(p)
	}
	tx.Commit()
	return ix
}

// TestFlat_DamagedPartsAreRefused: parts that do not hold together give an
// error, never a panic or a table that answers wrong.
func TestFlat_DamagedPartsAreRefused(t *testing.T) {
	ix := threeEntityPairs(300)
	tx := ix.Begin()
	tx.PutVerp(&record.Verp{Entity: 2, Domain: "lists.example.org", By: "t", Method: "api"})
	tx.Commit()
	good := writeFlat(t, ix.Load())
	ents := []uint64{1, 2, 3}
	if _, err := loadFlat(good, ents); err != nil {
		t.Fatal(err)
	}
	find := func(ps []flatPart, k FlatPart) int {
		return slices.IndexFunc(ps, func(p flatPart) bool { return p.kind == k })
	}
	edit := func(fn func(ps []flatPart)) []flatPart {
		ps := make([]flatPart, len(good))
		for i, p := range good {
			ps[i] = flatPart{p.kind, bytes.Clone(p.b)}
		}
		fn(ps)
		return ps
	}
	pairs, arena := find(good, FlatPairs), find(good, FlatArena)
	cases := map[string]struct {
		parts []flatPart
		ents  []uint64
		want  string
	}{
		"unknown entity":      {good, []uint64{1, 2}, "entity 3"},
		"entries swapped":     {edit(func(ps []flatPart) { b := ps[pairs].b; swapHot(b[0:28], b[32:60]) }), ents, "key order"},
		"unknown flag":        {edit(func(ps []flatPart) { ps[pairs].b[8] |= 0x80 }), ents, "flags"},
		"domain flag on VERP": {edit(func(ps []flatPart) { ps[find(ps, FlatVerps)].b[8] |= flagDomain }), ents, "flags"},
		"cold ref moved":      {edit(func(ps []flatPart) { ps[pairs].b[28]++ }), ents, "cold"},
		"cold ref far":        {edit(func(ps []flatPart) { ps[pairs].b[31] = 0x7f }), ents, "outside the arena"},
		"text too long":       {edit(func(ps []flatPart) { ps[arena].b[8] = 0xff; ps[arena].b[9] = 0x0f }), ents, "cold record"},
		"no such by/method":   {edit(func(ps []flatPart) { ps[arena].b[11] = 0xff }), ents, "by/method pair"},
		"trailing words":      {edit(func(ps []flatPart) { ps[arena].b = append(ps[arena].b, 0, 0, 0, 0) }), ents, "no record uses"},
		"arena cut":           {edit(func(ps []flatPart) { ps[arena].b = ps[arena].b[:len(ps[arena].b)-4] }), ents, ""},
		"prov names no name":  {edit(func(ps []flatPart) { ps[find(ps, FlatProv)].b[0] = 99 }), ents, "names no name"},
		"duplicate name":      {edit(func(ps []flatPart) { i := find(ps, FlatName); ps[i+1].b = ps[i].b }), ents, "twice"},
		"out of order":        {edit(func(ps []flatPart) { ps[0], ps[len(ps)-1] = ps[len(ps)-1], ps[0] }), ents, "after kind"},
		"short entry":         {edit(func(ps []flatPart) { ps[pairs].b = ps[pairs].b[:31] }), ents, "entry block"},
		// Keys forged to share 55 hash bits, still in order: the directory
		// would need 2^46 slots.
		"shared hash prefix": {edit(func(ps []flatPart) {
			b := ps[pairs].b
			for i := 0; i+32 <= len(b); i += 32 {
				binary.LittleEndian.PutUint64(b[i:], 0xabcdef0000000000+uint64(i/32))
			}
		}), ents, "share a"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := loadFlat(c.parts, c.ents)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// swapHot swaps two entries' fields but their cold references.
func swapHot(a, b []byte) {
	var tmp [28]byte
	copy(tmp[:], a)
	copy(a, b)
	copy(b, tmp[:])
}

// TestFlat_ManyTinyPartsAllocateWhatTheyHold: a damaged or hostile file of
// many 4-byte arena parts makes the load allocate about what it read, not
// a 256 KiB chunk per part.
func TestFlat_ManyTinyPartsAllocateWhatTheyHold(t *testing.T) {
	const parts = 2000
	l := New().BeginEmpty().LoadFlat()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range parts {
		if _, err := l.Part(FlatArena, 4); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("%d parts of 4 bytes allocated %d bytes", parts, grew)
	}
	if err := l.Finish(nil); err == nil {
		t.Fatal("arena parts without entries loaded")
	}
}

// TestFlat_ForgedDeepDirectoryIsRefusedCheaply: 300 pair entries forged to
// share 25 hash bits (then distinct) would make a directory of 2^26 slots,
// 512 MiB, from a 10 KiB part — deeper than log2(n)+1, where 300 honest
// SHA-256 keys never reach. The load refuses the file naming the table and
// allocates far less than that.
func TestFlat_ForgedDeepDirectoryIsRefusedCheaply(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	for i := range 300 {
		p := benchPair(i)
		p.Entity = 1
		tx.PutPair(p)
	}
	tx.Commit()
	parts := writeFlat(t, ix.Load())
	pairs := slices.IndexFunc(parts, func(p flatPart) bool { return p.kind == FlatPairs })
	b := parts[pairs].b
	if len(b) != 300*EntryBytes {
		t.Fatalf("pair part of %d bytes, want all 300 entries in one", len(b))
	}
	base := uint64(0xabcdef8000000000) &^ (1<<39 - 1) // 25 shared bits
	for i := 0; i < 300; i++ {
		binary.LittleEndian.PutUint64(b[i*EntryBytes:], base|uint64(i)<<30)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := loadFlat(parts, nil)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "pair table") || !strings.Contains(err.Error(), "hash prefix") {
		t.Fatalf("error %v, want one naming the pair table's hash prefix", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 100<<20 {
		t.Fatalf("refusing a %d-byte part allocated %d MiB", len(b), grew>>20)
	}
}
