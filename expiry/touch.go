package expiry

import (
	"cmp"
	"slices"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
)

// Sizes used to split touch bodies: the JSON overhead of one entity
// ({"i":123456,"s":true,"a":600,"p":[],"v":[]},) and of one item
// (["",600],) beyond its key, rounded up.
const (
	entityOverhead = 48
	itemOverhead   = 16
)

// due reports whether a record's local seen mark should be reported: it is
// newer than the replicated LastQueried by at least granularity seconds
// (a record never queried before is always due once seen).
func due(seen, lastQueried, granularity int64) (int64, bool) {
	return seen, seen > lastQueried && seen-lastQueried >= granularity
}

// age is how long before now a record was seen, never negative.
func age(now, seen int64) int64 { return max(now-seen, 0) }

// Collect walks v and returns the touch bodies that report every due
// record, at time now (Unix seconds), each body at most about maxBody bytes
// of JSON. Entities come in ID order and records in key order, so the same
// marks give the same bodies. Of the pairs and VERP sources it reads only
// the index leaves that were marked or rewritten since a walk found nothing
// due in them (index.View.EachPairMarked): one caller at a time.
func Collect(v *index.View, now, granularity int64, maxBody int) []command.TouchBody {
	byID := map[uint64]*command.TouchEntity{}
	get := func(id uint64) *command.TouchEntity {
		te := byID[id]
		if te == nil {
			te = &command.TouchEntity{ID: id}
			byID[id] = te
		}
		return te
	}
	v.EachEntity(func(e index.EntityRef) bool {
		if s, ok := due(e.Seen(), e.LastQueried(), granularity); ok {
			te := get(e.ID())
			te.Self, te.Age = true, age(now, s)
		}
		return true
	})
	v.EachPairMarked(func(p index.Ref) bool {
		s, ok := due(p.Seen(), p.LastQueried(), granularity)
		if ok {
			te := get(p.Entity())
			te.Pairs = append(te.Pairs, command.TouchItem{Key: p.Key(), Age: age(now, s)})
		}
		return ok
	})
	v.EachVerpMarked(func(vp index.Ref) bool {
		s, ok := due(vp.Seen(), vp.LastQueried(), granularity)
		if ok {
			te := get(vp.Entity())
			te.Verps = append(te.Verps, command.TouchItem{Key: vp.Key(), Age: age(now, s)})
		}
		return ok
	})
	ents := make([]*command.TouchEntity, 0, len(byID))
	for _, te := range byID {
		byKey := func(a, b command.TouchItem) int { return cmp.Compare(a.Key, b.Key) }
		slices.SortFunc(te.Pairs, byKey)
		slices.SortFunc(te.Verps, byKey)
		ents = append(ents, te)
	}
	slices.SortFunc(ents, func(a, b *command.TouchEntity) int { return cmp.Compare(a.ID, b.ID) })
	return chunk(ents, maxBody)
}

// chunk splits entities into bodies of at most about maxBody bytes; an
// entity with more records than fit is split across bodies.
func chunk(ents []*command.TouchEntity, maxBody int) []command.TouchBody {
	c := chunker{max: maxBody}
	for _, te := range ents {
		c.open(te.ID)
		c.part.Self, c.part.Age = te.Self, te.Age
		for _, it := range te.Pairs {
			c.room(te.ID, len(it.Key)+itemOverhead)
			c.part.Pairs = append(c.part.Pairs, it)
		}
		for _, it := range te.Verps {
			c.room(te.ID, len(it.Key)+itemOverhead)
			c.part.Verps = append(c.part.Verps, it)
		}
		c.close()
	}
	c.flush()
	return c.out
}

// chunker fills touch bodies up to a size.
type chunker struct {
	max  int
	out  []command.TouchBody
	cur  command.TouchBody
	part command.TouchEntity
	// size is the estimated JSON size of cur plus part.
	size int
}

func (c *chunker) open(id uint64) {
	c.part = command.TouchEntity{ID: id}
	c.size += entityOverhead
}

// room makes room for n more bytes of the open entity, starting a new body
// (and continuing the entity in it) when the current one is full.
func (c *chunker) room(id uint64, n int) {
	if c.size+n > c.max && c.size > entityOverhead {
		c.close()
		c.flush()
		c.open(id)
	}
	c.size += n
}

// close adds the open entity to the body when it reports anything.
func (c *chunker) close() {
	if c.part.Self || len(c.part.Pairs) > 0 || len(c.part.Verps) > 0 {
		c.cur.Entities = append(c.cur.Entities, c.part)
	} else {
		c.size -= entityOverhead
	}
	c.part = command.TouchEntity{}
}

func (c *chunker) flush() {
	if len(c.cur.Entities) > 0 {
		c.out = append(c.out, c.cur)
	}
	c.cur, c.size = command.TouchBody{}, 0
}
