package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wlns/wlns/raftstore"
)

// startReadOnly runs a node whose data folder holds a damaged file (the
// Raft log or the spool, damaged as a crash, a full disk or a bad copy
// leaves them) from its newest good snapshot instead of crash-looping: DNS
// answers from that snapshot, the node does not take part in the cluster,
// /healthz is 200 (so a supervisor leaves it running), /readyz and every
// API call answer 503 with the damage and what to do, and the log says so
// at ERROR. Without a good snapshot it returns the damage, and serve exits.
func (n *node) startReadOnly(ctx context.Context, cfg *serveConfig, reg *prometheus.Registry, damage error) error {
	snap, err := raftstore.LoadNewestSnapshot(cfg.data, n.log)
	if err != nil {
		return fmt.Errorf("%w\n(nothing to serve meanwhile: %v)", damage, err)
	}
	reason := fmt.Sprintf("read-only: %v; DNS answers from snapshot %s (Raft index %d) and this node takes no part in the cluster",
		damage, snap.ID(), snap.LogIndex())
	n.log.Error("damaged data folder: serving DNS read-only from the newest good snapshot; writes are refused",
		"err", damage, "snapshot", snap.ID(), "raft_index", snap.LogIndex(), "cluster_members", snap.Members())
	dns, err := n.serveZone(ctx, cfg, reg, snap.Index(), cfg.nodeID)
	if err != nil {
		return err
	}
	n.dnsReady.Store(true)
	if err := reg.Register(readOnlyGauge()); err != nil {
		return fmt.Errorf("registering wlns_store_read_only: %w", err)
	}
	httpAddr, err := n.serveHTTP(cfg, reg, readOnlyHandler(reg, reason))
	if err != nil {
		return err
	}
	if cfg.readyFile != "" {
		info := readyInfo{DNSUDP: dns.UDPAddr().String(), DNSTCP: dns.TCPAddr().String(), HTTP: httpAddr}
		if err := writeReadyFile(cfg.readyFile, &info); err != nil {
			return err
		}
	}
	n.log.Info("serving read-only", "dns_udp", dns.UDPAddr().String(), "http", httpAddr, "apex", cfg.apex)
	return nil
}

// readOnlyHandler is the HTTP side of a read-only node: liveness, metrics,
// and 503 with the reason for everything else.
func readOnlyHandler(g prometheus.Gatherer, reason string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "ok (not ready: %s)\n", reason)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": reason})
	})
	return mux
}

// readOnlyGauge is wlns_store_read_only: 1 on a node serving read-only
// from a snapshot (a node that opened its store normally does not have it).
func readOnlyGauge() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "wlns_store_read_only",
		Help: "1 while this node serves DNS read-only from its newest good snapshot because a data file is damaged (the log says which).",
	})
	g.Set(1)
	return g
}
