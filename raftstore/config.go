package raftstore

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/nodenet"
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

	// Profile names the Raft timings: ProfileWAN (default, nodes 100–300 ms
	// apart) or ProfileLAN. See Profile.
	Profile string
	// SnapshotThreshold is how many log entries since the last snapshot
	// trigger a new one; 0 means the profile's (8192).
	SnapshotThreshold uint64
	// SnapshotInterval is how often the threshold is checked; 0 means 30s.
	SnapshotInterval time.Duration
	// SnapshotBytes also triggers a snapshot once this many bytes of
	// commands were applied since the last one: a bulk import is a few
	// hundred entries of megabytes each, which the entry-count threshold
	// never reaches, and replaying them all at every start takes minutes.
	// 0 means 64 MiB.
	SnapshotBytes uint64
	// SnapshotQuiet is how long nothing must be applied before the commands
	// an import left past the last snapshot (more than TrailingBytes) are
	// snapshotted, so that a new mirror installs the snapshot instead of
	// re-applying them; shorter pauses of an import are not its end. 0
	// means 10s.
	SnapshotQuiet time.Duration
	// mappingGrace, when set, releases a snapshot mapping that no View
	// refers to any more this long after the GC found it so (mapped.go,
	// releaseMapping). 0 keeps every mapping for the life of the process:
	// strings taken from the index share the mapping, and not every holder
	// of one that outlives its View is known to copy it, so the release
	// stays off until they are (tests turn it on).
	mappingGrace time.Duration
	// TrailingLogs is how many entries are kept after a snapshot so that a
	// slightly lagging follower catches up from the log; 0 means the
	// profile's (WAN 32768, LAN 10240).
	TrailingLogs uint64
	// TrailingBytes bounds the log kept after a snapshot by bytes as well:
	// a bulk import is a few hundred entries of megabytes each, all within
	// TrailingLogs, and a new mirror fed that log re-applies every record
	// one by one instead of installing the snapshot. Once the latest
	// TrailingLogs entries hold more than this, fewer are kept; a follower
	// further behind than that is sent a snapshot. 0 means 4 MiB.
	TrailingBytes uint64
	// ApplyTimeout bounds Store.Apply when the context has no deadline;
	// 0 means 10s.
	ApplyTimeout time.Duration

	// Net, when set, is the mutually authenticated inter-node port: Raft
	// runs over it (Bind and Advertise are then unused), followers forward
	// Apply to the leader through it, and it serves joins. Nil means a
	// plain-TCP Raft transport on Bind and no forwarding (single node).
	Net *nodenet.Net
	// JoinTokenHash is the hex SHA-256 of the cluster's join secret; a join
	// request must present the secret. Empty refuses every join.
	JoinTokenHash string
	// Voters is how many voters the leader keeps: every node joins as a
	// non-voter and the leader promotes it (see PromoteAfter) while there
	// are fewer voters. 0 means 7.
	Voters int
	// PromoteAfter is how long a non-voter must stay healthy (recent leader
	// contact, applied index within PromoteMaxLag of the leader's commit
	// index) before the leader promotes it; 0 means 10s. A negative value
	// adds joining nodes as voters at once, with no stabilisation.
	PromoteAfter time.Duration
	// Replace, on a joining node, asks the cluster to take out a member
	// that has this node's ID even while it is alive (the operator replaces
	// it); without it such a join is refused (cluster.go).
	Replace bool
	// ForwardHold is how long Apply on a follower waits for a leader to
	// forward to before it fails with ErrNoLeader; 0 means 5s.
	ForwardHold time.Duration
	// DiskReserve is the free space (bytes) the data folder's disk must
	// keep: below it the node proposes nothing itself (ErrDiskFull; a
	// follower still forwards) before its Raft log fails, and steps down if
	// it leads. 0 means 64 MiB.
	DiskReserve uint64
}

// Defaults for the zero values of Config.
const (
	DefaultSnapshotThreshold = 8192
	DefaultSnapshotInterval  = 30 * time.Second
	DefaultSnapshotBytes     = 64 << 20
	DefaultTrailingBytes     = 4 << 20
	DefaultSnapshotQuiet     = 10 * time.Second
	DefaultPromoteAfter      = 10 * time.Second
	DefaultApplyTimeout      = 10 * time.Second
	DefaultVoters            = 7
	DefaultForwardHold       = 5 * time.Second
	DefaultDiskReserve       = 64 << 20
)

// withDefaults returns cfg with zero values replaced by the defaults.
func (cfg Config) withDefaults() Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p, err := ProfileByName(cfg.Profile)
	if err != nil {
		p, _ = ProfileByName(ProfileWAN) // validate reports the bad name
	}
	if cfg.SnapshotThreshold == 0 {
		cfg.SnapshotThreshold = p.SnapshotThreshold
	}
	if cfg.SnapshotInterval == 0 {
		cfg.SnapshotInterval = DefaultSnapshotInterval
	}
	if cfg.SnapshotBytes == 0 {
		cfg.SnapshotBytes = DefaultSnapshotBytes
	}
	if cfg.SnapshotQuiet == 0 {
		cfg.SnapshotQuiet = DefaultSnapshotQuiet
	}
	if cfg.TrailingLogs == 0 {
		cfg.TrailingLogs = p.TrailingLogs
	}
	if cfg.TrailingBytes == 0 {
		cfg.TrailingBytes = DefaultTrailingBytes
	}
	if cfg.PromoteAfter == 0 {
		cfg.PromoteAfter = DefaultPromoteAfter
	}
	if cfg.ApplyTimeout == 0 {
		cfg.ApplyTimeout = DefaultApplyTimeout
	}
	if cfg.Voters == 0 {
		cfg.Voters = DefaultVoters
	}
	if cfg.ForwardHold == 0 {
		cfg.ForwardHold = DefaultForwardHold
	}
	if cfg.DiskReserve == 0 {
		cfg.DiskReserve = DefaultDiskReserve
	}
	return cfg
}

// validate reports what is wrong with a Config after withDefaults.
func (cfg Config) validate() error {
	var errs []error
	if cfg.Dir == "" {
		errs = append(errs, errors.New("a data folder (Dir) is required"))
	}
	if cfg.Bind == "" && cfg.Net == nil {
		errs = append(errs, errors.New("a raft listen address (Bind) is required"))
	}
	if _, err := ProfileByName(cfg.Profile); err != nil {
		errs = append(errs, err)
	}
	if cfg.Voters < 0 {
		errs = append(errs, errors.New("the voter count (Voters) must not be negative"))
	}
	if cfg.SnapshotInterval < 0 || cfg.SnapshotQuiet < 0 || cfg.ApplyTimeout < 0 || cfg.ForwardHold < 0 {
		errs = append(errs, errors.New("durations must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("raftstore config: %w", err)
	}
	return nil
}
