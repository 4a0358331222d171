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
// requests in between get the copy made last. A copy whose records did not change keeps the serial of the copy
// before it: its serial is the zone serial at which its records were first
// written out, so a change elsewhere in the whitelist sends no NOTIFY and
// no transfer to the postmaster's server. Every serial a mirror shows is
// still the zone serial of an index state holding exactly those records,
// so two mirrors never show one serial for different records.

// cutCopy is one written-out cut zone; serial and rrs never change, the
// rest only under cutZones.mu.
type cutCopy struct {
	serial uint32   // the zone serial at which these records were first written out
	seen   uint32   // the zone serial of the last write
	rrs    []dns.RR // SOA (at serial) first
	built  time.Time
	took   time.Duration
}

// cutZones holds the latest copy of each cut zone, by origin.
type cutZones struct {
	mu     sync.Mutex
	copies map[string]*cutCopy
}

// cutEvery is the least time between two writes of a cut zone.
func (x *XFR) cutEvery(c *cutCopy) time.Duration { return max(x.cfg.Interval, 10*c.took) }

// get returns the cut zone of d in tree: the last copy when it is of v's
// serial or younger than cutEvery, else a new one. With wait it first
// waits out cutEvery and writes out the index as it is then.
func (z *cutZones) get(ctx context.Context, x *XFR, v *index.View, d *record.Delegation, tree, origin string, wait bool) (*cutCopy, error) {
	if wait {
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
	serial := max(v.ZoneSerial(), 1)
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.copies == nil {
		z.copies = map[string]*cutCopy{}
	}
	old := z.copies[origin]
	if old != nil && (old.seen == serial || time.Since(old.built) < x.cutEvery(old)) {
		return old, nil
	}
	next, err := x.writeCut(v, d, tree, origin)
	if err != nil {
		return nil, err
	}
	if old != nil && sameRecords(old.rrs, next.rrs) {
		old.seen, old.built, old.took = next.seen, next.built, next.took
		return old, nil
	}
	z.prune(x, v)
	z.copies[origin] = next
	return next, nil
}

// prune drops the copies of cuts v no longer has (a delegation deleted or
// moved): each holds a whole cut zone, and nothing asks for it again.
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
