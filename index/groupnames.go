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
// concurrent use; the zero value rebuilds at most every 10 s.
type GroupNames struct {
	// Every bounds how often the table is rebuilt; default 10 s.
	Every time.Duration

	mu     sync.Mutex
	names  map[string]uint64 // group name → entity ID
	built  time.Time
	serial uint64
}

// Lookup returns the group of v named name (lower case), or the zero
// EntityRef.
func (g *GroupNames) Lookup(v *View, name string) EntityRef {
	id := g.id(v, name)
	e := v.EntityRef(id)
	if id == 0 || !e.Group() || e.Name() != name {
		return EntityRef{}
	}
	return e
}

func (g *GroupNames) id(v *View, name string) uint64 {
	every := g.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.names == nil || v.Serial() != g.serial && time.Since(g.built) >= every {
		names := make(map[string]uint64, len(g.names))
		v.EachEntity(func(e EntityRef) bool {
			if e.Group() {
				names[strings.Clone(e.Name())] = e.ID()
			}
			return true
		})
		g.names, g.built, g.serial = names, time.Now(), v.Serial()
	}
	return g.names[name]
}
