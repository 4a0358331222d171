package raftstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/wlns/wlns/command"
)

// Group commit: concurrent Apply calls on the leader share log entries. A
// proposal that finds no entry on its way (fewer than groupInFlight) is
// proposed at once, alone, as the plain entry it always was (a lone writer
// sees no change, and writes nothing an older build cannot read); while an
// entry is being committed, new proposals queue, and the next entry
// carries all of them as one command.Group. Every node then pays raft's and
// the state machine's per-entry cost (log write with two fdatasyncs,
// replication, decode, one index commit) once per group instead of once
// per write. One entry in flight rather than two makes the groups larger:
// 30 instead of 20 writes per entry from 64 writers, and 15–20% less CPU
// per write on every voter (raftstore/DESIGN.md "Group commit").
const (
	groupInFlight = 1
	// groupMaxCommands and groupMaxBytes bound one Group.
	groupMaxCommands = 1024
	groupMaxBytes    = 1 << 20
	// groupAlone is the entry size from which a command is never grouped
	// nor queued (imports and batches are groups already): it is proposed
	// at once, whatever is in flight.
	groupAlone = 64 << 10
)

// grouper queues the leader's proposals into group commits.
type grouper struct {
	s        *Store
	mu       sync.Mutex
	queue    []*proposal
	inFlight int
}

// proposal is one Apply waiting for its entry.
type proposal struct {
	ctx  context.Context
	e    *command.Envelope
	b    []byte // e encoded
	done chan proposed
}

// proposed is a proposal's outcome.
type proposed struct {
	res command.Result
	idx uint64
	err error
}

// apply proposes e (encoded as b) and waits for its outcome or for ctx.
func (g *grouper) apply(ctx context.Context, e *command.Envelope, b []byte) (command.Result, uint64, error) {
	p := &proposal{ctx: ctx, e: e, b: b, done: make(chan proposed, 1)}
	if len(b) >= groupAlone {
		// Alone, beside the group in flight: single writes do not queue
		// behind an import batch of megabytes.
		go g.commit([]*proposal{p})
		return await(ctx, p)
	}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	var batch []*proposal
	if g.inFlight < groupInFlight {
		if batch = g.take(); batch != nil { // nil when p's caller already gave up
			g.inFlight++
		}
	}
	g.mu.Unlock()
	if batch != nil {
		go g.run(batch)
	}
	return await(ctx, p)
}

// await waits for p's outcome or for ctx.
func await(ctx context.Context, p *proposal) (command.Result, uint64, error) {
	select {
	case o := <-p.done:
		return o.res, o.idx, o.err
	case <-ctx.Done():
		return command.Result{}, 0, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
}

// run commits batch, then whatever queued meanwhile, until the queue is
// empty.
func (g *grouper) run(batch []*proposal) {
	for len(batch) > 0 {
		g.commit(batch)
		g.mu.Lock()
		batch = g.take()
		if len(batch) == 0 {
			g.inFlight--
		}
		g.mu.Unlock()
	}
}

// take removes the next entry's proposals from the queue, within the
// bounds. Proposals whose caller gave up are answered and dropped (they
// were never proposed).
func (g *grouper) take() []*proposal {
	var out []*proposal
	size := 0
	for len(g.queue) > 0 {
		p := g.queue[0]
		if err := p.ctx.Err(); err != nil {
			p.done <- proposed{err: notProposedError{fmt.Errorf("%w: %w", ErrTimeout, err)}}
			g.queue = g.queue[1:]
			continue
		}
		if len(out) > 0 && (len(out) == groupMaxCommands || size+len(p.b) > groupMaxBytes) {
			break
		}
		out = append(out, p)
		size += len(p.b)
		g.queue = g.queue[1:]
	}
	if len(g.queue) == 0 {
		g.queue = nil
	}
	return out
}

// commit proposes one entry for batch and answers every proposal in it.
// The disk is checked here, once per entry, not once per write: a group
// of n writes paid n statfs calls (5% of the leader's CPU per write).
func (g *grouper) commit(batch []*proposal) {
	if err := g.s.disk.check(); err != nil {
		answer(batch, proposed{err: fmt.Errorf("%w; nothing was applied", err)})
		return
	}
	f := g.s.raft.Apply(groupEntry(batch), g.s.cfg.ApplyTimeout)
	if err := wait(context.Background(), f); err != nil {
		answer(batch, proposed{err: err})
		return
	}
	res, ok := f.Response().(command.Result)
	switch {
	case !ok:
		answer(batch, proposed{err: fmt.Errorf("unexpected FSM response %T", f.Response())})
	case len(batch) == 1:
		batch[0].done <- proposed{res: res, idx: f.Index()}
	case len(res.Results) != len(batch):
		answer(batch, proposed{err: fmt.Errorf("group of %d commands got %d results", len(batch), len(res.Results))})
	default:
		for i, p := range batch {
			p.done <- proposed{res: res.Results[i], idx: f.Index()}
		}
	}
}

// groupEntry is the log entry of batch: its one command as it is, or a
// Group of them spliced from the commands' encoded bytes.
func groupEntry(batch []*proposal) []byte {
	if len(batch) == 1 {
		return batch[0].b
	}
	cmds, raw := make([]*command.Envelope, len(batch)), make([][]byte, len(batch))
	for i, p := range batch {
		cmds[i], raw[i] = p.e, p.b
	}
	return command.EncodeGroup(batch[len(batch)-1].e.Time, cmds, raw)
}

// answer gives every proposal in batch the same outcome.
func answer(batch []*proposal, o proposed) {
	for _, p := range batch {
		p.done <- o
	}
}
