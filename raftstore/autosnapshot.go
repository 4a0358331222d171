package raftstore

import (
	"errors"
	"time"

	"github.com/hashicorp/raft"
)

// snapshotCheckEvery is how often snapshotBySize looks at the byte count.
const snapshotCheckEvery = 2 * time.Second

// snapshotBySize takes a snapshot whenever more than cfg.SnapshotBytes of
// commands were applied since the last one, so that a restart restores one
// snapshot instead of replaying a bulk import entry by entry. Raft's own
// entry-count threshold keeps working alongside. It runs until Close.
func (s *Store) snapshotBySize() {
	s.every(snapshotCheckEvery, func() {
		n := s.fsm.sinceSnapshot.Load()
		if n < s.cfg.SnapshotBytes {
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
