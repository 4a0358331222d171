package index

import (
	"maps"
	"slices"
)

// recordCounts counts each entity's pairs and VERP sources, so that
// "does this entity keep any record" needs no walk over the pairs. Counts
// of IDs below cntDense sit in pages by ID (IDs are assigned in sequence);
// any higher ID in a map. Copy-on-write by generation, as the tables.
type recordCounts struct {
	gen       uint64 // of the pages slice
	pages     []*cntPage
	sparseGen uint64
	sparse    map[uint32]uint32
}

const (
	cntBits  = 12
	cntSlots = 1 << cntBits
	cntDense = 1 << 24
)

type cntPage struct {
	gen uint64
	n   [cntSlots]uint32
}

func (c *recordCounts) get(id uint32) uint32 {
	if id >= cntDense {
		return c.sparse[id]
	}
	pi := int(id >> cntBits)
	if pi >= len(c.pages) || c.pages[pi] == nil {
		return 0
	}
	return c.pages[pi].n[id&(cntSlots-1)]
}

// add changes id's count by d (±1) on behalf of the writer of generation
// gen, which owns every node of generation ≥ gen.
func (c *recordCounts) add(id uint32, d int, gen uint64) {
	if id >= cntDense {
		if c.sparseGen < gen || c.sparse == nil {
			c.sparse = maps.Clone(c.sparse)
			if c.sparse == nil {
				c.sparse = map[uint32]uint32{}
			}
			c.sparseGen = gen
		}
		if n := int(c.sparse[id]) + d; n > 0 {
			c.sparse[id] = uint32(n)
		} else {
			delete(c.sparse, id)
		}
		return
	}
	if c.gen < gen {
		c.pages = slices.Clone(c.pages)
		c.gen = gen
	}
	pi := int(id >> cntBits)
	for len(c.pages) <= pi {
		c.pages = append(c.pages, nil)
	}
	p := c.pages[pi]
	if p == nil || p.gen < gen {
		np := &cntPage{gen: gen}
		if p != nil {
			np.n = p.n
		}
		c.pages[pi], p = np, np
	}
	p.n[id&(cntSlots-1)] = uint32(int(p.n[id&(cntSlots-1)]) + d)
}

// RecordsOf returns how many pairs and VERP sources entity has.
func (v *View) RecordsOf(entity uint64) int {
	if entity >= 1<<32 {
		return 0
	}
	return int(v.records.get(uint32(entity)))
}
