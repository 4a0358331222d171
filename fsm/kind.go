package fsm

import (
	"fmt"

	"github.com/wlns/wlns/command"
)

// kind is the state machine's part of a command kind (command.Kind is the
// wire's part: version, body shape, spooling, summary). Each kind
// registers it once, in an init function beside its apply code;
// TestKinds_EveryCommandKindIsApplied checks the two registries hold the
// same types.
type kind struct {
	// apply applies one command of the kind, in a batch or alone.
	apply func(a *applier, e *command.Envelope) command.Result
	// top, when set, applies a top-level entry of the kind instead of
	// apply (expire reports what it swept to the metrics).
	top func(f *FSM, a *applier, e *command.Envelope) command.Result
	// check, when set, is the whole proposal-time check of an envelope of
	// the kind (top false inside a batch), instead of decoding the body
	// and running rule and the body's Validate.
	check func(e *command.Envelope, top bool) error
	// rule, when set, is a proposal-time rule on the decoded body beyond
	// its Validate. Such rules go before the log, never into apply: old
	// entries and older nodes apply without them.
	rule func(body any) error
	// quiet marks a kind that never changes a DNS answer (seen reports,
	// tokens, challenge bookkeeping): it does not move the zone serial.
	quiet bool
	// repeated, when set, decides whether a replayed spool entry's
	// rejection only says that an earlier attempt of it committed
	// (unknown: an earlier attempt may have reached the log).
	repeated func(f *FSM, e *command.Envelope, unknown bool, rej *command.Rejection) bool
}

// kinds is the state machine's part of every command kind by type; filled
// by registerKind in init functions and only read afterwards.
var kinds = map[command.Type]*kind{}

// registerKind adds the state machine's part of kind t.
func registerKind(t command.Type, k kind) {
	if _, dup := kinds[t]; dup || k.apply == nil {
		panic(fmt.Sprintf("fsm: kind %q registered twice or without apply", t))
	}
	kinds[t] = &k
}

// rejecting adapts an apply method that returns its rejection apart.
func rejecting(f func(*applier, *command.Envelope) (command.Result, *command.Rejection)) func(*applier, *command.Envelope) command.Result {
	return func(a *applier, e *command.Envelope) command.Result {
		r, rej := f(a, e)
		if rej != nil {
			return command.Result{Err: rej}
		}
		return r
	}
}

// notInBatch is the apply of a kind that only a log entry of its own
// carries (expire, group): inside a batch it is rejected with msg.
func notInBatch(msg string) func(*applier, *command.Envelope) command.Result {
	return func(*applier, *command.Envelope) command.Result {
		return command.Result{Err: command.Reject(command.Invalid, "%s", msg)}
	}
}

// Repeated reports whether rej, the answer to a replayed spool entry e,
// only says that an earlier attempt of e committed (see alreadyApplied).
func (f *FSM) Repeated(e *command.Envelope, unknown bool, rej *command.Rejection) bool {
	k := kinds[e.Type]
	return k != nil && k.repeated != nil && k.repeated(f, e, unknown, rej)
}
