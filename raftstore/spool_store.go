package raftstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/command"
)

// spoolFile is the spool's file name in the data folder.
const spoolFile = "spool.db"

// spooler is a Store's spool, its replay loop and its metrics.
type spooler struct {
	sp        *spool
	kick      chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc
	started   bool
	done      chan struct{}
	reg       prometheus.Registerer
	committed prometheus.Counter
	failed    prometheus.Counter
	pending   prometheus.GaugeFunc
	closeOnce sync.Once
	closeErr  error
}

// openSpool opens <Dir>/spool.db and registers the spool metrics. Called
// once from open before Raft starts, so a damaged spool stops the node
// before anything runs; startSpool starts the replay loop once Raft runs.
func (s *Store) openSpool() error {
	sp, err := openSpoolFile(filepath.Join(s.cfg.Dir, spoolFile))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &spooler{sp: sp, kick: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{}), reg: s.cfg.Registerer,
		committed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wlns_spool_committed_total",
			Help: "Spooled writes this node committed to the cluster after the quorum came back.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wlns_spool_failed_total",
			Help: "Spooled writes the cluster rejected when they were replayed (see GET /v1/spool).",
		}),
		pending: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "wlns_spool_pending",
			Help: "Writes this node accepted without a quorum and has not committed yet.",
		}, func() float64 { p, _ := sp.counts(); return float64(p) }),
	}
	if err := r.register(); err != nil {
		cancel()
		sp.close()
		return err
	}
	s.spool, r.ctx = r, ctx
	if p, f := sp.counts(); p+f > 0 {
		s.log.Info("write spool has entries", "pending", p, "failed", f)
	}
	return nil
}

// startSpool starts the replay loop (after Raft has started).
func (s *Store) startSpool() {
	s.spool.started = true
	go s.spoolLoop(s.spool.ctx)
}

func (r *spooler) register() error {
	if r.reg == nil {
		return nil
	}
	for i, c := range []prometheus.Collector{r.committed, r.failed, r.pending} {
		if err := r.reg.Register(c); err != nil {
			r.unregister(i)
			return fmt.Errorf("registering spool metrics: %w", err)
		}
	}
	return nil
}

func (r *spooler) unregister(n int) {
	if r.reg == nil {
		return
	}
	for _, c := range []prometheus.Collector{r.committed, r.failed, r.pending}[:n] {
		r.reg.Unregister(c)
	}
}

// closeSpool stops the replay loop and closes the spool file; it is safe
// to call more than once.
func (s *Store) closeSpool() error {
	r := s.spool
	if r == nil {
		return nil
	}
	r.closeOnce.Do(func() {
		r.cancel()
		if r.started {
			<-r.done
		}
		r.unregister(3)
		if err := r.sp.close(); err != nil {
			r.closeErr = fmt.Errorf("closing the write spool: %w", err)
		}
	})
	return r.closeErr
}

// ApplyOrSpool applies e like Apply. When that fails because no quorum
// can be reached (no leader, leadership lost, a timeout) and e is
// Spoolable, it stores e durably in the local spool instead (giving it a
// ReqID if it has none; a ReqID already spooled is the same entry) and
// returns spooled=true: the replay loop commits it once a leader is back.
// Any other failure, or a spool that cannot store it (ErrSpool), is
// returned as an error and nothing was acknowledged.
//
// While older spooled writes are still pending, a spoolable write queues
// behind them instead of overtaking them (a pair through a relay must not
// commit before the spooled registration of that relay).
func (s *Store) ApplyOrSpool(ctx context.Context, e *command.Envelope) (command.Result, bool, error) {
	if s.spool == nil || !command.Spoolable(e) {
		res, err := s.Apply(ctx, e)
		return res, false, err
	}
	var err error
	if p := s.spool.sp.waiting(); p > 0 {
		if err = checkProposal(e); err != nil {
			return command.Result{}, false, fmt.Errorf("%w: %w", ErrInvalidCommand, err)
		}
		err = unproposed(fmt.Errorf("queued behind %d pending spooled writes", p), false)
	} else {
		var res command.Result
		res, err = s.Apply(ctx, e)
		if err == nil || !s.spoolCause(err) || errors.Is(ctx.Err(), context.Canceled) {
			// A caller that went away (cancelled, not timed out) is no
			// sign of a lost quorum, and nobody would hear of the 202.
			return res, false, err
		}
	}
	if e.ReqID == "" {
		id, rerr := newReqID()
		if rerr != nil {
			return command.Result{}, false, errors.Join(err, rerr)
		}
		e.ReqID = id
	}
	ent, added, serr := s.spool.sp.add(e, !errors.Is(err, errNotProposed), err, time.Now())
	if serr != nil {
		return command.Result{}, false, fmt.Errorf("%w (and %w)", err, serr)
	}
	if added {
		s.log.Warn("no quorum: write spooled", "type", e.Type, "req_id", e.ReqID, "seq", ent.Seq, "err", err)
	}
	s.kickSpool()
	return command.Result{}, true, nil
}

// spoolCause reports whether an Apply error means "no quorum now". A
// node without an inter-node port never forwards, so ErrNotLeader there
// means "ask the leader", not a partition.
func (s *Store) spoolCause(err error) bool {
	if errors.Is(err, ErrNotLeader) {
		return s.cfg.Net != nil
	}
	return errors.Is(err, ErrNoLeader) || errors.Is(err, ErrLeadershipLost) || errors.Is(err, ErrTimeout)
}

func newReqID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a request ID for the spool: %w", err)
	}
	return "spool-" + hex.EncodeToString(b[:]), nil
}

// kickSpool wakes the replay loop.
func (s *Store) kickSpool() {
	select {
	case s.spool.kick <- struct{}{}:
	default:
	}
}

// SpoolCounts returns how many spooled writes are pending and failed (0, 0
// without a spool).
func (s *Store) SpoolCounts() (pending, failed int) {
	if s.spool == nil {
		return 0, 0
	}
	return s.spool.sp.counts()
}

// SpoolEntries returns the pending entries in replay order and the failed
// ones, oldest first.
func (s *Store) SpoolEntries() (pending, failed []SpoolEntry, err error) {
	if s.spool == nil {
		return nil, nil, nil
	}
	return s.spool.sp.list()
}

// EachSpooled calls fn for every pending entry in replay order, then for
// every failed one (failed true, with the rejection), until fn returns
// false. It is SpoolEntries for callers that do not import raftstore
// (admin).
func (s *Store) EachSpooled(fn func(failed bool, e *command.Envelope, spooled time.Time, lastErr string, rej *command.Rejection) bool) error {
	pending, failed, err := s.SpoolEntries()
	if err != nil {
		return err
	}
	for _, e := range pending {
		if !fn(false, e.Envelope, e.Spooled, e.LastError, nil) {
			return nil
		}
	}
	for _, e := range failed {
		if !fn(true, e.Envelope, e.Spooled, e.LastError, e.Rejection) {
			return nil
		}
	}
	return nil
}
