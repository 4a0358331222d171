package raftstore

import (
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/fsm"
	"github.com/wlns/wlns/index"
)

// metrics are the store's Prometheus collectors. A nil *metrics records
// nothing, for FSMs used without a Store.
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector
	apply      prometheus.Histogram
	snapDur    prometheus.Histogram
	snapSize   prometheus.Gauge
	restoreDur prometheus.Gauge
	expired    *prometheus.CounterVec
	lastSweep  prometheus.Gauge
}

// newMetrics builds the store's collectors and registers them with reg
// (nil: none).
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		reg: reg,
		apply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wlns_raft_apply_duration_seconds",
			Help:    "Time Store.Apply took to commit and apply a command.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		snapDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wlns_raft_snapshot_persist_duration_seconds",
			Help:    "Time taken to write a snapshot.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		snapSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wlns_raft_snapshot_size_bytes",
			Help: "Size of the last snapshot written.",
		}),
		restoreDur: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wlns_raft_snapshot_restore_duration_seconds",
			Help: "Time the last snapshot restore took (start-up or install from the leader).",
		}),
		expired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wlns_expiry_records_expired_total",
			Help: "Records this node deleted by applying expire commands, by kind.",
		}, []string{"kind"}),
		lastSweep: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wlns_expiry_last_sweep_timestamp_seconds",
			Help: "Leader clock time (Unix seconds) of the last expire command this node applied.",
		}),
	}
	for _, k := range fsm.ExpiredKinds() {
		m.expired.WithLabelValues(k)
	}
	m.collectors = []prometheus.Collector{m.apply, m.snapDur, m.snapSize, m.restoreDur, m.expired, m.lastSweep}
	return m
}

// addStoreGauges adds the gauges that read live state.
func (m *metrics) addStoreGauges(ix index.Reader, applied func() uint64, leader func() bool) {
	kinds := []struct {
		kind string
		n    func(index.Counts) int
	}{
		{"entities", func(c index.Counts) int { return c.Entities }},
		{"registered_relays", func(c index.Counts) int { return c.Registered }},
		{"pairs", func(c index.Counts) int { return c.Pairs }},
		{"domain_pairs", func(c index.Counts) int { return c.DomainPairs }},
		{"verp_sources", func(c index.Counts) int { return c.VerpSources }},
	}
	for _, k := range kinds {
		n := k.n
		m.collectors = append(m.collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "wlns_records",
			Help:        "Records in this node's index, by kind.",
			ConstLabels: prometheus.Labels{"kind": k.kind},
		}, func() float64 { return float64(n(ix.Load().Counts())) }))
	}
	m.collectors = append(m.collectors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wlns_raft_applied_index",
			Help: "Last Raft log index applied to this node's state machine.",
		}, func() float64 { return float64(applied()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wlns_raft_is_leader",
			Help: "1 when this node is the Raft leader, else 0.",
		}, func() float64 {
			if leader() {
				return 1
			}
			return 0
		}))
}

// addClusterGauges adds the staleness gauges of a node.
func (m *metrics) addClusterGauges(r *raft.Raft) {
	m.collectors = append(m.collectors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wlns_raft_last_contact_seconds",
			Help: "Seconds since this node last heard from the leader (0 on the leader, -1 never).",
		}, func() float64 {
			if r.State() == raft.Leader {
				return 0
			}
			lc := r.LastContact()
			if lc.IsZero() {
				return -1
			}
			return time.Since(lc).Seconds()
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wlns_raft_commit_index",
			Help: "Highest Raft log index this node knows to be committed.",
		}, func() float64 { return float64(r.CommitIndex()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wlns_raft_applied_lag",
			Help: "Committed Raft log entries this node has not applied yet.",
		}, func() float64 {
			c, a := r.CommitIndex(), r.AppliedIndex()
			if c < a {
				return 0
			}
			return float64(c - a)
		}))
}

// addDiskGauges adds the gauges of the disk guard.
func (m *metrics) addDiskGauges(g *diskGuard) {
	m.collectors = append(m.collectors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wlns_raft_disk_full",
			Help: "1 while this node stores no log entries because its data folder's disk is full (free space below the reserve, or a log write failed for want of space), else 0.",
		}, func() float64 {
			if g.err() != nil {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wlns_raft_disk_free_bytes",
			Help: "Bytes free for wlns on the data folder's disk at the last check (every second).",
		}, func() float64 { return float64(g.free.Load()) }))
}

// register registers every collector; on failure it unregisters those
// already registered.
func (m *metrics) register() error {
	if m.reg == nil {
		return nil
	}
	for i, c := range m.collectors {
		if err := m.reg.Register(c); err != nil {
			for _, done := range m.collectors[:i] {
				m.reg.Unregister(done)
			}
			return fmt.Errorf("registering raftstore metrics: %w", err)
		}
	}
	return nil
}

// unregister removes the collectors, so a reopened store can register again.
func (m *metrics) unregister() {
	if m == nil || m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}

func (m *metrics) applied(d time.Duration) {
	if m != nil {
		m.apply.Observe(d.Seconds())
	}
}

func (m *metrics) snapshotPersisted(d time.Duration, size int64) {
	if m != nil {
		m.snapDur.Observe(d.Seconds())
		m.snapSize.Set(float64(size))
	}
}

func (m *metrics) snapshotRestored(d time.Duration) {
	if m != nil {
		m.restoreDur.Set(d.Seconds())
	}
}

// Swept records an applied expire command: its time and what it deleted
// (FSM's Metrics).
func (m *metrics) Swept(at int64, n fsm.Expired) {
	if m == nil {
		return
	}
	m.lastSweep.Set(float64(at))
	for kind, c := range n {
		m.expired.WithLabelValues(kind).Add(float64(c))
	}
}
