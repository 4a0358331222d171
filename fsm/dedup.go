package fsm

import "slices"

// Request-ID window defaults: a ReqID is remembered for a day of command
// time, and at most dedupCap IDs are kept.
const (
	dedupWindow = 24 * 60 * 60
	dedupCap    = 100_000
)

// dedupEntry is one remembered request.
type dedupEntry struct {
	id   string
	time int64
}

// dedup remembers the ReqIDs of recently applied commands so a retried
// proposal applies once. Everything it decides depends only on the log:
// entries leave by command time (relative to the highest time seen) and by
// count, in apply order. The queue is append-only between compactions, so
// a snapshot can keep a slice of it while the FSM goes on appending.
type dedup struct {
	q      []dedupEntry
	head   int
	live   map[string]struct{}
	maxT   int64
	window int64
	cap    int
}

func newDedup() *dedup {
	return &dedup{live: map[string]struct{}{}, window: dedupWindow, cap: dedupCap}
}

// advance moves the window to command time t and forgets what fell out.
func (d *dedup) advance(t int64) {
	if t > d.maxT {
		d.maxT = t
	}
	for d.head < len(d.q) && (d.q[d.head].time < d.maxT-d.window || len(d.q)-d.head > d.cap) {
		// Entries are not cleared: a snapshot may still be reading them.
		delete(d.live, d.q[d.head].id)
		d.head++
	}
	if d.head > 1024 && d.head > len(d.q)/2 {
		// A new array: slices captured by snapshots keep the old one.
		d.q, d.head = slices.Clone(d.q[d.head:]), 0
	}
}

// seen reports whether id is in the window.
func (d *dedup) seen(id string) bool {
	_, ok := d.live[id]
	return ok
}

// add remembers id, applied at time t.
func (d *dedup) add(id string, t int64) {
	d.q = append(d.q, dedupEntry{id: id, time: t})
	d.live[id] = struct{}{}
	if len(d.q)-d.head > d.cap {
		d.advance(d.maxT)
	}
}

// entries returns the window in apply order. The slice is never written
// again by d, so it may be read while d goes on.
func (d *dedup) entries() []dedupEntry { return d.q[d.head:len(d.q):len(d.q)] }
