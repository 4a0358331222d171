package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/expiry"
	"github.com/wlns/wlns/raftstore"
)

// expiryConfig is the expiry part of serveConfig.
type expiryConfig struct {
	pairs, domainPairs, verps, relays, groups durationFlag
	touchInterval, granularity, sweepInterval durationFlag
}

// durationFlag is a duration that also accepts days ("180d") and "never".
type durationFlag struct{ d time.Duration }

func (f *durationFlag) String() string {
	if f == nil {
		return ""
	}
	if f.d == 0 {
		return "never"
	}
	if f.d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", f.d/(24*time.Hour))
	}
	return f.d.String()
}

// Set parses s with expiry.ParseDuration.
func (f *durationFlag) Set(s string) error {
	d, err := expiry.ParseDuration(s)
	if err != nil {
		return err
	}
	f.d = d
	return nil
}

func (c *expiryConfig) declare(fs *flag.FlagSet) {
	w := expiry.DefaultWindows()
	c.pairs.d, c.domainPairs.d, c.verps.d, c.relays.d, c.groups.d = w.Pairs, w.DomainPairs, w.Verps, w.Relays, w.Groups
	c.touchInterval.d, c.granularity.d, c.sweepInterval.d = expiry.DefaultTouchInterval, expiry.DefaultGranularity, expiry.DefaultSweepInterval
	fs.Var(&c.pairs, "expire-pairs", "forget an address pair not queried for this long (e.g. 180d, 36h; never)")
	fs.Var(&c.domainPairs, "expire-domain-pairs", "forget a domain-wide pair not queried for this long")
	fs.Var(&c.verps, "expire-verp", "forget a VERP source not queried for this long")
	fs.Var(&c.relays, "expire-relays", "forget a registered relay without pairs or VERP sources not queried for this long")
	fs.Var(&c.groups, "expire-groups", "forget a relay group without pairs or VERP sources not queried for this long (default never)")
	fs.Var(&c.touchInterval, "touch-interval", "how often this node reports the records it answered queries for")
	fs.Var(&c.granularity, "touch-granularity", "a record's query is reported again only when its replicated last-queried time is this much older")
	fs.Var(&c.sweepInterval, "sweep-interval", "how often the leader proposes an expiry sweep")
}

func (c *expiryConfig) validate() []error {
	var errs []error
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"touch-interval", c.touchInterval.d}, {"touch-granularity", c.granularity.d}, {"sweep-interval", c.sweepInterval.d}} {
		if f.d < time.Second {
			errs = append(errs, fmt.Errorf("--%s must be at least 1s", f.name))
		}
	}
	return errs
}

func (c *expiryConfig) windows() expiry.Windows {
	return expiry.Windows{Pairs: c.pairs.d, DomainPairs: c.domainPairs.d, Verps: c.verps.d, Relays: c.relays.d, Groups: c.groups.d}
}

// newExpiry builds the touch and sweep loops; startExpiry runs them.
func (n *node) newExpiry(cfg *serveConfig, store *raftstore.Store, reg prometheus.Registerer) (*expiry.Runner, error) {
	r, err := expiry.New(expiry.Config{
		Index: store.Index(), Store: store, Windows: cfg.expiry.windows(),
		TouchInterval: cfg.expiry.touchInterval.d, Granularity: cfg.expiry.granularity.d, SweepInterval: cfg.expiry.sweepInterval.d,
		Logger: n.log, Registerer: reg,
	})
	if err != nil {
		return nil, fmt.Errorf("setting up expiry: %w", err)
	}
	return r, nil
}

// startExpiry runs r until the node stops.
func (n *node) startExpiry(r *expiry.Runner) {
	n.runUntilStop("expiry", r.Run)
}

// runUntilStop runs run in the background until the node stops, when its
// context is cancelled and the stop waits (bounded) for it to return.
func (n *node) runUntilStop(what string, run func(context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); run(ctx) }()
	n.onStop(func(sctx context.Context) error {
		cancel()
		select {
		case <-done:
			return nil
		case <-sctx.Done():
			return errors.New("stopping " + what + ": " + sctx.Err().Error())
		}
	})
}
