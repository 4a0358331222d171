package zone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
)

// XFRConfig configures zone transfer out (AXFR, IXFR, NOTIFY) to standard
// secondaries. Transfers have their own listener, apart from the query
// path.
type XFRConfig struct {
	// Listen is host:port for UDP (SOA queries) and TCP (transfers).
	Listen string
	// Allow lists the prefixes that may ask; everyone else is REFUSED.
	// Empty refuses everyone.
	Allow []netip.Prefix
	// Keys are TSIG keys (RFC 8945, hmac-sha256): fully qualified key name
	// to base64 secret. When set, every request must be signed with one of
	// them (on top of Allow), and NOTIFYs are signed with the first by name that Scopes does not list.
	Keys map[string]string
	// Zones are the zones offered, by their name below the apex: "relay",
	// "verp", "sender", or "@" for the apex itself (which holds the other
	// three). Default relay and verp; only offered zones are written out.
	Zones []string
	// Notify lists the secondaries (host:port) told of each new serial.
	Notify []string
	// Scopes limits TSIG keys, by fully qualified lower-case name, to the
	// cut zones of the delegations inside their prefixes (a postmaster's
	// key, xfr_cutzone.go); keys not listed transfer every zone.
	Scopes map[string][]netip.Prefix
	// NotifyCuts lists postmasters' servers told of each new serial of the
	// cut zones of the delegations inside a prefix.
	NotifyCuts []CutNotify
	// Interval is the least time between two versions of the zones: changes
	// within it are coalesced into one serial and one NOTIFY. Default 1 s.
	Interval time.Duration
	// MaxRecords bounds the names of one zone (default 20,000,000); a
	// larger zone is not offered (REFUSED, logged).
	MaxRecords int
	// MaxMember is the most addresses a CIDR member may expand to in the
	// sender and VERP zones (default 256: an IPv4 /24).
	MaxMember int
	// Journal is how many versions back IXFR reaches (default 64).
	Journal int
	// Logger receives transfer and NOTIFY events; default: discard.
	Logger *slog.Logger
}

func (c XFRConfig) withDefaults() XFRConfig {
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.MaxRecords <= 0 {
		c.MaxRecords = 20_000_000
	}
	if c.MaxMember <= 0 {
		c.MaxMember = 256
	}
	if len(c.Zones) == 0 {
		c.Zones = []string{"relay", "verp"}
	}
	if c.Journal <= 0 {
		c.Journal = 64
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// XFR serves the whitelist's zones to secondaries: it writes them out from
// the index whenever the zone serial moves (at most once per Interval),
// keeps the differences for IXFR, and sends NOTIFYs.
type XFR struct {
	cfg  XFRConfig
	r    *Responder
	ix   index.Reader
	apex string
	log  *slog.Logger
	m    *xfrMetrics
	// parts are the parts of the zones written out ("" is the apex's own
	// records), offered the zones secondaries may ask for.
	parts   []string
	offered map[string]bool

	mu  sync.RWMutex
	cur *xfrVersion
	// journal holds the differences between consecutive versions, oldest
	// first; the last one ends at cur.
	journal []*xfrStep

	// cuts caches the cut zones at the current serial (xfr_cutzone.go).
	cuts cutZones

	servers []*dns.Server
	notify  *notifier
	wg      sync.WaitGroup
	cancel  context.CancelFunc
	addr    netip.AddrPort
}

// xfrVersion is every transferable zone at one serial.
type xfrVersion struct {
	serial uint32
	zones  map[string]*xfrZone // by first label below the apex
	errs   map[string]error    // zones that could not be written out
}

// xfrStep is the difference between two consecutive versions.
type xfrStep struct {
	from, to uint32
	diffs    map[string]xfrDiff
}

// xfrDiff is what one part of the zones lost and gained in a step.
type xfrDiff struct {
	del, add       []xfrRec
	delOwn, addOwn []dns.RR
}

// diffZones compares two versions of a part.
func diffZones(old, cur *xfrZone) xfrDiff {
	d := diffRecs(old.recs, cur.recs)
	d.delOwn, d.addOwn = diffOwn(old.own, cur.own)
	return d
}

// diffOwn compares two sorted lists of records.
func diffOwn(old, cur []dns.RR) (del, add []dns.RR) {
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		var c int
		switch {
		case j == len(cur):
			c = -1
		case i == len(old):
			c = 1
		default:
			c = strings.Compare(old[i].String(), cur[j].String())
		}
		switch {
		case c < 0:
			del = append(del, old[i])
			i++
		case c > 0:
			add = append(add, cur[j])
			j++
		default:
			i++
			j++
		}
	}
	return del, add
}

// diffRecs compares two sorted record lists.
func diffRecs(old, cur []xfrRec) xfrDiff {
	var d xfrDiff
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && old[i].name < cur[j].name):
			d.del = append(d.del, old[i])
			i++
		case i == len(old) || cur[j].name < old[i].name:
			d.add = append(d.add, cur[j])
			j++
		default:
			if old[i] != cur[j] {
				d.del = append(d.del, old[i])
				d.add = append(d.add, cur[j])
			}
			i++
			j++
		}
	}
	return d
}

// NewXFR builds zone transfer for the server's zones; it binds nothing until
// Start.
func (s *Server) NewXFR(cfg XFRConfig) (*XFR, error) {
	cfg = cfg.withDefaults()
	if _, err := netip.ParseAddrPort(cfg.Listen); err != nil {
		return nil, fmt.Errorf("zone transfer listen address %q: %w", cfg.Listen, err)
	}
	for name, secret := range cfg.Keys {
		if !dns.IsFqdn(name) {
			return nil, fmt.Errorf("TSIG key name %q must be fully qualified", name)
		}
		if _, err := decodeSecret(secret); err != nil {
			return nil, fmt.Errorf("TSIG key %s: %w", name, err)
		}
	}
	x := &XFR{cfg: cfg, r: s.resp, ix: s.ix, log: cfg.Logger.With("part", "xfr"),
		apex: strings.ToLower(dns.Fqdn(dnsName(s.resp.apexWire)))}
	if err := x.offer(cfg.Zones); err != nil {
		return nil, err
	}
	x.m = newXFRMetrics()
	if s.cfg.Registerer != nil {
		if err := x.m.register(s.cfg.Registerer); err != nil {
			return nil, fmt.Errorf("zone transfer metrics: %w", err)
		}
	}
	x.notify = newNotifier(x)
	return x, nil
}

// Start writes the zones out once, binds the listener and starts the loop
// that follows the index.
func (x *XFR) Start(ctx context.Context) error {
	x.refresh()
	if err := x.listen(); err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(context.Background())
	x.cancel = cancel
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		x.follow(lctx)
	}()
	return nil
}

// Addr is the bound transfer address (useful with port 0).
func (x *XFR) Addr() netip.AddrPort { return x.addr }

// Shutdown stops the listeners and the loop.
func (x *XFR) Shutdown(ctx context.Context) error {
	if x.cancel != nil {
		x.cancel()
	}
	var errs []error
	for _, s := range x.servers {
		if err := s.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	x.wg.Wait()
	x.notify.wait()
	return errors.Join(errs...)
}

// follow rebuilds the zones whenever the serial moves, at most once per
// Interval (and never more often than a build takes), and notifies.
func (x *XFR) follow(ctx context.Context) {
	wait := x.cfg.Interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		start := time.Now()
		if x.refresh() {
			x.notify.all(ctx)
		}
		wait = max(x.cfg.Interval, time.Since(start))
	}
}

// refresh writes out a new version when the index's serial has moved and
// reports whether it did.
func (x *XFR) refresh() bool {
	v := x.ix.Load()
	x.mu.RLock()
	cur := x.cur
	x.mu.RUnlock()
	serial := v.ZoneSerial()
	if cur != nil && cur.serial == serial {
		return false
	}
	start := time.Now()
	next := &xfrVersion{serial: serial, zones: map[string]*xfrZone{}, errs: map[string]error{}}
	lim := xfrLimits{maxRecords: x.cfg.MaxRecords, maxMember: x.cfg.MaxMember}
	for _, sub := range x.parts {
		z, err := x.r.buildXFRZone(v, sub, lim)
		if err != nil {
			next.errs[sub] = err
			x.log.Warn("zone not offered for transfer", "zone", sub+"."+x.apex, "serial", serial, "err", err)
			continue
		}
		next.zones[sub] = z
		if sub != "" {
			x.m.zone(z)
		}
	}
	x.m.built(time.Since(start))
	x.install(cur, next)
	x.log.Info("zones written out", "serial", serial, "took", time.Since(start).Round(time.Millisecond))
	return true
}

// install makes next current and records the step from cur.
func (x *XFR) install(cur, next *xfrVersion) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.cur = next
	if cur == nil {
		return
	}
	step := &xfrStep{from: cur.serial, to: next.serial, diffs: map[string]xfrDiff{}}
	for sub, z := range next.zones {
		if old := cur.zones[sub]; old != nil {
			step.diffs[sub] = diffZones(old, z)
		}
	}
	x.journal = append(x.journal, step)
	if len(x.journal) > x.cfg.Journal {
		x.journal = x.journal[len(x.journal)-x.cfg.Journal:]
	}
}

// chainFrom returns the steps from serial from to the end of the journal,
// or false when the journal does not reach back that far (or a zone in subs
// was not written out in one of them).
func chainFrom(journal []*xfrStep, from uint32, subs []string) ([]*xfrStep, bool) {
	for i, s := range journal {
		if s.from != from {
			continue
		}
		out := journal[i:]
		for _, st := range out {
			for _, sub := range subs {
				if _, ok := st.diffs[sub]; !ok {
					return nil, false
				}
			}
		}
		return out, true
	}
	return nil, false
}

// offer records the zones offered and the parts they need.
func (x *XFR) offer(zones []string) error {
	x.offered = map[string]bool{}
	for _, z := range zones {
		switch z = strings.ToLower(strings.TrimSpace(z)); z {
		case "@":
			x.offered[""] = true
		case qname.RelayZone, qname.VerpZone, qname.SenderZone:
			x.offered[z] = true
		default:
			return fmt.Errorf("zone %q cannot be transferred: want relay, verp, sender or @ (the apex)", z)
		}
	}
	for _, p := range xfrParts() {
		if x.offered[p] || x.offered[""] {
			x.parts = append(x.parts, p)
		}
	}
	return nil
}
