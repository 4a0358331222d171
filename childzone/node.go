package childzone

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/qname"
)

// Node serves the cut zones of its prefixes and keeps them current.
type Node struct {
	cfg      Config
	log      *slog.Logger
	apexWire []byte
	slots    []*slot
	m        *metrics
	now      func() time.Time

	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// slot is one cut zone: its current data and when it was last refreshed.
type slot struct {
	origin string
	tree   string
	prefix string // the delegated prefix, as text
	cur    atomic.Pointer[data]
	// ok is when a primary last answered its SOA (Unix nanoseconds; 0
	// never): the zone expires Expire after it.
	ok atomic.Int64
	// poke wakes the refresh loop (a NOTIFY).
	poke chan struct{}
}

// New builds a node and loads the zone copies kept in cfg.Dir; it starts
// nothing until Start.
func New(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	n := &Node{cfg: cfg, log: cfg.Logger.With("part", "serve-only"), now: cfg.Now}
	buf := make([]byte, 256)
	off, err := dns.PackDomainName(cfg.Apex, buf, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("apex %q: %w", cfg.Apex, err)
	}
	n.apexWire = buf[:off]
	for _, p := range cfg.Prefixes {
		for _, tree := range []string{qname.RelayZone, qname.SenderZone, qname.VerpZone} {
			origin, err := qname.Cut(p, tree, cfg.Apex)
			if err != nil {
				return nil, fmt.Errorf("prefix %s: %w", p, err)
			}
			s := &slot{origin: strings.ToLower(origin), tree: tree, prefix: p.Masked().String(), poke: make(chan struct{}, 1)}
			n.load(s)
			n.slots = append(n.slots, s)
		}
	}
	n.m = newMetrics(n)
	if cfg.Registerer != nil {
		if err := n.m.register(cfg.Registerer); err != nil {
			return nil, fmt.Errorf("serve-only metrics: %w", err)
		}
	}
	return n, nil
}

// Start runs one refresh loop per zone until Shutdown.
func (n *Node) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	for _, s := range n.slots {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.follow(ctx, s)
		}()
	}
}

// Shutdown stops the refresh loops.
func (n *Node) Shutdown() {
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
}

// Origins are the zones served.
func (n *Node) Origins() []string {
	var out []string
	for _, s := range n.slots {
		out = append(out, s.origin)
	}
	return out
}

// Ready says whether every zone is loaded and not expired, or why not.
func (n *Node) Ready() (bool, string) {
	for _, s := range n.slots {
		if s.cur.Load() == nil {
			return false, s.origin + " not transferred yet"
		}
		if n.expired(s) {
			return false, s.origin + " expired: no primary answered for its expire time"
		}
	}
	return true, ""
}

// expired reports whether s has not been refreshed for its expire time.
func (n *Node) expired(s *slot) bool {
	d := s.cur.Load()
	if d == nil {
		return false
	}
	last := s.ok.Load()
	return last == 0 || n.now().Sub(time.Unix(0, last)) > n.timer(d.soa.Expire, n.cfg.Expire)
}

// timer is a SOA timer (seconds) capped by the configured one.
func (n *Node) timer(soa uint32, limit time.Duration) time.Duration {
	d := time.Duration(soa) * time.Second
	if limit > 0 && (limit < d || d == 0) {
		return limit
	}
	return d
}

// slotOf finds the zone holding name.
func (n *Node) slotOf(name string) *slot {
	for _, s := range n.slots {
		if dns.IsSubDomain(s.origin, name) {
			return s
		}
	}
	return nil
}

// fromPrimary reports whether addr is one of the primaries' hosts.
func (n *Node) fromPrimary(addr netip.Addr) bool {
	for _, p := range n.cfg.Primaries {
		if ap, err := netip.ParseAddrPort(p); err == nil && ap.Addr().Unmap() == addr.Unmap() {
			return true
		}
	}
	return false
}
