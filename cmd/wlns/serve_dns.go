package main

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/raftstore"
	"github.com/wlns/wlns/zone"
)

// startDNS starts the DNS server on the store's index.
func (n *node) startDNS(ctx context.Context, cfg *serveConfig, store *raftstore.Store, reg *prometheus.Registry) (*zone.Server, error) {
	srv, err := zone.New(zone.Config{
		Apex: cfg.apex, Listen: cfg.dns, Readers: cfg.readers, TTL: uint32(cfg.ttl),
		NegativeTTL: uint32(cfg.negTTL), NS: cfg.ns, Hostmaster: cfg.hostmaster,
		Logger: n.log, Registerer: reg,
	}, store.Index())
	if err != nil {
		return nil, fmt.Errorf("building the DNS server: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the DNS server: %w", err)
	}
	n.onStop(func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			return fmt.Errorf("shutting down DNS: %w", err)
		}
		return nil
	})
	return srv, nil
}
