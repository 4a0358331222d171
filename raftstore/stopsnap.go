package raftstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/raft"
)

// snapshotOnStop runs once raft has shut down, when the state machine no
// longer moves. If the index holds entries past the newest snapshot it
// writes a snapshot at the last of them, as raft would; it returns the log
// index the index holds, which Close records as the clean stop.
//
// Raft replays log entries after the last snapshot only once it learns the
// commit index from a leader, so without this snapshot a mirror restarted
// while it cannot reach a quorum would serve less than it had. Taken while
// raft still ran, the snapshot missed what the node applied while it was
// written, and raft's AppliedIndex (the record then) counts no-ops and
// barriers that no snapshot covers: a follower that applied the leader's
// barrier during its shutdown snapshot came back REFUSED as if it had
// crashed.
func (s *Store) snapshotOnStop() uint64 {
	held := s.fsm.seen.Load()
	start := time.Now()
	last, err := s.snapshotAt(held)
	switch {
	case err != nil:
		s.log.Warn("snapshot at shutdown failed; a restart replays the log once a leader is known", "index", held, "err", err)
	case last < held:
		s.log.Info("snapshot taken", "reason", "shutdown", "index", held, "entries_since_last", held-last, "took", time.Since(start))
	}
	return held
}

// snapshotAt writes the state machine's state as a snapshot at log index
// idx, unless the newest snapshot is at idx or past it, and returns the
// newest snapshot's index before it. Raft must be shut down, and the state
// machine must hold exactly the entries up to idx.
func (s *Store) snapshotAt(idx uint64) (uint64, error) {
	conf, confIndex, last, err := configurationAt(s.logs, s.snaps, idx)
	if err != nil || last >= idx {
		return last, err
	}
	var l raft.Log
	if err := s.logs.GetLog(idx, &l); err != nil {
		return last, fmt.Errorf("reading raft log entry %d: %w", idx, err)
	}
	snap, err := s.fsm.Snapshot()
	if err != nil {
		return last, fmt.Errorf("capturing the state: %w", err)
	}
	defer snap.Release()
	sink, err := s.snaps.Create(raft.SnapshotVersionMax, idx, l.Term, conf, confIndex, s.trans)
	if err != nil {
		return last, fmt.Errorf("creating snapshot %d: %w", idx, err)
	}
	return last, snap.Persist(sink) // it cancels the sink on error
}

// configurationAt is the configuration in force at log index upTo (at or
// past the newest snapshot's): the last configuration entry at or before
// it in the log, else the newest snapshot's. It also returns the index of
// that entry and the snapshot's index (0 without one).
func configurationAt(logs raft.LogStore, snaps raft.SnapshotStore, upTo uint64) (conf raft.Configuration, confIndex, snapIndex uint64, err error) {
	metas, err := snaps.List()
	if err != nil {
		return conf, 0, 0, fmt.Errorf("listing snapshots: %w", err)
	}
	if len(metas) > 0 {
		conf, confIndex, snapIndex = metas[0].Configuration, metas[0].ConfigurationIndex, metas[0].Index
	}
	first, err := logs.FirstIndex()
	if err != nil {
		return conf, 0, 0, fmt.Errorf("reading the raft log: %w", err)
	}
	for i := max(first, snapIndex+1); first > 0 && i <= upTo; i++ {
		var l raft.Log
		if err := logs.GetLog(i, &l); err != nil {
			return conf, 0, 0, fmt.Errorf("reading raft log entry %d: %w", i, err)
		}
		if l.Type == raft.LogConfiguration {
			conf, confIndex = raft.DecodeConfiguration(l.Data), i
		}
	}
	return conf, confIndex, snapIndex, nil
}

// removeSnapshotsCutShort removes the temporary folders of snapshots that
// were never finished under raftDir: a shutdown snapshot the process did
// not wait for (--shutdown-timeout, a kill) leaves one, as does a crash
// during any snapshot. Raft ignores them but never removes them, so each
// kept a partial copy of the state on disk for good. Open calls it while
// it holds the raft log's lock, before raft starts: nothing else writes
// snapshots there then.
func (s *Store) removeSnapshotsCutShort(raftDir string) error {
	dir, entries, err := snapshotDir(raftDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("removing unfinished snapshot: %w", err)
		}
		s.log.Info("removed a snapshot that was never finished", "folder", e.Name())
	}
	return nil
}
