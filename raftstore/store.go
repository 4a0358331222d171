package raftstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/fsm"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// logCacheEntries is how many recent log entries stay in memory for
// replicating to followers without a disk read.
const logCacheEntries = 32

// Store is one node of the replicated store: Raft, its bolt log, the
// snapshot store and the FSM. Its methods are safe for concurrent use.
type Store struct {
	cfg     Config
	id      string
	log     *slog.Logger
	fsm     *raftFSM
	raft    *raft.Raft
	trans   *raft.NetworkTransport
	logs    raft.LogStore
	bolt    *raftboltdb.BoltStore
	snaps   raft.SnapshotStore
	metrics *metrics
	profile Profile
	// reloadMu serialises read-modify-writes of raft's ReloadableConfig
	// (timings and boundTrailingLogs).
	reloadMu sync.Mutex
	// serialOne holds a token while a zone.serial proposal to switch to
	// counting is in flight (countSerial): one at a time.
	serialOne chan struct{}

	// started is when Open ran; ledAt the last time (Unix ns) the watch
	// loop saw this node lead; both feed Staleness. hadState says whether
	// Open found Raft state from an earlier run; openedLast is the last
	// command entry in the log then (lastCommandAfter) and openedApplied
	// what the restored snapshot covered (see ReplayPending).
	started       time.Time
	ledAt         atomic.Int64
	hadState      bool
	openedLast    uint64
	openedApplied uint64
	// cleanStop is the log index the last run's index held when it
	// stopped cleanly, -1 when it did not (stale.go).
	cleanStop int64

	// nudge asks the leader to tell followers about a new commit index at
	// once (see nudger); stop ends that loop.
	nudge chan struct{}
	stop  chan struct{}
	// spool holds writes taken without a quorum (spool_store.go).
	spool *spooler
	// disk says whether the data folder's disk is full (disk.go).
	disk *diskGuard

	// lock holds the data folder for this process (lock.go).
	lock *dirLock
	// group commits concurrent proposals together (group.go).
	group *grouper
	// maps are the snapshot files mapped to serve from, the last the
	// current one (mapped.go), until released (releaseMapping).
	mapMu sync.Mutex
	maps  [][]byte
	// binary says whether this leader may write binary entries (binary.go);
	// reads, when not 0, is the command version this node's status claims
	// instead of command.Version (tests play an older build with it).
	binary binaryGate
	reads  atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// Open starts the node: it opens (or creates) the Raft state under
// cfg.Dir/raft, restores the latest snapshot, bootstraps a one-node cluster
// when asked and the state is new, and starts Raft on cfg.Bind. Entries
// after the snapshot are replayed once a leader is known; WaitReady waits
// for that.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("opening raft store: %w", err)
	}
	s := &Store{cfg: cfg, log: cfg.Logger.With("component", "raftstore"),
		nudge: make(chan struct{}, 1), stop: make(chan struct{}), started: time.Now(), serialOne: make(chan struct{}, 1)}
	s.group = &grouper{s: s}
	s.disk = newDiskGuard(cfg.Dir, cfg.DiskReserve, s.log)
	s.profile, _ = ProfileByName(cfg.Profile) // validated
	if err := s.open(); err != nil {
		s.closeParts()
		return nil, err
	}
	s.log.Info("raft store open", "node_id", s.id, "addr", s.trans.LocalAddr(), "dir", cfg.Dir,
		"profile", s.profile.Name, "existing_state", s.hadState)
	return s, nil
}

func (s *Store) open() error {
	raftDir := filepath.Join(s.cfg.Dir, "raft")
	if err := os.MkdirAll(raftDir, 0o750); err != nil {
		return fmt.Errorf("creating raft folder: %w", err)
	}
	lock, err := lockDir(s.cfg.Dir)
	if err != nil {
		return err
	}
	s.lock = lock
	id, err := loadNodeID(s.cfg.Dir, s.cfg.NodeID)
	if err != nil {
		return err
	}
	s.id = id
	if err := s.openSpool(); err != nil {
		return err
	}
	hl := newHCLogger(s.cfg.Logger, "raft")
	s.metrics = newMetrics(s.cfg.Registerer)
	s.fsm = newRaftFSM(s.log, s.metrics)
	s.fsm.tail = newLogTail(s.cfg.TrailingLogs)
	s.bolt, err = openRaftLog(filepath.Join(raftDir, "raft.db"), time.Second)
	if errors.Is(err, ErrDamaged) {
		return err
	}
	if err != nil {
		return fmt.Errorf("opening raft log %s: %w", filepath.Join(raftDir, "raft.db"), err)
	}
	// A small cache: import batches make log entries of megabytes, and 512
	// of them held 2 GiB after a 1M-pair import (docs/performance.md).
	logs, err := raft.NewLogCache(logCacheEntries, guardedLogs{s.bolt, s.disk})
	s.logs = logs
	if err != nil {
		return fmt.Errorf("creating raft log cache: %w", err)
	}
	if err := s.removeSnapshotsCutShort(raftDir); err != nil {
		return err
	}
	if err := checkSnapshotMetas(raftDir); err != nil {
		return err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(raftDir, 2, hl.Named("snapshots"))
	if err != nil {
		return fmt.Errorf("opening snapshot store: %w", err)
	}
	s.snaps = snaps
	if s.trans, err = s.transport(hl); err != nil {
		return err
	}
	rc := s.raftConfig(hl)
	if s.hadState, err = raft.HasExistingState(logs, s.bolt, snaps); err != nil {
		return fmt.Errorf("checking for raft state: %w", err)
	}
	if err := s.bootstrap(rc, logs, snaps); err != nil {
		return err
	}
	// The newest snapshot is restored here, served from its mapped file;
	// raft restores it itself (reading it) only when that fails.
	rc.NoSnapshotRestoreOnStart = s.hadState && s.restoreMapped(raftDir)
	if s.raft, err = raft.NewRaft(rc, s.fsm, logs, s.bolt, snaps, noPipeline{s.trans}); err != nil {
		return fmt.Errorf("starting raft: %w", err)
	}
	s.openedApplied = s.raft.AppliedIndex()
	s.openedLast = s.lastCommandAfter(s.openedApplied, s.raft.LastIndex())
	s.cleanStop = s.takeCleanStop()
	if conf, err := s.configuration(); err == nil {
		s.timings(conf) // a lone server elects itself without a WAN wait
	}
	s.metrics.addStoreGauges(s.fsm.Index(), s.raft.AppliedIndex, s.IsLeader)
	s.metrics.addClusterGauges(s.raft)
	s.metrics.addDiskGauges(s.disk)
	go s.snapshotBySize()
	go s.watch()
	go s.watchDisk()
	if s.cfg.Net != nil {
		s.cfg.Net.SetHandler(rpcHandler{s})
		go s.nudger()
	}
	s.startSpool()
	return s.metrics.register()
}

// transport listens on cfg.Bind for Raft RPCs, or runs Raft over cfg.Net.
func (s *Store) transport(hl *hcLogger) (*raft.NetworkTransport, error) {
	if s.cfg.Net != nil {
		return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: s.cfg.Net.StreamLayer(), MaxPool: 3, Timeout: s.profile.TransportTimeout,
			Logger: hl.Named("transport"), MsgpackUseNewTimeFormat: true,
		}), nil
	}
	var adv net.Addr
	if s.cfg.Advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", s.cfg.Advertise)
		if err != nil {
			return nil, fmt.Errorf("resolving raft advertise address %q: %w", s.cfg.Advertise, err)
		}
		adv = a
	}
	if b, err := net.ResolveTCPAddr("tcp", s.cfg.Bind); err == nil && adv == nil && (b.IP == nil || b.IP.IsUnspecified()) {
		return nil, fmt.Errorf("raft bind address %s is a wildcard: set an advertise address peers can dial", s.cfg.Bind)
	}
	t, err := raft.NewTCPTransportWithLogger(s.cfg.Bind, adv, 3, s.profile.TransportTimeout, hl.Named("transport"))
	if err != nil {
		return nil, fmt.Errorf("listening for raft on %s: %w", s.cfg.Bind, err)
	}
	return t, nil
}

// raftConfig starts from raft's defaults, sets the profile's timings and
// what wlns needs.
func (s *Store) raftConfig(hl *hcLogger) *raft.Config {
	rc := raft.DefaultConfig()
	s.profile.apply(rc)
	rc.LocalID = raft.ServerID(s.id)
	rc.Logger = hl
	rc.SnapshotThreshold = s.cfg.SnapshotThreshold
	rc.SnapshotInterval = s.cfg.SnapshotInterval
	rc.TrailingLogs = s.cfg.TrailingLogs
	rc.ShutdownOnRemove = false
	return rc
}

// bootstrap makes a one-node cluster if asked and the folder is new.
func (s *Store) bootstrap(rc *raft.Config, logs raft.LogStore, snaps raft.SnapshotStore) error {
	if !s.cfg.Bootstrap || s.hadState {
		return nil
	}
	conf := raft.Configuration{Servers: []raft.Server{{ID: rc.LocalID, Address: s.trans.LocalAddr()}}}
	if err := raft.BootstrapCluster(rc, logs, s.bolt, snaps, s.trans, conf); err != nil {
		return fmt.Errorf("bootstrapping raft cluster: %w", err)
	}
	s.log.Info("bootstrapped one-node cluster", "node_id", s.id)
	return nil
}

// Apply proposes e and waits until it is committed and applied on this
// node. The error is one of the sentinel errors when the command could not
// be committed; a deterministic rejection is Result.Err. On a follower with
// an inter-node port (Config.Net) the command is forwarded to the leader,
// waiting up to Config.ForwardHold for one; without it Apply must run on
// the leader.
func (s *Store) Apply(ctx context.Context, e *command.Envelope) (command.Result, error) {
	if s.cfg.Net == nil {
		res, _, err := s.applyLocal(ctx, e)
		return res, err
	}
	return s.applyAnywhere(ctx, e)
}

// applyLocal proposes e on this node, which must be the leader, and returns
// the result and the log index it was committed at.
func (s *Store) applyLocal(ctx context.Context, e *command.Envelope) (command.Result, uint64, error) {
	start := time.Now()
	if err := checkProposal(e); err != nil {
		return command.Result{}, 0, fmt.Errorf("%w: %w", ErrInvalidCommand, err)
	}
	b, err := s.encodeEntry(e) // the disk is checked once per entry (grouper.commit)
	if err != nil {
		return command.Result{}, 0, fmt.Errorf("%w: %w", ErrInvalidCommand, err)
	}
	if len(b) > fsm.MaxEntry {
		return command.Result{}, 0, fmt.Errorf("%w: %d bytes is over the %d-byte entry limit", ErrInvalidCommand, len(b), fsm.MaxEntry)
	}
	actx, cancel := context.WithTimeout(ctx, s.timeout(ctx))
	defer cancel()
	if err := s.countSerial(actx); err != nil {
		s.log.Warn("zone serial", "err", err)
	}
	res, idx, err := s.group.apply(actx, e, b)
	if err != nil {
		if derr := s.disk.err(); derr != nil && errors.Is(err, ErrNotLeader) {
			err = derr // it stepped down because its log write failed
		}
		return command.Result{}, 0, fmt.Errorf("applying %s: %w", e.Type, err)
	}
	s.metrics.applied(time.Since(start))
	return res, idx, nil
}

// timeout is how long raft may take to accept a proposal.
func (s *Store) timeout(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return max(time.Until(dl), time.Millisecond)
	}
	return s.cfg.ApplyTimeout
}

// wait waits for a raft future, or for ctx, and translates raft's errors
// into the sentinel errors.
func wait(ctx context.Context, f raft.Future) error {
	var err error
	if ctx.Done() == nil {
		err = f.Error()
	} else {
		done := make(chan error, 1)
		go func() { done <- f.Error() }()
		select {
		case err = <-done:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %w", ErrNotLeader, err)
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("%w: %w", ErrLeadershipLost, err)
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	default:
		return err
	}
}

// Index returns the in-memory index; the DNS side reads Index().Load().
func (s *Store) Index() index.Reader { return s.fsm.Index().Reader() }

// Token returns the token whose secret has the hex SHA-256 hash (either
// case), or nil. The token must not be modified.
func (s *Store) Token(hash string) *record.Token { return s.fsm.Token(strings.ToLower(hash)) }

// Tokens returns every token, ordered by name. They must not be modified.
func (s *Store) Tokens() []*record.Token { return s.fsm.Tokens() }

// IsLeader reports whether this node is the Raft leader.
func (s *Store) IsLeader() bool { return s.raft.State() == raft.Leader }

// Leader returns the current leader's server ID and Raft address, empty
// when no leader is known.
func (s *Store) Leader() (id, addr string) {
	a, i := s.raft.LeaderWithID()
	return string(i), string(a)
}

// NodeID returns this node's stable Raft server ID.
func (s *Store) NodeID() string { return s.id }

// Addr returns the address Raft listens on.
func (s *Store) Addr() string { return string(s.trans.LocalAddr()) }

// WaitReady returns once a leader is known and this node's FSM has applied
// everything committed when it looked (on the leader, after a Barrier). It
// waits on the apply path's wakes (applied), and looks again at their
// recheck for what moves without one: the leader, no-ops, barriers.
func (s *Store) WaitReady(ctx context.Context) error {
	var target uint64
	for {
		leading := false
		err := s.fsm.applied.waitFor(ctx, s.stop, func() bool {
			switch _, id := s.raft.LeaderWithID(); {
			case s.raft.State() == raft.Shutdown:
				return true
			case id == "":
				return false
			case s.raft.State() == raft.Leader:
				leading = true
				return true
			case target == 0:
				target = s.raft.CommitIndex()
			}
			return target > 0 && s.holds(target)
		})
		switch {
		case err != nil:
			return fmt.Errorf("waiting for raft to be ready: %w", err)
		case s.raft.State() == raft.Shutdown:
			return ErrClosed
		case !leading:
			return nil
		}
		if err := s.leaderBarrier(ctx); err == nil || ctx.Err() != nil {
			return err
		}
	}
}

// leaderBarrier waits for a barrier on the leader. When it fails while ctx
// lasts (leadership lost, or a transfer under way) it returns after a
// recheck, for WaitReady to look again.
func (s *Store) leaderBarrier(ctx context.Context) error {
	err := wait(ctx, s.raft.Barrier(s.timeout(ctx)))
	if err == nil {
		return nil
	}
	t := time.NewTimer(s.fsm.applied.recheck)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting for raft barrier: %w", err)
	case <-t.C:
		return err
	}
}

// fsmTarget is the index of the last entry at or before idx that raft
// hands to the FSM (a command or configuration entry), or 0 when it cannot
// tell or need not: the entries were compacted into a snapshot, or are
// covered by the snapshot restored at start (raft restores it before it
// counts them applied, and keeps TrailingLogs entries it covers).
func (s *Store) fsmTarget(idx uint64) uint64 {
	snap := s.lastSnapshotIndex()
	var l raft.Log
	for i := idx; i > snap && idx-i < 256; i-- {
		if err := s.logs.GetLog(i, &l); err != nil {
			return 0
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return i
		}
	}
	return 0
}

// Close stops Raft, then snapshots what the index holds past the last
// snapshot and records the clean stop (snapshotOnStop), and closes the log
// and the transport. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		_ = s.closeSpool() // closeParts reports its error
		if s.raft != nil {
			if err := s.raft.Shutdown().Error(); err != nil {
				s.closeErr = fmt.Errorf("shutting down raft: %w", err)
			} else {
				s.markCleanStop(s.snapshotOnStop())
			}
		}
		if err := s.closeParts(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
		s.log.Info("raft store closed", "node_id", s.id)
	})
	return s.closeErr
}

// closeParts closes the transport, the bolt store and the metrics.
func (s *Store) closeParts() error {
	var errs []error
	if err := s.closeSpool(); err != nil {
		errs = append(errs, err)
	}
	if s.trans != nil {
		if err := s.trans.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing raft transport: %w", err))
		}
	}
	if s.bolt != nil {
		if err := s.bolt.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing raft log: %w", err))
		}
	}
	s.metrics.unregister()
	if err := s.lock.unlock(); err != nil {
		errs = append(errs, fmt.Errorf("releasing the data folder lock: %w", err))
	}
	return errors.Join(errs...)
}

// lastSnapshotIndex is the index of the latest snapshot, 0 for none.
func (s *Store) lastSnapshotIndex() uint64 {
	n, _ := strconv.ParseUint(s.raft.Stats()["last_snapshot_index"], 10, 64)
	return n
}
