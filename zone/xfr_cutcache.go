package zone

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Writing a cut zone out reads every entity and, for the sender and VERP
// trees, every pair or VERP source of the index (the index has no walk by
// entity): 0.17–0.29 s at 1M pairs (childzone's BenchmarkExportCut). So
// each cut zone is written out at most once per cutEvery — the transfer
// interval, or ten times the last write, whichever is longer — and
// requests in between get the copy made last. A copy whose records did
// not change keeps the serial of the copy before it: its serial is the
// zone serial at which its records were first written out, so a change
// elsewhere in the whitelist sends no NOTIFY and no transfer to the
// postmaster's server. Every serial a mirror shows is still the zone
// serial of an index state holding exactly those records, so two mirrors
// never show one serial for different records.
//
// Who writes a cut out: the NOTIFY sender, at each new serial, for the
// cuts of delegations inside --xfr-notify-delegation prefixes — it alone
// learns whether their serial moved, and a transfer request of such a cut
// is answered from its copy. Another cut's copy is written out again by a
// request only when the zone serial moved and the copy is older than
// cutRequestEvery as well, so a client asking without pause (a signed
// one: a postmaster's key opens its own cuts) costs a write-out a minute,
// not one per cutEvery; a secondary without NOTIFY polls at the SOA's
// refresh (an hour). A write-out runs outside the cache's lock: a slow one
// delays no other cut's transfer, and requests for its own cut are
// answered from the copy before it.

// cutRequestEvery is the least time between two write-outs of a cut that
// transfer requests cause (cuts the NOTIFY sender does not keep current).
const cutRequestEvery = time.Minute

// cutCopy is one written-out cut zone; serial and rrs never change, the
// rest only under cutZones.mu.
type cutCopy struct {
	serial uint32   // the zone serial at which these records were first written out
	seen   uint32   // the zone serial of the last write
	rrs    []dns.RR // SOA (at serial) first
	built  time.Time
	took   time.Duration
}

// cutWrite is one write-out in flight; c and err are set before done is
// closed.
type cutWrite struct {
	done chan struct{}
	c    *cutCopy
	err  error
}

// cutZones holds the latest copy of each cut zone, by origin.
type cutZones struct {
	mu      sync.Mutex
	copies  map[string]*cutCopy
	writing map[string]*cutWrite // by origin
	// pruned is the zone serial the copies were last pruned at.
	pruned uint32
	// requestEvery is cutRequestEvery; tests shorten it.
	requestEvery time.Duration
	// write writes a cut out: XFR.writeCut; tests slow it down.
	write func(v *index.View, d *record.Delegation, tree, origin string) (*cutCopy, error)
}

// cutEvery is the least time between two writes of a cut zone.
func (x *XFR) cutEvery(c *cutCopy) time.Duration { return max(x.cfg.Interval, 10*c.took) }

// get returns the cut zone of d in tree. For a transfer request (notifier
// false) that is the last copy unless a request may have it written out
// again (requestDue), or there is none. For the NOTIFY sender it first
// waits out cutEvery, then writes out the index as it is then unless the
// copy is of its serial.
func (z *cutZones) get(ctx context.Context, x *XFR, v *index.View, d *record.Delegation, tree, origin string, notifier bool) (*cutCopy, error) {
	if notifier {
		z.mu.Lock()
		var left time.Duration
		if old := z.copies[origin]; old != nil {
			left = x.cutEvery(old) - time.Since(old.built)
		}
		z.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(left):
		}
		v = x.ix.Load()
	}
	for {
		old, w, mine := z.next(x, v, d, origin, notifier)
		switch {
		case w == nil:
			return old, nil
		case mine:
			z.writeOut(x, w, v, d, tree, origin)
			return w.c, w.err
		}
		select {
		case <-w.done: // another's write-out: look again
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// next says what get does about origin's cut: answer with old (w nil),
// write it out (w, mine), or wait for w, the write-out in flight.
func (z *cutZones) next(x *XFR, v *index.View, d *record.Delegation, origin string, notifier bool) (old *cutCopy, w *cutWrite, mine bool) {
	serial := max(v.ZoneSerial(), 1)
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.copies == nil {
		z.copies, z.writing = map[string]*cutCopy{}, map[string]*cutWrite{}
	}
	if z.pruned != serial {
		z.prune(x, v)
		z.pruned = serial
	}
	old = z.copies[origin]
	switch {
	case old == nil:
	case old.seen == serial:
		return old, nil, false
	case !notifier && (time.Since(old.built) < x.cutEvery(old) || !z.requestDue(x, old, d)):
		return old, nil, false
	}
	if w = z.writing[origin]; w != nil {
		if old != nil && !notifier {
			return old, nil, false
		}
		return old, w, false
	}
	w = &cutWrite{done: make(chan struct{})}
	z.writing[origin] = w
	return old, w, true
}

// requestDue reports whether a transfer request may have old, the copy of
// d's cut, written out again: not when the NOTIFY sender keeps it, nor
// within requestEvery of the last write. Called under z.mu.
func (z *cutZones) requestDue(x *XFR, old *cutCopy, d *record.Delegation) bool {
	for _, cn := range x.cfg.NotifyCuts {
		if cn.Prefix.Bits() <= d.Prefix.Bits() && cn.Prefix.Contains(d.Prefix.Addr()) {
			return false
		}
	}
	every := z.requestEvery
	if every == 0 {
		every = cutRequestEvery
	}
	return time.Since(old.built) >= every
}

// writeOut writes the cut out for w, outside z.mu, and keeps the result
// as the cut's copy: the copy before it, newly seen, when no record
// changed.
func (z *cutZones) writeOut(x *XFR, w *cutWrite, v *index.View, d *record.Delegation, tree, origin string) {
	z.mu.Lock()
	write := z.write
	z.mu.Unlock()
	if write == nil {
		write = x.writeCut
	}
	next, err := write(v, d, tree, origin)
	z.mu.Lock()
	defer z.mu.Unlock()
	defer close(w.done)
	delete(z.writing, origin)
	w.c, w.err = next, err
	if err != nil {
		return
	}
	old := z.copies[origin]
	switch {
	case old != nil && old.seen > next.seen: // written out from a later index meanwhile
		w.c = old
	case old != nil && sameRecords(old.rrs, next.rrs):
		old.seen, old.built, old.took = next.seen, next.built, next.took
		w.c = old
	default:
		z.copies[origin] = next
	}
}

// prune drops the copies of cuts v no longer has (a delegation deleted or
// moved): each holds a whole cut zone, and nothing asks for it again.
// Called under z.mu.
func (z *cutZones) prune(x *XFR, v *index.View) {
	for origin := range z.copies {
		if d, _ := x.cutOf(v, origin); d == nil {
			delete(z.copies, origin)
		}
	}
}

// writeCut writes out a cut zone as Export writes it and reads it back.
func (x *XFR) writeCut(v *index.View, d *record.Delegation, tree, origin string) (*cutCopy, error) {
	start := time.Now()
	var buf bytes.Buffer
	rname, _, _ := dns.UnpackDomainName(x.r.soaNames, len(x.r.ns[0]))
	err := Export(&buf, v, d, ExportConfig{Apex: x.apex, Tree: tree, Hostmaster: rname, TTL: x.r.ttl, NegativeTTL: x.r.negTTL})
	if err != nil {
		return nil, fmt.Errorf("writing out %s: %w", origin, err)
	}
	var rrs []dns.RR
	zp := dns.NewZoneParser(&buf, origin, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("reading back %s: %w", origin, err)
	}
	serial := max(v.ZoneSerial(), 1)
	return &cutCopy{serial: serial, seen: serial, rrs: rrs, built: time.Now(), took: time.Since(start)}, nil
}

// sameRecords compares two copies but for the SOA serial.
func sameRecords(a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	sa, sb := *a[0].(*dns.SOA), *b[0].(*dns.SOA)
	sa.Serial = sb.Serial
	if sa.String() != sb.String() {
		return false
	}
	for i := 1; i < len(a); i++ {
		if a[i].String() != b[i].String() {
			return false
		}
	}
	return true
}
