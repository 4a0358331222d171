package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/delegcheck"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/raftstore"
)

// delegationConfig is the delegation-check part of serveConfig.
type delegationConfig struct {
	// interval is the time between two lame-delegation checks; 0: off.
	interval time.Duration
	// timeout bounds one query to a delegated server.
	timeout time.Duration
}

func (c *delegationConfig) declare(fs *flag.FlagSet) {
	fs.DurationVar(&c.interval, "delegation-check-interval", delegcheck.DefaultInterval,
		"how often this node asks the name servers of every delegated prefix for the SOA of its cuts and reports lame ones (0: never)")
	fs.DurationVar(&c.timeout, "delegation-check-timeout", delegcheck.DefaultTimeout, "time limit of one query of the delegation check")
}

// newDelegationCheck builds the lame-delegation checker (nil when off).
func (n *node) newDelegationCheck(cfg *serveConfig, reg prometheus.Registerer) error {
	if cfg.delegation.interval <= 0 {
		return nil
	}
	c, err := delegcheck.New(delegcheck.Config{Apex: cfg.apex, Interval: cfg.delegation.interval,
		Timeout: cfg.delegation.timeout, Logger: n.log, Registerer: reg})
	if err != nil {
		return fmt.Errorf("building the delegation check: %w", err)
	}
	n.deleg = c
	return nil
}

// delegationResult is what the API shows of the checks; nil when off.
func (n *node) delegationResult() func(netip.Prefix) *delegcheck.Result {
	if n.deleg == nil {
		return nil
	}
	return n.deleg.Result
}

// startDelegationCheck runs the checker until the node stops.
func (n *node) startDelegationCheck(store *raftstore.Store) {
	if n.deleg == nil {
		return
	}
	n.runUntilStop("the delegation check", func(ctx context.Context) {
		n.deleg.Run(ctx, func() *index.View { return store.Index().Load() })
	})
}
