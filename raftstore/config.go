package raftstore

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Store. Zero values take the documented defaults.
type Config struct {
	// Dir is the data folder; Raft's bolt file (raft/raft.db) and snapshots
	// (raft/snapshots) go under Dir/raft, the node ID under Dir/node-id.
	// Required.
	Dir string
	// NodeID is the stable Raft server ID. Empty means: read Dir/node-id,
	// or generate one and write it there on first start.
	NodeID string
	// Bind is the Raft TCP listen address, e.g. 127.0.0.1:8300. Port 0 picks
	// a free port (tests). Required.
	Bind string
	// Advertise is the address peers dial; empty means the bound address
	// (which must then not be a wildcard address).
	Advertise string
	// Bootstrap makes this node bootstrap a one-node cluster when Dir holds
	// no Raft state yet. It is ignored when state exists.
	Bootstrap bool
	// Logger receives Raft's and the store's logs; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the store's metrics; nil means no metrics.
	Registerer prometheus.Registerer

	// SnapshotThreshold is how many log entries since the last snapshot
	// trigger a new one; 0 means 8192.
	SnapshotThreshold uint64
	// SnapshotInterval is how often the threshold is checked; 0 means 30s.
	SnapshotInterval time.Duration
	// TrailingLogs is how many entries are kept after a snapshot so that a
	// slightly lagging follower catches up from the log; 0 means 10240.
	TrailingLogs uint64
	// ApplyTimeout bounds Store.Apply when the context has no deadline;
	// 0 means 10s.
	ApplyTimeout time.Duration
}

// Defaults for the zero values of Config.
const (
	DefaultSnapshotThreshold = 8192
	DefaultSnapshotInterval  = 30 * time.Second
	DefaultTrailingLogs      = 10240
	DefaultApplyTimeout      = 10 * time.Second
)

// withDefaults returns cfg with zero values replaced by the defaults.
func (cfg Config) withDefaults() Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SnapshotThreshold == 0 {
		cfg.SnapshotThreshold = DefaultSnapshotThreshold
	}
	if cfg.SnapshotInterval == 0 {
		cfg.SnapshotInterval = DefaultSnapshotInterval
	}
	if cfg.TrailingLogs == 0 {
		cfg.TrailingLogs = DefaultTrailingLogs
	}
	if cfg.ApplyTimeout == 0 {
		cfg.ApplyTimeout = DefaultApplyTimeout
	}
	return cfg
}

// validate reports what is wrong with a Config after withDefaults.
func (cfg Config) validate() error {
	var errs []error
	if cfg.Dir == "" {
		errs = append(errs, errors.New("a data folder (Dir) is required"))
	}
	if cfg.Bind == "" {
		errs = append(errs, errors.New("a raft listen address (Bind) is required"))
	}
	if cfg.SnapshotInterval < 0 || cfg.ApplyTimeout < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("raftstore config: %w", err)
	}
	return nil
}
