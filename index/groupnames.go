package index

import (
	"strings"
	"sync"
	"time"
)

// GroupNames finds relay groups by name for readers that take names from
// the network (WHOIS, the console's sign-in form). The index keeps no
// name table, and a walk of every entity per request costs about 15 ms
// at 1M relays, so GroupNames keeps one, built from a View and built
// again, when the index has changed, at most every Every: a group
// created or renamed since is found up to Every later. Safe for
// concurrent use; the zero value rebuilds at most every 10 s. Exact
// rebuilds whenever the entities changed, for writers that must see the
// names of the View they are given (View.GroupNamed).
type GroupNames struct {
	// Every bounds how often the table is rebuilt; default 10 s.
	Every time.Duration

	mu    sync.Mutex
	names map[string]uint64 // group name → entity ID
	built time.Time
	stamp [2]uint64 // the entities' stamp of the View it was built from
}

// Exact is Lookup on a table of v's entities: it is rebuilt (a walk of
// every entity) when v's entities are not those it was built from, not
// when only pairs, VERP sources or delegations changed.
func (g *GroupNames) Exact(v *View, name string) EntityRef {
	return g.lookup(v, name, 0)
}

// Lookup returns the group of v named name (lower case), or the zero
// EntityRef.
func (g *GroupNames) Lookup(v *View, name string) EntityRef {
	every := g.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	return g.lookup(v, name, every)
}

func (g *GroupNames) lookup(v *View, name string, every time.Duration) EntityRef {
	id := g.id(v, name, every)
	e := v.EntityRef(id)
	if id == 0 || !e.Group() || e.Name() != name {
		return EntityRef{}
	}
	return e
}

func (g *GroupNames) id(v *View, name string, every time.Duration) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if stamp := v.entityStamp(); g.names == nil || stamp != g.stamp && time.Since(g.built) >= every {
		names := make(map[string]uint64, len(g.names))
		v.EachEntity(func(e EntityRef) bool {
			if e.Group() {
				names[strings.Clone(e.Name())] = e.ID()
			}
			return true
		})
		g.names, g.built, g.stamp = names, time.Now(), stamp
	}
	return g.names[name]
}

// entityStamp changes whenever an entity of the View does: the writer
// generation that last set one (generations are never reused by an
// Index, so two Views with one stamp hold the same entities).
func (v *View) entityStamp() [2]uint64 { return [2]uint64{v.entities.gen, v.entities.sparseGen} }

// GroupNamed returns the group named name (lower case) in v, or the zero
// EntityRef, from the Index's name table (GroupNames.Exact): a walk of
// every entity only when they changed since the table was built.
func (v *View) GroupNamed(name string) EntityRef {
	if v.names == nil {
		var found EntityRef
		v.EachEntity(func(e EntityRef) bool {
			if e.Group() && e.Name() == name {
				found = e
				return false
			}
			return true
		})
		return found
	}
	return v.names.Exact(v, name)
}
