package oracle

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/wlns/wlns/record"
)

// entities is the entity store as it was before the compact entries
// (release 0.x): the record.Entity structs the writer handed in, by ID,
// and a map from each member prefix, as given, to its entity. A look-up
// tries the address's prefixes from the longest.
type entities struct {
	byID                    map[uint64]*record.Entity
	owner                   map[netip.Prefix]*record.Entity
	nEnt, nReg, nPrefixSets int
}

func newEntities() entities {
	return entities{byID: map[uint64]*record.Entity{}, owner: map[netip.Prefix]*record.Entity{}}
}

func (es entities) clone() entities {
	es.byID, es.owner = maps.Clone(es.byID), maps.Clone(es.owner)
	return es
}

// EntityCounts returns the entities, the registered ones and the member
// prefixes.
func (v *View) EntityCounts() (entities, registered, prefixes int) {
	return v.es.nEnt, v.es.nReg, v.es.nPrefixSets
}

// Entity returns the entity with the given ID, or nil.
func (v *View) Entity(id uint64) *record.Entity { return v.es.byID[id] }

// EntityOf returns the entity whose member prefix matches ip longest, or nil.
func (v *View) EntityOf(ip netip.Addr) *record.Entity {
	ip = ip.Unmap()
	for l := ip.BitLen(); l >= 0; l-- {
		if e := v.es.owner[netip.PrefixFrom(ip, l).Masked()]; e != nil {
			return e
		}
	}
	return nil
}

// PrefixOwner returns the entity that has exactly prefix p as a member, or nil.
func (v *View) PrefixOwner(p netip.Prefix) *record.Entity { return v.es.owner[p] }

// Entities calls fn for every entity, in ID order, until fn returns false.
func (v *View) Entities(fn func(*record.Entity) bool) {
	for _, id := range slices.Sorted(maps.Keys(v.es.byID)) {
		if !fn(v.es.byID[id]) {
			return
		}
	}
}

// PutEntity adds or replaces the entity with e.ID; the index keeps e.
func (t *Txn) PutEntity(e *record.Entity) {
	t.DeleteEntity(e.ID)
	t.v.es.byID[e.ID] = e
	t.countEntity(e, 1)
	for _, p := range e.Prefixes {
		t.v.es.owner[p] = e
		t.v.es.nPrefixSets++
	}
}

// DeleteEntity removes the entity and its member prefixes.
func (t *Txn) DeleteEntity(id uint64) {
	old := t.v.es.byID[id]
	if old == nil {
		return
	}
	for _, p := range old.Prefixes {
		if o := t.v.es.owner[p]; o != nil && o.ID == id {
			delete(t.v.es.owner, p)
			t.v.es.nPrefixSets--
		}
	}
	delete(t.v.es.byID, id)
	t.countEntity(old, -1)
}

func (t *Txn) countEntity(e *record.Entity, d int) {
	t.v.es.nEnt += d
	if e.Registered {
		t.v.es.nReg += d
	}
}
