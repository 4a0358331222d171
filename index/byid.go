package index

import (
	"maps"
	"slices"
)

// byID holds one value per entity ID: IDs below idDense in pages by ID
// (IDs are assigned in sequence, so the pages are dense), any higher ID in
// a map. Copy-on-write by generation, as the tables: a writer of
// generation gen owns every node of generation ≥ gen.
type byID[T comparable] struct {
	gen uint64 // of the pages and gens slices
	// pages[i] holds IDs i<<idBits to (i+1)<<idBits-1, written by the
	// writer of generation gens[i]. The generations sit apart from the
	// pages so that a page of 16-byte entries fills an 8 KiB size class.
	pages     []*idPage[T]
	gens      []uint64
	sparseGen uint64
	sparse    map[uint64]T
}

const (
	idBits  = 9
	idSlots = 1 << idBits
	idDense = 1 << 24
)

type idPage[T comparable] struct {
	v [idSlots]T
}

func (b *byID[T]) get(id uint64) T {
	if id >= idDense {
		return b.sparse[id]
	}
	pi := int(id >> idBits)
	if pi >= len(b.pages) || b.pages[pi] == nil {
		var zero T
		return zero
	}
	return b.pages[pi].v[id&(idSlots-1)]
}

// set stores v for id on behalf of the writer of generation gen; the zero
// value removes it.
func (b *byID[T]) set(id uint64, v T, gen uint64) {
	var zero T
	if id >= idDense {
		if b.sparseGen < gen || b.sparse == nil {
			b.sparse = maps.Clone(b.sparse)
			if b.sparse == nil {
				b.sparse = map[uint64]T{}
			}
			b.sparseGen = gen
		}
		if v == zero {
			delete(b.sparse, id)
		} else {
			b.sparse[id] = v
		}
		return
	}
	if b.gen < gen {
		b.pages, b.gens = slices.Clone(b.pages), slices.Clone(b.gens)
		b.gen = gen
	}
	pi := int(id >> idBits)
	for len(b.pages) <= pi {
		b.pages, b.gens = append(b.pages, nil), append(b.gens, 0)
	}
	p := b.pages[pi]
	if p == nil || b.gens[pi] < gen {
		np := new(idPage[T])
		if p != nil {
			np.v = p.v
		}
		b.pages[pi], b.gens[pi], p = np, gen, np
	}
	p.v[id&(idSlots-1)] = v
}

// rewrite calls fn with every stored value ready for writing, on behalf
// of the writer of generation gen.
func (b *byID[T]) rewrite(gen uint64, fn func(*T)) {
	var zero T
	b.each(func(id uint64, v T) bool {
		fn(&v)
		if v == zero {
			panic("index: byID.rewrite cleared a value")
		}
		b.set(id, v, gen)
		return true
	})
}

// each calls fn for every ID with a value, dense IDs in order, until fn
// returns false.
func (b *byID[T]) each(fn func(uint64, T) bool) {
	var zero T
	for pi, p := range b.pages {
		if p == nil {
			continue
		}
		for j, v := range p.v {
			if v != zero && !fn(uint64(pi)<<idBits|uint64(j), v) {
				return
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(b.sparse)) {
		if !fn(id, b.sparse[id]) {
			return
		}
	}
}

// RecordsOf returns how many pairs and VERP sources entity has.
func (v *View) RecordsOf(entity uint64) int { return int(v.records.get(entity)) }

// addRecords changes entity's record count by d.
func (t *Txn) addRecords(entity uint64, d int) {
	t.v.records.set(entity, uint32(int(t.v.records.get(entity))+d), t.gen)
}
