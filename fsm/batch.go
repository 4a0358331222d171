package fsm

import (
	"fmt"

	"github.com/wlns/wlns/command"
)

func init() {
	registerKind(command.Batch, kind{apply: (*applier).batch, check: checkBatch, repeated: batchRepeated})
}

// batch applies a Batch all or nothing: its commands run in a child
// transaction on a copy of the state, which is adopted only when every
// command succeeded. The commands take the batch's Time, ReqID and
// version (at least each command's own: command.MinVersion).
func (a *applier) batch(e *command.Envelope) command.Result {
	var b command.BatchBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{Err: rej}
	}
	if len(b.Commands) == 0 {
		return command.Result{Err: command.Reject(command.Invalid, "empty batch")}
	}
	child := &applier{txn: a.txn.Child(), st: a.st}
	results := make([]command.Result, 0, len(b.Commands))
	for i := range b.Commands {
		c := b.Commands[i]
		c.Time, c.ReqID, c.V = e.Time, e.ReqID, e.V
		var r command.Result
		if c.Type == command.Batch {
			r.Err = command.Reject(command.Invalid, "a batch cannot contain a batch")
		} else {
			r = child.apply(&c)
		}
		results = append(results, r)
		if r.Err != nil {
			rej := *r.Err
			rej.Index = i
			rej.Message = fmt.Sprintf("batch command %d: %s", i, rej.Message)
			return command.Result{Err: &rej, Results: results}
		}
	}
	a.txn.Adopt(child.txn)
	a.st = child.st
	return command.Result{Results: results}
}
