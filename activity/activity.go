package activity

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Days is how many days are kept, today included.
const Days = 30

// MaxEntities bounds the table: entities with a higher ID (past 2^24,
// which IDs handed out in sequence reach only after 16M entities) are not
// counted.
const MaxEntities = 1 << 24

// table is one day's live counters, indexed by entity ID.
type table struct {
	day int64 // Unix day
	c   []atomic.Uint32
}

// dayList is a closed day: the entities answered, sorted, and their counts.
type dayList struct {
	day    int64
	ents   []uint32
	counts []uint32
	total  uint64
}

// Counter counts answers per entity per day. The zero value is not usable;
// use New. A nil *Counter counts nothing.
type Counter struct {
	cur atomic.Pointer[table]

	mu sync.Mutex // the fold side: everything below
	// retired are tables replaced while queries may still add to them;
	// the next fold takes what was added late.
	retired []*table
	closed  []dayList // oldest first, at most Days-1
}

// New returns a counter for entity IDs below bound, starting on now's day.
func New(now time.Time, bound uint64) *Counter {
	c := &Counter{}
	c.cur.Store(&table{day: dayOf(now), c: make([]atomic.Uint32, tableSize(bound))})
	return c
}

func dayOf(t time.Time) int64 { return t.Unix() / 86400 }

// tableSize is bound with room for an eighth more entities, at most
// MaxEntities.
func tableSize(bound uint64) int {
	return int(min(bound+bound/8+1024, MaxEntities))
}

// Count counts one answer through entity id (0, no entity, is not
// counted). It allocates nothing and takes no lock: the DNS path calls it.
func (c *Counter) Count(id uint64) {
	if c == nil || id == 0 {
		return
	}
	t := c.cur.Load()
	if id < uint64(len(t.c)) {
		t.c[id].Add(1)
	}
}

// Fold moves to now's day (closing the old one) and grows the table to
// hold entity IDs below bound; call it about once a minute. A Count that
// began before one Fold must end before the next (a query takes far less
// than a minute): a table this Fold replaces is drained again at the
// next Fold, then dropped.
func (c *Counter) Fold(now time.Time, bound uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.cur.Load()
	late := c.retired
	c.retired = nil
	for _, r := range late { // a minute old: no query still adds to them
		c.drainInto(r, t)
	}
	day := dayOf(now)
	if day == t.day && uint64(len(t.c)) >= min(bound, MaxEntities) {
		return
	}
	next := &table{day: max(day, t.day), c: make([]atomic.Uint32, max(len(t.c), tableSize(bound)))}
	c.cur.Store(next)
	c.retired = append(c.retired, t)
	if next.day == t.day {
		c.drainInto(t, next)
	}
}

// drainInto moves r's counts into t when they are of the same day, else
// into r's closed day.
func (c *Counter) drainInto(r, t *table) {
	if r.day == t.day {
		for i := range r.c {
			if n := r.c[i].Swap(0); n != 0 {
				t.c[i].Add(n)
			}
		}
		return
	}
	c.close(r)
}

// close adds what is left in r to its closed day, making one if needed.
func (c *Counter) close(r *table) {
	i := slices.IndexFunc(c.closed, func(d dayList) bool { return d.day == r.day })
	if i < 0 {
		c.closed = append(c.closed, dayList{day: r.day})
		slices.SortFunc(c.closed, func(a, b dayList) int { return int(a.day - b.day) })
		i = slices.IndexFunc(c.closed, func(d dayList) bool { return d.day == r.day })
	}
	d := &c.closed[i]
	for id := range r.c {
		n := r.c[id].Swap(0)
		if n == 0 {
			continue
		}
		d.total += uint64(n)
		if j, ok := slices.BinarySearch(d.ents, uint32(id)); ok {
			d.counts[j] += n
		} else {
			d.ents = slices.Insert(d.ents, j, uint32(id))
			d.counts = slices.Insert(d.counts, j, n)
		}
	}
	for len(c.closed) > Days-1 {
		c.closed = c.closed[1:]
	}
}

// Sum returns the answers per day over the Days days that end on now's
// day, oldest first: through the entities in ids, or through every entity
// when all is true.
func (c *Counter) Sum(now time.Time, ids []uint64, all bool) [Days]uint64 {
	var out [Days]uint64
	if c == nil {
		return out
	}
	today := dayOf(now)
	slot := func(day int64) int {
		if i := Days - 1 - int(today-day); i >= 0 && i < Days && day <= today {
			return i
		}
		return -1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range append([]*table{c.cur.Load()}, c.retired...) {
		if i := slot(t.day); i >= 0 {
			out[i] += t.sum(ids, all)
		}
	}
	for _, d := range c.closed {
		if i := slot(d.day); i >= 0 {
			out[i] += d.sum(ids, all)
		}
	}
	return out
}

func (t *table) sum(ids []uint64, all bool) uint64 {
	var n uint64
	if all {
		for i := range t.c {
			n += uint64(t.c[i].Load())
		}
		return n
	}
	for _, id := range ids {
		if id < uint64(len(t.c)) {
			n += uint64(t.c[id].Load())
		}
	}
	return n
}

func (d *dayList) sum(ids []uint64, all bool) uint64 {
	if all {
		return d.total
	}
	var n uint64
	for _, id := range ids {
		if j, ok := slices.BinarySearch(d.ents, uint32(min(id, MaxEntities))); ok && id < MaxEntities {
			n += uint64(d.counts[j])
		}
	}
	return n
}
