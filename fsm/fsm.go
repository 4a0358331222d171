package fsm

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// FSM is the deterministic state machine: it applies committed command
// envelopes into the index and the token, challenge and zone state. One
// goroutine calls ApplyEntries, Capture and Restore; readers use
// Index().Load(), Token and the Challenge accessors without locks. It
// knows nothing of Raft: the store hands it entries (raftFSM).
type FSM struct {
	ix     *index.Index
	st     state
	dd     *dedup
	tokens atomic.Pointer[tokenSet]
	chal   atomic.Pointer[challenges]
	dism   atomic.Pointer[state]
	log    *slog.Logger
	m      Metrics
	// zs is the zone serial of the applied state (zoneserial.go).
	zs zoneSerial
	// counting mirrors zs.counting for the store's goroutines.
	counting atomic.Bool
}

// Metrics receives what the state machine counts while it applies.
type Metrics interface {
	// Swept is called for each expire command applied, with its time and
	// what it deleted by kind.
	Swept(at int64, n Expired)
}

// Entry is one committed log entry.
type Entry struct {
	// Index and Term place the entry in the log.
	Index, Term uint64
	// Command is set for a command entry; others (raft's configuration
	// entries, barriers) only move the serial.
	Command bool
	// Data is a command entry's encoded envelope.
	Data []byte
}

// NewFSM returns an empty state machine. logger may be nil; m may be nil.
func NewFSM(logger *slog.Logger, m Metrics) *FSM {
	if logger == nil {
		logger = slog.Default()
	}
	f := &FSM{ix: index.New(), st: newState(), dd: newDedup(), log: logger, m: m, zs: zoneSerial{n: 1}}
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

// ApplyEntries applies committed log entries in one index transaction
// and publishes one new version. It returns one command.Result per command
// entry (nil for the others). An entry that cannot be decoded, or that a
// newer wlns wrote, panics: a replica that cannot apply the log must stop
// rather than diverge.
func (f *FSM) ApplyEntries(es []Entry) []any {
	out := make([]any, len(es))
	if len(es) == 0 {
		return out
	}
	a := &applier{txn: f.ix.Begin(), st: f.st}
	for i := range es {
		l := &es[i]
		if !l.Command {
			continue
		}
		e, err := command.Decode(l.Data)
		if err != nil {
			panic(fmt.Sprintf("fsm: cannot apply raft log entry %d (term %d): %v", l.Index, l.Term, err))
		}
		if e.Type == command.Group {
			out[i] = f.applyGroup(a, e, l)
			continue
		}
		r := f.applyTop(a, e)
		f.zs = f.zs.after(changesAnswers(e.Type, r), e.Time, f.dd.maxT)
		out[i] = r
	}
	a.txn.SetSerial(es[len(es)-1].Index)
	a.txn.SetZoneSerial(f.zs.n)
	a.txn.Commit()
	f.counting.Store(f.zs.counting)
	f.st = a.st
	f.publish()
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
func (f *FSM) applyGroup(a *applier, e *command.Envelope, l *Entry) command.Result {
	var b command.GroupBody
	err := e.DecodeBody(&b)
	for i := 0; err == nil && i < len(b.Commands); i++ {
		if v := b.Commands[i].V; v < 1 || v > command.Version || b.Commands[i].Type == command.Group {
			err = fmt.Errorf("group command %d: version %d, type %s", i, v, b.Commands[i].Type)
		}
	}
	if err != nil {
		panic(fmt.Sprintf("fsm: cannot apply raft log entry %d (term %d): %v", l.Index, l.Term, err))
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

// Capture captures the current state in O(1); its WriteTo encodes it
// while the FSM goes on applying.
func (f *FSM) Capture() io.WriterTo {
	return &fsmSnapshot{
		view:  f.ix.Load(),
		st:    f.st,
		dedup: f.dd.entries(),
		maxT:  f.dd.maxT,
		zs:    f.zs,
	}
}

// Restore replaces all state with a snapshot read from r. The new index
// is built off to the side and swapped in with one commit: on a truncated
// or corrupt snapshot Restore returns an error wrapping ErrCorruptSnapshot
// and the current data keeps serving.
func (f *FSM) Restore(r io.Reader) (Restored, error) {
	rs, err := readSnapshot(r, f.ix)
	if err != nil {
		return Restored{}, fmt.Errorf("restoring snapshot: %w", err)
	}
	return f.install(rs), nil
}

// RestoreInPlace replaces all state with the snapshot data holds, as
// Restore does, and serves from data itself: the flat parts that lie on
// 8-byte boundaries of data (format 7's; none on a big-endian machine) are
// the index's memory, not copies (index.FlatLoader.Alias). The checksum
// is checked first, in one pass over data. So data must be writable (a
// seen mark is written in place), changed by nobody else, and valid for as
// long as the process may use anything taken from the index: memory kept
// for the life of the process does (RestoreInPlaceOwned tells when it may
// go). Restored.InPlace says how many bytes the index took in place; with
// none, nothing refers to data once RestoreInPlace returns.
func (f *FSM) RestoreInPlace(data []byte) (Restored, error) {
	return f.RestoreInPlaceOwned(data, nil)
}

// RestoreInPlaceOwned is RestoreInPlace, and every View published from
// now on until the next restore holds owner (index.Txn.Own), as does a
// Capture of one: once owner is unreachable, no View or snapshot being
// written refers to data. Only a Ref or a string taken from such a View
// may still (briefly, a reader in flight) point into it.
func (f *FSM) RestoreInPlaceOwned(data []byte, owner any) (Restored, error) {
	rs, err := readSnapshotBytes(data, f.ix)
	if err != nil {
		return Restored{}, fmt.Errorf("restoring snapshot: %w", err)
	}
	if owner != nil {
		rs.txn.Own(owner)
	}
	return f.install(rs), nil
}

// install makes a snapshot read in full the FSM's whole state.
func (f *FSM) install(rs *restored) Restored {
	// The snapshot's state replaces this node's whole, zone serial
	// included: every mirror that installs it holds the same. A backup
	// restored into a running cluster is raised past the serial the
	// cluster showed by a log entry after it (Store.RestoreBackup), not
	// here, so that mirrors installing the same bytes later agree.
	rs.txn.Commit()
	f.st = rs.st
	f.dd = rs.dd
	f.zs = rs.zs
	f.counting.Store(f.zs.counting)
	f.publish()
	return rs.summary()
}

// ErrCorruptSnapshot means a snapshot stream is truncated, fails its
// checksum or does not parse; restoring it changed nothing.
var ErrCorruptSnapshot = errors.New("corrupt or truncated snapshot")

// Restored is what a snapshot held.
type Restored struct {
	// Serial is the log index the snapshot holds everything up to.
	Serial uint64
	// Entities, Pairs, Verps, Tokens and Challenges count its records.
	Entities, Pairs, Verps, Tokens, Challenges uint64
	// InPlace is how many of its bytes the index serves from where they
	// lie (RestoreInPlace); 0 for Restore.
	InPlace int64
	// Written are the parts of RestoreInPlace's data served in place that
	// answers write into: the arenas, whose records hold the seen marks
	// (index.FlatPart.Written). In a private mapping the first write into
	// each page is a copy-on-write fault on the query path, ~15 µs of CPU
	// on the bench machine; the caller copies them in at once instead.
	Written [][]byte
}

// summary is what rs holds.
func (rs *restored) summary() Restored {
	return Restored{Serial: rs.serial, Entities: rs.n.entities, Pairs: rs.n.pairs, Verps: rs.n.verps, Tokens: rs.n.tokens, Challenges: rs.n.challenges, InPlace: rs.inPlace, Written: rs.written}
}

// CheckSnapshot reads a whole snapshot stream into a scratch index and
// returns what it holds; a truncated or damaged one is an error wrapping
// ErrCorruptSnapshot.
func CheckSnapshot(r io.Reader) (Restored, error) {
	rs, err := readSnapshot(r, index.New())
	if err != nil {
		return Restored{}, err
	}
	return rs.summary(), nil
}
