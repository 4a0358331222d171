package raftstore

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/fsm"
)

// raftFSM is the state machine as Raft sees it: it hands committed log
// entries to the FSM and keeps what the store needs to know about the log
// (the last entry applied, the bytes since the last snapshot, the latest
// entries' sizes), times snapshots and wakes waiters once entries are
// applied. The FSM itself reads no clock; the times here are the store's.
type raftFSM struct {
	*fsm.FSM
	log     *slog.Logger
	metrics *metrics
	// seen is the index of the last log entry ApplyBatch finished (command
	// or configuration); WaitReady compares it with raft's AppliedIndex,
	// which moves when entries are handed over, before they are applied.
	seen atomic.Uint64
	// sinceSnapshot counts the command bytes applied since the last
	// snapshot was captured (see Store.snapshotBySize).
	sinceSnapshot atomic.Uint64
	// tail remembers the sizes of the latest command entries, so the store
	// keeps its log bounded by bytes (Store.boundTrailingLogs).
	tail *logTail
	// applied wakes waiters once a batch is applied or a snapshot restored.
	applied *applied
	// mu serialises what raft calls (apply, capture, restore; all from
	// its FSM goroutine) with the store's swap of the index for the mapped
	// snapshot (remap), which runs on another.
	mu sync.Mutex
}

var _ raft.BatchingFSM = (*raftFSM)(nil)

// newRaftFSM returns an empty state machine for Raft. logger may be nil;
// m may be nil.
func newRaftFSM(logger *slog.Logger, m *metrics) *raftFSM {
	if logger == nil {
		logger = slog.Default()
	}
	return &raftFSM{FSM: fsm.NewFSM(logger, m), log: logger, metrics: m, applied: newApplied(), tail: newLogTail(defaultTailEntries)}
}

// Apply applies one log entry; see ApplyBatch.
func (f *raftFSM) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies committed log entries (FSM.ApplyEntries), then wakes
// waiters.
func (f *raftFSM) ApplyBatch(logs []*raft.Log) []any {
	if len(logs) == 0 {
		return nil
	}
	es := make([]fsm.Entry, len(logs))
	for i, l := range logs {
		es[i] = fsm.Entry{Index: l.Index, Term: l.Term, Command: l.Type == raft.LogCommand, Data: l.Data}
		if es[i].Command {
			f.sinceSnapshot.Add(uint64(len(l.Data)))
			f.tail.add(l.Index, uint64(len(l.Data)))
		}
	}
	f.mu.Lock()
	out := f.ApplyEntries(es)
	f.seen.Store(logs[len(logs)-1].Index) // under mu: remap compares it with the state's
	f.mu.Unlock()
	f.applied.advance()
	return out
}

// Snapshot captures the current state in O(1); Persist encodes it while
// the FSM goes on applying.
func (f *raftFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.sinceSnapshot.Store(0)
	f.mu.Lock()
	defer f.mu.Unlock()
	return &raftSnapshot{w: f.Capture(), metrics: f.metrics}, nil
}

// Restore replaces all state with a snapshot (FSM.Restore), then wakes
// waiters.
func (f *raftFSM) Restore(rc io.ReadCloser) error {
	start := time.Now()
	f.mu.Lock()
	r, err := f.FSM.Restore(rc)
	f.mu.Unlock()
	if err != nil {
		return err
	}
	f.restored(r, start)
	return nil
}

// restoreInPlace restores the snapshot m holds and serves from it
// (FSM.RestoreInPlace; see Store.restoreMapped), then wakes waiters. The
// restore began at start (mapping the file).
func (f *raftFSM) restoreInPlace(m *mapping, start time.Time) (fsm.Restored, error) {
	r, err := f.FSM.RestoreInPlaceOwned(m.b, m)
	if err != nil {
		return r, err
	}
	f.restored(r, start)
	return r, nil
}

// remap swaps the FSM's whole state for the snapshot m holds, served from
// it, when the last entry applied is the snapshot's (index), so that the
// state is the same and only its memory changes: between two entries, no
// command interleaves. It reports whether it swapped.
func (f *raftFSM) remap(m *mapping, index uint64) (bool, fsm.Restored, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen.Load() != index {
		return false, fsm.Restored{}, nil
	}
	r, err := f.FSM.RestoreInPlaceOwned(m.b, m)
	return err == nil, r, err
}

// restored resets what counts since the last snapshot and wakes waiters
// after a restore that began at start.
func (f *raftFSM) restored(r fsm.Restored, start time.Time) {
	f.tail.reset()
	f.sinceSnapshot.Store(0)
	f.applied.advance()
	f.metrics.snapshotRestored(time.Since(start))
	f.log.Info("restored snapshot", "serial", r.Serial, "took", time.Since(start), "entities", r.Entities, "pairs", r.Pairs,
		"verps", r.Verps, "tokens", r.Tokens, "challenges", r.Challenges, "served_in_place_bytes", r.InPlace)
}

// raftSnapshot is a captured state as Raft persists it.
type raftSnapshot struct {
	w       io.WriterTo
	metrics *metrics
}

// Persist streams the snapshot into sink, cancelling it on error.
func (s *raftSnapshot) Persist(sink raft.SnapshotSink) error {
	start := time.Now()
	n, err := s.w.WriteTo(sink)
	if err != nil {
		if cerr := sink.Cancel(); cerr != nil {
			err = fmt.Errorf("%w (cancelling: %w)", err, cerr)
		}
		return fmt.Errorf("persisting snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("closing snapshot sink: %w", err)
	}
	s.metrics.snapshotPersisted(time.Since(start), n)
	return nil
}

// Release does nothing: the snapshot holds only garbage-collected values.
func (s *raftSnapshot) Release() {}
