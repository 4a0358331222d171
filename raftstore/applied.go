package raftstore

import (
	"context"
	"sync"
	"time"
)

// applied wakes goroutines waiting for the state machine to apply log
// entries: ApplyBatch and Restore call advance once they are done, and a
// waiter parks on the channel of the moment instead of polling. (Entries
// that never reach the FSM — no-ops, barriers — move raft's applied index
// without a wake, so waiters still look every recheck.)
type applied struct {
	mu sync.Mutex
	ch chan struct{}
	// recheck bounds how long a waiter sleeps without a wake.
	recheck time.Duration
}

// appliedRecheck is applied.recheck's value outside tests.
const appliedRecheck = 50 * time.Millisecond

func newApplied() *applied { return &applied{ch: make(chan struct{}), recheck: appliedRecheck} }

// next is closed at the next advance.
func (a *applied) next() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ch
}

// advance wakes every waiter.
func (a *applied) advance() {
	a.mu.Lock()
	close(a.ch)
	a.ch = make(chan struct{})
	a.mu.Unlock()
}

// waitFor returns nil once done reports true, looking again at every
// advance (and every recheck); ctx's error, or errStop once stop
// is closed, ends the wait.
func (a *applied) waitFor(ctx context.Context, stop <-chan struct{}, done func() bool) error {
	t := time.NewTimer(a.recheck)
	defer t.Stop()
	for {
		wake := a.next() // before the check, so an advance in between is not missed
		if done() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return ErrClosed
		case <-wake:
		case <-t.C:
			t.Reset(a.recheck)
		}
	}
}
