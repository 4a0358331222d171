package raftstore

import (
	"errors"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/hashicorp/raft"
)

// snapshotCheckEvery is how often snapshotBySize looks at the byte count.
const snapshotCheckEvery = 2 * time.Second

// defaultTailEntries is how many entry sizes an FSM outside a Store
// remembers; a Store remembers its TrailingLogs.
const defaultTailEntries = 32768

// snapshotBySize takes a snapshot when the commands applied since the
// last one call for it (snapshotRule): so that a restart after a crash
// restores a snapshot instead of replaying a bulk import entry by entry,
// and so that what an import left past the last snapshot is not re-applied
// entry by entry by a new mirror either. Once an import has ended it also
// hands the memory the import churned through back (returnMemory), after
// the snapshot, which held the View it started from. Before each check it
// bounds the kept log by bytes (boundTrailingLogs), so that every
// snapshot, this one's or raft's own by entry count, compacts to it.
// Raft's own entry-count threshold keeps working alongside. It runs until
// Close.
func (s *Store) snapshotBySize() {
	rule := snapshotRule{minBytes: s.cfg.SnapshotBytes, trailing: s.cfg.TrailingBytes, quietChecks: quietChecks(s.cfg.SnapshotQuiet)}
	var before, burst uint64
	idle := 0
	s.every(snapshotCheckEvery, func() {
		s.boundTrailingLogs()
		n := s.fsm.sinceSnapshot.Load()
		switch {
		case n == before:
			idle++
		case n > before:
			burst, idle = burst+n-before, 0
		default: // a snapshot reset the count
			burst, idle = burst+n, 0
		}
		before = n
		if n > min(rule.minBytes, rule.trailing) { // else no trigger can fire
			if reason := rule.due(n, s.lastSnapshotSize(), idle); reason != "" {
				s.snapshotNow(reason, n)
				// The count restarted at the capture: the next check's n is
				// all new, even when it exceeds this one's.
				before = 0
			}
		}
		if idle == rule.quietChecks && burst > s.cfg.TrailingBytes {
			s.remapQuiet(filepath.Join(s.cfg.Dir, "raft"))
			s.returnMemory()
			burst = 0
		}
	})
}

// snapshotNow asks raft for a snapshot and logs why and how long it took.
func (s *Store) snapshotNow(reason string, n uint64) {
	start := time.Now()
	err := s.raft.Snapshot().Error()
	switch {
	case err == nil:
		s.log.Info("snapshot taken", "reason", reason, "bytes_since_last", n, "took", time.Since(start))
	case errors.Is(err, raft.ErrNothingNewToSnapshot), errors.Is(err, raft.ErrRaftShutdown):
	default:
		s.log.Warn("snapshot by size failed", "reason", reason, "bytes_since_last", n, "err", err)
	}
}

// snapshotGrowth and quietShare scale the snapshot triggers with the
// state (snapshotRule): a snapshot writes the whole state, so at 10M pairs
// a fixed 64 MiB of commands between snapshots made a growing import write
// it again and again (29–31 snapshots of up to 837 MB in one 10M import;
// ~8 GB each at 100M).
const (
	// snapshotGrowth: the size trigger waits for commands of at least
	// 1/snapshotGrowth of the last snapshot's size. An import growing the
	// state from nothing then snapshots each time the state has grown by
	// about half: about 3× the final state written in all, and a crash
	// replays at most about a third of the records.
	snapshotGrowth = 2
	// quietShare: after an import, the quiet trigger waits for more than
	// 1/quietShare of the last snapshot's size (and TrailingBytes) past
	// it, so that a lull in single writes does not rewrite gigabytes for
	// a few megabytes of log; a new mirror re-applies at most that.
	quietShare = 64
)

// snapshotRule says when the commands applied since the last snapshot call
// for a new one.
type snapshotRule struct {
	// minBytes is Config.SnapshotBytes, the size trigger's floor.
	minBytes uint64
	// trailing is Config.TrailingBytes, the quiet trigger's floor: what
	// the kept log holds at most after a snapshot.
	trailing uint64
	// quietChecks is how many checks in a row with nothing applied mean
	// an import has ended (Config.SnapshotQuiet).
	quietChecks int
}

// due returns why a snapshot is due ("" when none is) after n bytes of
// commands were applied since the last snapshot, which took last bytes on
// disk (0 for none), when the idle latest checks applied nothing:
//
//   - "applied bytes": n reached minBytes and 1/snapshotGrowth of the last
//     snapshot, whatever else happens (an import still running);
//   - "quiet after applying": nothing was applied for quietChecks checks,
//     and n is more than trailing and 1/quietShare of the last snapshot
//     (an import has ended). Pauses of an import shorter than that (a
//     loaded machine, the client reading its file) are not an end.
func (r snapshotRule) due(n, last uint64, idle int) string {
	switch {
	case n >= max(r.minBytes, last/snapshotGrowth):
		return "applied bytes"
	case idle >= r.quietChecks && n > max(r.trailing, last/quietShare):
		return "quiet after applying"
	}
	return ""
}

// quietChecks is how many snapshot checks in a row span d (at least one).
func quietChecks(d time.Duration) int {
	return max(1, int((d+snapshotCheckEvery-1)/snapshotCheckEvery))
}

// lastSnapshotSize is the size in bytes of the newest snapshot, 0 for none
// (or when the snapshot store cannot say).
func (s *Store) lastSnapshotSize() uint64 {
	metas, err := s.snaps.List()
	if err != nil || len(metas) == 0 || metas[0].Size < 0 {
		return 0
	}
	return uint64(metas[0].Size)
}

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
