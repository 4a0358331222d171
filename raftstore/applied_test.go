package raftstore

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestApplied_WakesAWaiterAtOnceAndEndsWithItsContext(t *testing.T) {
	a := newApplied()
	a.recheck = time.Hour // only a wake can end the wait in time
	var n atomic.Int64
	done := make(chan error, 1)
	go func() {
		done <- a.waitFor(context.Background(), nil, func() bool { return n.Load() >= 3 })
	}()
	for range 3 {
		time.Sleep(time.Millisecond)
		n.Add(1)
		a.advance()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiter slept through three advances")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := a.waitFor(ctx, nil, func() bool { return false }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait past its context: %v", err)
	}
	stop := make(chan struct{})
	close(stop)
	if err := a.waitFor(context.Background(), stop, func() bool { return false }); !errors.Is(err, ErrClosed) {
		t.Errorf("wait on a closed store: %v", err)
	}
}
