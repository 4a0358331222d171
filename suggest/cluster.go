package suggest

import (
	"cmp"
	"slices"

	"github.com/wlns/wlns/index"
)

// components is a union-find over entity IDs that also remembers the one
// group (if any) each component holds and its size.
type components struct {
	parent map[uint64]uint64
	group  map[uint64]uint64 // root → group ID in the component
	size   map[uint64]int    // root → entities in the component
}

func (c *components) find(x uint64) uint64 {
	for {
		p, ok := c.parent[x]
		if !ok || p == x {
			return x
		}
		if gp := c.parent[p]; gp != p {
			c.parent[x] = gp
		}
		x = p
	}
}

// join merges the components of a and b unless that would put two groups
// in one or more than MaxEntities entities; it reports whether they are
// joined.
func (c *components) join(a, b uint64) bool {
	ra, rb := c.find(a), c.find(b)
	if ra == rb {
		return true
	}
	ga, gb := c.group[ra], c.group[rb]
	if ga != 0 && gb != 0 || c.size[ra]+c.size[rb] > MaxEntities {
		return false
	}
	c.parent[rb] = ra
	c.group[ra] = max(ga, gb)
	c.size[ra] += c.size[rb]
	delete(c.group, rb)
	delete(c.size, rb)
	return true
}

// cluster joins linked entities, strongest links first, into suggestions.
func cluster(v *index.View, links []Link) []Suggestion {
	c := &components{parent: map[uint64]uint64{}, group: map[uint64]uint64{}, size: map[uint64]int{}}
	for _, id := range linkEnds(links) {
		c.parent[id], c.size[id] = id, 1
		if v.EntityRef(id).Group() {
			c.group[id] = id
		}
	}
	for _, l := range links {
		c.join(l.A, l.B)
	}
	byRoot := map[uint64]*Suggestion{}
	for _, l := range links {
		r := c.find(l.A)
		if r != c.find(l.B) {
			continue // two groups' components, or too many entities: not joined
		}
		s := byRoot[r]
		if s == nil {
			s = &Suggestion{Group: c.group[r]}
			byRoot[r] = s
		}
		s.Links = append(s.Links, l)
	}
	out := make([]Suggestion, 0, len(byRoot))
	for _, s := range byRoot {
		out = append(out, finish(v, *s))
	}
	slices.SortFunc(out, func(x, y Suggestion) int {
		return cmp.Or(cmp.Compare(y.Links[0].Shared, x.Links[0].Shared), cmp.Compare(x.ID, y.ID))
	})
	return out
}

// linkEnds is every entity ID in links, sorted, once.
func linkEnds(links []Link) []uint64 {
	ids := make([]uint64, 0, 2*len(links))
	for _, l := range links {
		ids = append(ids, l.A, l.B)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// finish fills a suggestion's relays and ID from its links.
func finish(v *index.View, s Suggestion) Suggestion {
	ids := linkEnds(s.Links)
	for _, id := range ids {
		e := v.EntityRef(id)
		r := Relay{ID: id, Group: e.Group(), PTR: e.PTR(), Prefixes: e.Prefixes(), Senders: v.RecordsOf(id)}
		if e.Group() {
			r.Name = e.Name()
		}
		s.Relays = append(s.Relays, r)
	}
	s.ID = ID(ids)
	return s
}
