package raftstore

import (
	"errors"
	"runtime/debug"
	"time"

	"github.com/hashicorp/raft"
)

// snapshotCheckEvery is how often snapshotBySize looks at the byte count.
const snapshotCheckEvery = 2 * time.Second

// defaultTailEntries is how many entry sizes an FSM outside a Store
// remembers; a Store remembers its TrailingLogs.
const defaultTailEntries = 32768

// snapshotBySize takes a snapshot whenever more than cfg.SnapshotBytes of
// commands were applied since the last one, so that a restart restores one
// snapshot instead of replaying a bulk import entry by entry; and also
// once more than cfg.TrailingBytes were and nothing was applied for a
// check period (an import that ended), so that what it left past the last
// snapshot is not re-applied entry by entry by a new mirror either. Before
// each check it bounds the kept log by bytes (boundTrailingLogs), so that
// every snapshot, this one's or raft's own by entry count, compacts to it.
// Raft's own entry-count threshold keeps working alongside. It runs until
// Close.
func (s *Store) snapshotBySize() {
	var before, burst uint64
	idle := 0
	s.every(snapshotCheckEvery, func() {
		s.boundTrailingLogs()
		n := s.fsm.sinceSnapshot.Load()
		quiet := n == before && n > s.cfg.TrailingBytes
		switch {
		case n == before:
			idle++
		case n > before:
			burst, idle = burst+n-before, 0
		default: // a snapshot reset the count
			burst, idle = burst+n, 0
		}
		before = n
		if idle == returnAfterIdle && burst > s.cfg.TrailingBytes {
			s.returnMemory()
			burst = 0
		}
		if n < s.cfg.SnapshotBytes && !quiet {
			return
		}
		start := time.Now()
		err := s.raft.Snapshot().Error()
		switch {
		case err == nil:
			s.log.Info("snapshot taken", "reason", "applied bytes", "bytes_since_last", n, "took", time.Since(start))
		case errors.Is(err, raft.ErrNothingNewToSnapshot), errors.Is(err, raft.ErrRaftShutdown):
		default:
			s.log.Warn("snapshot by size failed", "bytes_since_last", n, "err", err)
		}
	})
}

// returnAfterIdle is how many checks in a row with nothing applied make a
// node that applied more than TrailingBytes since it last returned memory
// return it (returnMemory): 10 s, well past the pauses of an import on a
// loaded machine (a first version returned memory after each quiet
// snapshot, which such pauses triggered 29 times in one 10M import, each
// forced collection slowing the import further).
const returnAfterIdle = 5

// returnMemory hands the memory a bulk import churned through back to the
// system once the node has been idle for a while after it (snapshots
// during the import held the Views they started from, so every leaf
// written meanwhile was a copy): a forced collection, then every free page
// returned. The collector otherwise keeps the heap at up to twice the live
// data (GOGC) until it is needed again: at 10M pairs, about 1 GiB of RSS
// more than the index holds. A busy node never gets here.
func (s *Store) returnMemory() {
	start := time.Now()
	debug.FreeOSMemory()
	s.log.Info("returned free memory after an import", "took", time.Since(start))
}

// boundTrailingLogs sets raft's TrailingLogs to the configured count or,
// when fewer of the latest entries already hold cfg.TrailingBytes, to that
// fewer: a follower behind by less than that still catches up from the log,
// one further behind (a new mirror after a bulk import) is sent the
// snapshot instead of re-applying the import record by record.
func (s *Store) boundTrailingLogs() {
	want := s.cfg.TrailingLogs
	if from, ok := s.fsm.tail.keepFrom(s.cfg.TrailingBytes); ok {
		last := s.raft.LastIndex()
		keep := uint64(0)
		if last >= from {
			keep = last - from + 1
		}
		want = min(want, keep)
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cur := s.raft.ReloadableConfig()
	if cur.TrailingLogs == want {
		return
	}
	cur.TrailingLogs = want
	if err := s.raft.ReloadConfig(cur); err != nil {
		s.log.Warn("bounding the trailing log", "trailing_logs", want, "err", err)
		return
	}
	s.log.Debug("trailing log bound", "trailing_logs", want, "trailing_bytes", s.cfg.TrailingBytes)
}

// every runs f every d until Close.
func (s *Store) every(d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			f()
		}
	}
}
