package fsm

import (
	"hash/maphash"
	"maps"
)

// A cowMap is split into cowPages pages of cowPerPage buckets: a write
// copies the page table (64 pointers), one page (64 pointers) and one
// bucket, whose size is the map's size over 4096. At 100 000 challenges a
// write copies about 1 KiB of pointers and a bucket of ~25 entries.
const (
	cowPageBits = 6
	cowPages    = 1 << cowPageBits
	cowPerPage  = 1 << cowPageBits
)

// cowMap is an immutable map from string keys to V. with and without
// return a changed map that shares everything but one page and one bucket
// with the old one, so old values stay valid for readers and for undoing a
// failed batch.
//
// Keys are spread over buckets with a per-process random seed, so
// attacker-chosen keys (sender addresses) cannot pile up in one bucket.
// The seed decides only where a key is stored: lookups do not depend on it,
// and nothing that must be the same on every replica (results, snapshots)
// depends on iteration order.
type cowMap[V any] struct {
	seed  maphash.Seed
	pages *[cowPages]*cowPage[V]
	n     int
}

type cowPage[V any] [cowPerPage]map[string]V

// newCowMap returns an empty map with a fresh seed.
func newCowMap[V any]() cowMap[V] { return cowMap[V]{seed: maphash.MakeSeed()} }

func (m cowMap[V]) bucket(k string) (page, slot int) {
	h := maphash.String(m.seed, k)
	return int(h >> (64 - cowPageBits)), int(h>>(64-2*cowPageBits)) & (cowPerPage - 1)
}

// get returns the value stored under k, and whether there is one.
func (m cowMap[V]) get(k string) (V, bool) {
	var zero V
	if m.pages == nil {
		return zero, false
	}
	p, s := m.bucket(k)
	if m.pages[p] == nil {
		return zero, false
	}
	v, ok := m.pages[p][s][k]
	return v, ok
}

// len returns the number of keys.
func (m cowMap[V]) len() int { return m.n }

// with returns m with k set to v.
func (m cowMap[V]) with(k string, v V) cowMap[V] {
	p, s := m.bucket(k)
	old := m.slot(p, s)
	if _, had := old[k]; !had {
		m.n++
	}
	nb := maps.Clone(old) // copies the table without rehashing every key
	if nb == nil {
		nb = map[string]V{}
	}
	nb[k] = v
	return m.replace(p, s, nb)
}

// without returns m without k.
func (m cowMap[V]) without(k string) cowMap[V] {
	p, s := m.bucket(k)
	old := m.slot(p, s)
	if _, had := old[k]; !had {
		return m
	}
	nb := maps.Clone(old)
	delete(nb, k)
	m.n--
	return m.replace(p, s, nb)
}

// slot returns bucket (p, s), nil when it was never written.
func (m cowMap[V]) slot(p, s int) map[string]V {
	if m.pages == nil || m.pages[p] == nil {
		return nil
	}
	return m.pages[p][s]
}

// replace returns m with bucket (p, s) set to b, copying the page table
// and the page.
func (m cowMap[V]) replace(p, s int, b map[string]V) cowMap[V] {
	np := new([cowPages]*cowPage[V])
	if m.pages != nil {
		*np = *m.pages
	}
	pg := new(cowPage[V])
	if np[p] != nil {
		*pg = *np[p]
	}
	pg[s] = b
	np[p] = pg
	m.pages = np
	return m
}

// each calls fn for every entry, in no particular order, until it returns
// false.
func (m cowMap[V]) each(fn func(k string, v V) bool) {
	if m.pages == nil {
		return
	}
	for _, pg := range m.pages {
		if pg == nil {
			continue
		}
		for _, b := range pg {
			for k, v := range b {
				if !fn(k, v) {
					return
				}
			}
		}
	}
}

// deleteWhere returns m without the entries drop reports true for, and how
// many went. Each changed page and bucket is copied once, so a sweep is
// O(size) however much it deletes.
func (m cowMap[V]) deleteWhere(drop func(k string, v V) bool) (cowMap[V], int) {
	if m.pages == nil {
		return m, 0
	}
	var np *[cowPages]*cowPage[V]
	gone := 0
	for p, pg := range m.pages {
		if pg == nil {
			continue
		}
		var npg *cowPage[V]
		for s, b := range pg {
			var nb map[string]V
			for k, v := range b {
				if !drop(k, v) {
					continue
				}
				if nb == nil {
					nb = maps.Clone(b)
				}
				delete(nb, k)
				gone++
			}
			if nb == nil {
				continue
			}
			if npg == nil {
				npg = new(cowPage[V])
				*npg = *pg
			}
			npg[s] = nb
		}
		if npg == nil {
			continue
		}
		if np == nil {
			np = new([cowPages]*cowPage[V])
			*np = *m.pages
		}
		np[p] = npg
	}
	if np != nil {
		m.pages = np
		m.n -= gone
	}
	return m, gone
}

// set stores v under k in place. Only for a map being built that nothing
// else holds yet (Restore): published maps are changed with with.
func (m *cowMap[V]) set(k string, v V) {
	p, s := m.bucket(k)
	if m.pages == nil {
		m.pages = new([cowPages]*cowPage[V])
	}
	if m.pages[p] == nil {
		m.pages[p] = new(cowPage[V])
	}
	b := m.pages[p][s]
	if b == nil {
		b = map[string]V{}
		m.pages[p][s] = b
	}
	if _, had := b[k]; !had {
		m.n++
	}
	b[k] = v
}
