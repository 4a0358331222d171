package delegcheck

import (
	"context"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/index"
)

// Config configures a Checker. Zero values take the documented defaults.
type Config struct {
	// Apex is the zone's apex (required).
	Apex string
	// Interval is the time between two rounds of checks; default 1h.
	Interval time.Duration
	// Timeout bounds one DNS query or look-up; default 5s.
	Timeout time.Duration
	// Port is the DNS port asked; default 53.
	Port int
	// Resolve finds the addresses of a name server without glue; default
	// the system resolver.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives a line per lame delegation; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics; default none.
	Registerer prometheus.Registerer
}

// Defaults for Config.
const (
	DefaultInterval = time.Hour
	DefaultTimeout  = 5 * time.Second
)

func (c *Config) setDefaults() {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Port == 0 {
		c.Port = 53
	}
	if c.Resolve == nil {
		c.Resolve = defaultResolve
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Checker checks the delegations of a node's index and keeps the latest
// results. Result is safe for concurrent use; Run and Check run from one
// goroutine.
type Checker struct {
	cfg     Config
	results atomic.Pointer[map[netip.Prefix]*Result]
	metrics *metrics
}

// New returns a Checker; it fails without an apex or when its metrics
// cannot be registered.
func New(cfg Config) (*Checker, error) {
	if cfg.Apex == "" {
		return nil, errNoApex
	}
	cfg.setDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	c := &Checker{cfg: cfg, metrics: m}
	c.results.Store(&map[netip.Prefix]*Result{})
	return c, nil
}

// Result returns the latest check of the delegation of p, or nil when it
// has not been checked yet.
func (c *Checker) Result(p netip.Prefix) *Result { return (*c.results.Load())[p] }

// Check checks every delegation of v once and publishes the results; a
// delegation deleted since is forgotten.
func (c *Checker) Check(ctx context.Context, v *index.View) {
	out := map[netip.Prefix]*Result{}
	lame := 0
	for _, d := range v.Delegations() {
		if ctx.Err() != nil {
			return
		}
		r := c.checkDelegation(ctx, d)
		out[d.Prefix] = r
		for _, s := range r.Servers {
			c.metrics.checked(s.Problem == "")
		}
		if r.Lame {
			lame++
			c.cfg.Logger.Warn("lame delegation", "prefix", d.Prefix, "servers", r.Servers)
		}
	}
	c.results.Store(&out)
	c.metrics.lame.Set(float64(lame))
}

// Run checks the delegations of load's current View every Interval until
// ctx ends; the first round starts at once.
func (c *Checker) Run(ctx context.Context, load func() *index.View) {
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		c.Check(ctx, load())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
