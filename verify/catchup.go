package verify

import (
	"context"
	"sync"
	"time"

	"github.com/wlns/wlns/record"
)

// A challenge's mail goes out once the leader has committed it, but the
// link in it (or the reply to it) may reach a follower that has not yet
// applied that entry: on a loaded mirror that is seconds, and the sender
// was told "This link is not valid" for a challenge the cluster holds.
// So a well-formed token this node does not know makes it catch up with
// the leader (a consistent read) before the answer is "unknown".
//
// The lookups that need a catch-up share it: one leader read is in flight
// per node, and every lookup arriving meanwhile waits for the next read,
// which they all share. (Not the read in flight: it began before they
// arrived, perhaps before their challenge was committed, so it cannot
// vouch for it.) However many tokens arrive, real or forged, the leader
// serves one read at a time per node and nobody is refused for lack of a
// slot.

// ConsistentReader is implemented by a store that can wait until it holds
// every write the leader had acknowledged (raftstore.Store.ConsistentRead).
type ConsistentReader interface {
	ConsistentRead(ctx context.Context) error
}

// catchUpWait bounds how long a page, a confirmation or an inbound RCPT
// waits for this node to catch up with the leader, and one leader read.
const catchUpWait = 3 * time.Second

// Lookup returns the open, unexpired challenge for token as Open does, but
// when this node does not hold it and the token is well-formed, it first
// waits (bounded) until the node holds what the leader has committed.
func (s *Service) Lookup(ctx context.Context, token string) *record.Challenge {
	if c := s.Open(token); c != nil || HashToken(token) == "" {
		return c
	}
	cr, ok := s.store.(ConsistentReader)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, catchUpWait)
	defer cancel()
	r := s.catchUp.join(ctx, cr)
	select {
	case <-r.done:
	case <-ctx.Done():
		s.cfg.Logger.Debug("unknown token: gave up waiting to catch up with the leader", "err", ctx.Err())
		return nil
	}
	if r.err != nil {
		s.cfg.Logger.Debug("unknown token: could not catch up with the leader", "err", r.err)
		return nil
	}
	return s.Open(token)
}

// catchUps coalesces the catch-ups of one node.
type catchUps struct {
	mu sync.Mutex
	// running is the leader read in flight, nil when none.
	running *catchUpRound
	// next is the read the lookups arriving now wait for; it begins when
	// running ends. Nil when nobody is waiting for it yet.
	next *catchUpRound
}

// catchUpRound is one leader read and the lookups that share it.
type catchUpRound struct {
	ctx  context.Context // the first waiter's, without its cancellation
	done chan struct{}   // closed when the read has ended
	err  error           // the read's error, set before done is closed
}

// join returns the round that begins no earlier than now, starting it
// when no read is in flight.
func (c *catchUps) join(ctx context.Context, cr ConsistentReader) *catchUpRound {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next != nil {
		return c.next
	}
	r := &catchUpRound{ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
	if c.running != nil {
		c.next = r
		return r
	}
	c.running = r
	go c.run(cr, r)
	return r
}

// run reads from the leader for r, then for the round queued meanwhile,
// until none is; each read is bounded by catchUpWait.
func (c *catchUps) run(cr ConsistentReader, r *catchUpRound) {
	for r != nil {
		ctx, cancel := context.WithTimeout(r.ctx, catchUpWait)
		r.err = cr.ConsistentRead(ctx)
		cancel()
		close(r.done)
		c.mu.Lock()
		r, c.next = c.next, nil
		c.running = r
		c.mu.Unlock()
	}
}
