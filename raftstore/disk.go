package raftstore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/raft"
)

// diskCheckEvery is how often the disk watch reads the data folder's free
// space.
const diskCheckEvery = time.Second

// diskGuard knows whether the data folder's disk can take more Raft log.
// It is full when the free space is below the reserve, or when the last
// log write failed for want of space (a quota the free space does not
// show) and no write has succeeded since. While it is full Store.Apply
// refuses to propose on this node, before Raft is asked (a follower still
// forwards to the leader and does not wait to apply the entry): a leader whose log write fails steps
// down, wins the next election with the same log and fails again, so a
// full disk made a single node flap between leader and follower and every
// later write said only "not the raft leader".
type diskGuard struct {
	dir     string
	reserve uint64
	log     *slog.Logger

	free atomic.Uint64 // bytes available to this process at the last check
	mu   sync.Mutex
	// writeErr is the last log write that failed for want of space, nil
	// once one succeeded since.
	writeErr error
	// full is the cause while the disk is full, nil otherwise.
	full error
}

func newDiskGuard(dir string, reserve uint64, log *slog.Logger) *diskGuard {
	return &diskGuard{dir: dir, reserve: reserve, log: log}
}

// check reads the free space now and returns the cause when the disk is
// full (wrapping ErrDiskFull), nil when it has room.
func (g *diskGuard) check() error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(g.dir, &st); err != nil {
		return nil // no verdict: the log write itself reports what is wrong
	}
	free := st.Bavail * uint64(st.Bsize)
	g.free.Store(free)
	g.mu.Lock()
	defer g.mu.Unlock()
	var cause error
	switch {
	case free < g.reserve:
		cause = fmt.Errorf("%w: data folder %s has %s free, below the %s reserve (--min-free-disk)",
			ErrDiskFull, g.dir, byteSize(free), byteSize(g.reserve))
	case g.writeErr != nil:
		cause = fmt.Errorf("%w: %w", ErrDiskFull, g.writeErr)
	}
	g.transition(cause)
	return cause
}

// transition logs when the verdict changes; mu is held.
func (g *diskGuard) transition(cause error) {
	switch {
	case cause != nil && g.full == nil:
		g.log.Error("disk full: storing no log entries until there is room; DNS answers from memory meanwhile", "err", cause)
	case cause == nil && g.full != nil:
		g.log.Info("disk has room again: taking writes", "free", byteSize(g.free.Load()))
	}
	g.full = cause
}

// err returns the cause while the disk is full, as of the last check.
func (g *diskGuard) err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.full
}

// wrote records the outcome of a log write. A failure for want of space
// makes the disk full until a write succeeds or a check finds the free
// space above the reserve after the failure (space was given back); any
// other outcome clears it.
func (g *diskGuard) wrote(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case noSpace(err):
		g.writeErr = err
		g.transition(fmt.Errorf("%w: %w", ErrDiskFull, err))
	case err == nil && g.writeErr != nil:
		g.writeErr = nil
	}
}

// retry forgets a failed write once the free space is above the reserve
// again, so that the next write tries the disk instead of being refused
// forever; a write that fails again sets it back.
func (g *diskGuard) retry() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.writeErr != nil && g.free.Load() >= g.reserve {
		g.writeErr = nil
	}
}

// noSpace reports whether err is a write that failed for want of space:
// ENOSPC, or EDQUOT (a quota). Raft and bolt wrap some errors as text,
// so the message counts too.
func noSpace(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, syscall.ENOSPC.Error()) || strings.Contains(msg, syscall.EDQUOT.Error())
}

// byteSize formats n bytes for a message.
func byteSize(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// guardedLogs is the Raft log store with every write's outcome reported
// to the disk guard.
type guardedLogs struct {
	raft.LogStore
	g *diskGuard
}

func (l guardedLogs) StoreLog(log *raft.Log) error {
	err := l.LogStore.StoreLog(log)
	l.g.wrote(err)
	return err
}

func (l guardedLogs) StoreLogs(logs []*raft.Log) error {
	err := l.LogStore.StoreLogs(logs)
	l.g.wrote(err)
	return err
}

// DiskFull returns why this node cannot write its Raft log (wrapping
// ErrDiskFull), or nil while its disk has room.
func (s *Store) DiskFull() error { return s.disk.err() }

// watchDisk checks the disk every diskCheckEvery. When it becomes full on
// the leader of a cluster with other voters, the leader hands leadership
// to another voter once: it can no longer write its log, so it cannot
// commit anything, and a healthy node can. Its log then falls behind, so
// it does not win an election again until it has room and has caught up.
func (s *Store) watchDisk() {
	s.every(diskCheckEvery, func() {
		s.disk.retry()
		if s.disk.check() != nil && s.IsLeader() && s.otherVoters() {
			s.log.Warn("disk full: handing leadership to another voter")
			if err := s.raft.LeadershipTransfer().Error(); err != nil {
				s.log.Warn("handing leadership over", "err", err)
			}
		}
	})
}

// otherVoters reports whether the configuration has a voter besides this
// node.
func (s *Store) otherVoters() bool {
	conf, err := s.configuration()
	if err != nil {
		return false
	}
	for _, srv := range conf.Servers {
		if srv.Suffrage == raft.Voter && srv.ID != raft.ServerID(s.id) {
			return true
		}
	}
	return false
}
