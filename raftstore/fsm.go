package raftstore

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// FSM is the deterministic state machine: it applies committed command
// envelopes into the index and the token state. Raft calls ApplyBatch,
// Snapshot and Restore from one goroutine; readers use Index().Load(),
// Token and the Challenge accessors without locks.
type FSM struct {
	ix      *index.Index
	st      state
	dd      *dedup
	tokens  atomic.Pointer[tokenSet]
	chal    atomic.Pointer[challenges]
	dism    atomic.Pointer[state]
	log     *slog.Logger
	metrics *metrics
	// seen is the index of the last log entry ApplyBatch finished (command
	// or configuration); WaitReady compares it with raft's AppliedIndex,
	// which moves when entries are handed over, before they are applied.
	seen atomic.Uint64
	// zs is the zone serial of the applied state (zoneserial.go).
	zs zoneSerial
	// counting mirrors zs.counting for the store's goroutines.
	counting atomic.Bool
	// sinceSnapshot counts the command bytes applied since the last
	// snapshot was captured (see Store.snapshotBySize).
	sinceSnapshot atomic.Uint64
	// tail remembers the sizes of the latest command entries, so the store
	// keeps its log bounded by bytes (Store.boundTrailingLogs).
	tail *logTail
	// applied wakes waiters once a batch is applied or a snapshot restored.
	applied *applied
}

var _ raft.BatchingFSM = (*FSM)(nil)

// NewFSM returns an empty state machine. logger may be nil; m may be nil.
func NewFSM(logger *slog.Logger, m *metrics) *FSM {
	if logger == nil {
		logger = slog.Default()
	}
	f := &FSM{ix: index.New(), st: newState(), dd: newDedup(), log: logger, metrics: m, applied: newApplied(),
		tail: newLogTail(defaultTailEntries), zs: zoneSerial{n: 1}}
	f.publish()
	return f
}

// publish hands the state's token and challenge sets to lock-free readers.
func (f *FSM) publish() {
	f.tokens.Store(f.st.tokens)
	f.chal.Store(f.st.ch)
	f.dism.Store(&state{dismissed: f.st.dismissed})
}

// Index returns the index the FSM writes.
func (f *FSM) Index() *index.Index { return f.ix }

// Token returns the token whose secret has the hex SHA-256 hash, or nil.
func (f *FSM) Token(hash string) *record.Token {
	return f.tokens.Load().byHash[hash]
}

// Tokens returns all tokens ordered by name.
func (f *FSM) Tokens() []*record.Token { return f.tokens.Load().sorted() }

// Apply applies one log entry; see ApplyBatch.
func (f *FSM) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies committed log entries in one index transaction and
// publishes one new version. It returns one command.Result per command
// entry (nil for configuration entries). An entry that cannot be decoded,
// or that a newer wlns wrote, panics: a replica that cannot apply the log
// must stop rather than diverge.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	if len(logs) == 0 {
		return out
	}
	a := &applier{txn: f.ix.Begin(), st: f.st}
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		f.sinceSnapshot.Add(uint64(len(l.Data)))
		f.tail.add(l.Index, uint64(len(l.Data)))
		e, err := command.Decode(l.Data)
		if err != nil {
			panic(fmt.Sprintf("raftstore: cannot apply raft log entry %d (term %d): %v", l.Index, l.Term, err))
		}
		if e.Type == command.Group {
			out[i] = f.applyGroup(a, e, l)
			continue
		}
		r := f.applyTop(a, e)
		f.zs = f.zs.after(changesAnswers(e.Type, r), e.Time, f.dd.maxT)
		out[i] = r
	}
	a.txn.SetSerial(logs[len(logs)-1].Index)
	a.txn.SetZoneSerial(f.zs.n)
	a.txn.Commit()
	f.counting.Store(f.zs.counting)
	f.st = a.st
	f.publish()
	f.seen.Store(logs[len(logs)-1].Index)
	f.applied.advance()
	return out
}

// applyTop applies a top-level envelope: de-duplication by ReqID, then the
// command itself.
func (f *FSM) applyTop(a *applier, e *command.Envelope) command.Result {
	f.dd.advance(e.Time)
	if e.ReqID != "" && f.dd.seen(e.ReqID) {
		return command.Result{Duplicate: true}
	}
	var r command.Result
	if k := kinds[e.Type]; k != nil && k.top != nil {
		r = k.top(f, a, e)
	} else {
		r = a.apply(e)
	}
	if r.Err == nil && e.ReqID != "" {
		f.dd.add(e.ReqID, e.Time)
	}
	return r
}

func init() {
	registerKind(command.Group, kind{
		apply: notInBatch("a group cannot be part of a batch"),
		check: func(*command.Envelope, bool) error {
			return errors.New("group entries are made by the store, not proposed")
		},
	})
}

// applyGroup applies a Group's commands as if each were its own log
// entry, and returns their results in its Results; the zone serial moves
// once for the entry (to the latest time of its commands that changed an
// answer), as for any entry. A Group whose body or
// commands do not decode panics like any entry that does not: the store
// built it from commands it had checked.
func (f *FSM) applyGroup(a *applier, e *command.Envelope, l *raft.Log) command.Result {
	var b command.GroupBody
	err := e.DecodeBody(&b)
	for i := 0; err == nil && i < len(b.Commands); i++ {
		if v := b.Commands[i].V; v < 1 || v > command.Version || b.Commands[i].Type == command.Group {
			err = fmt.Errorf("group command %d: version %d, type %s", i, v, b.Commands[i].Type)
		}
	}
	if err != nil {
		panic(fmt.Sprintf("raftstore: cannot apply raft log entry %d (term %d): %v", l.Index, l.Term, err))
	}
	rs := make([]command.Result, len(b.Commands))
	changed, t := false, int64(0)
	for i := range b.Commands {
		c := &b.Commands[i]
		rs[i] = f.applyTop(a, c)
		if changesAnswers(c.Type, rs[i]) {
			changed, t = true, max(t, c.Time)
		}
	}
	f.zs = f.zs.after(changed, t, f.dd.maxT)
	return command.Result{Results: rs}
}

// Snapshot captures the current state in O(1); Persist encodes it while
// the FSM goes on applying.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.sinceSnapshot.Store(0)
	return &fsmSnapshot{
		view:    f.ix.Load(),
		st:      f.st,
		dedup:   f.dd.entries(),
		maxT:    f.dd.maxT,
		zs:      f.zs,
		metrics: f.metrics,
	}, nil
}

// Restore replaces all state with a snapshot. The new index is built off
// to the side and swapped in with one commit: on a truncated or corrupt
// snapshot Restore returns an error and the current data keeps serving.
func (f *FSM) Restore(rc io.ReadCloser) error {
	start := time.Now()
	r, err := readSnapshot(rc, f.ix)
	if err != nil {
		return fmt.Errorf("restoring snapshot: %w", err)
	}
	// The snapshot's state replaces this node's whole, zone serial
	// included: every mirror that installs it holds the same. A backup
	// restored into a running cluster is raised past the serial the
	// cluster showed by a log entry after it (Store.RestoreBackup), not
	// here, so that mirrors installing the same bytes later agree.
	r.txn.Commit()
	f.st = r.st
	f.dd = r.dd
	f.zs = r.zs
	f.counting.Store(f.zs.counting)
	f.tail.reset()
	f.sinceSnapshot.Store(0)
	f.publish()
	f.applied.advance()
	f.metrics.snapshotRestored(time.Since(start))
	f.log.Info("restored snapshot", "serial", r.serial, "took", time.Since(start), "entities", r.n.entities, "pairs", r.n.pairs, "verps", r.n.verps, "tokens", r.n.tokens, "challenges", r.n.challenges)
	return nil
}
