package raftstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
)

func TestFSM_GroupNeverComesFromOutside(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	inner := env(t, command.PairPut, t0, "", command.PairBody{Sender: "a@example.org", IP: "192.0.2.1"})
	_, err := s.Apply(context.Background(), env(t, command.Group, t0, "", command.GroupBody{Commands: []command.Envelope{*inner}}))
	if !errors.Is(err, ErrInvalidCommand) {
		t.Errorf("a proposed group: %v, want ErrInvalidCommand", err)
	}
}

func TestStore_ConcurrentWritesShareLogEntries(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	first := s.raft.LastIndex()
	const writers, each = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r, err := s.Apply(context.Background(), env(t, command.PairPut, t0, fmt.Sprintf("w%d-%d", w, i),
					command.PairBody{Sender: fmt.Sprintf("w%d-%d@example.org", w, i), IP: "192.0.2.1"}))
				if err == nil && (r.Err != nil || !r.Created || r.ID == 0) {
					err = fmt.Errorf("write %d of writer %d: %+v", i, w, r)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.Index().Load().Counts().Pairs; n != writers*each {
		t.Errorf("%d pairs, want %d", n, writers*each)
	}
	entries := s.raft.LastIndex() - first
	groups := 0
	var l raft.Log
	for i := first + 1; i <= s.raft.LastIndex(); i++ {
		if s.logs.GetLog(i, &l) == nil && bytes.Contains(l.Data, []byte(`"type":"group"`)) {
			groups++
		}
	}
	if groups == 0 || entries >= writers*each {
		t.Errorf("%d writes took %d log entries, %d of them groups: want fewer entries than writes", writers*each, entries, groups)
	}
	t.Logf("%d writes in %d log entries (%d groups)", writers*each, entries, groups)
}

func TestStore_LargeEntryGoesBesideTheGroupInFlight(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "first@example.org", IP: "192.0.2.1"})
	s.group.mu.Lock()
	s.group.inFlight = groupInFlight // as if a group were being committed
	s.group.mu.Unlock()
	defer func() {
		s.group.mu.Lock()
		s.group.inFlight = 0
		s.group.mu.Unlock()
	}()
	batch := pairBatch(t, "192.0.2.2", 0, 1000)
	if b, _ := batch.Encode(); len(b) < groupAlone {
		t.Fatalf("the batch is %d bytes, below groupAlone", len(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.Apply(ctx, batch); err != nil {
		t.Fatalf("a batch while a group is in flight: %v, want it proposed at once", err)
	}
	if n := s.Index().Load().Counts().Pairs; n != 1001 {
		t.Errorf("%d pairs, want 1001", n)
	}
}

func TestStore_CancelledWritesLeaveTheGroupFree(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 3 { // each used to keep an in-flight slot for good
		if _, err := s.Apply(gone, env(t, command.PairPut, t0, "", command.PairBody{Sender: fmt.Sprintf("gone%d@example.org", i), IP: "192.0.2.1"})); !errors.Is(err, ErrTimeout) {
			t.Fatalf("write with a cancelled context: %v, want ErrTimeout", err)
		}
	}
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if _, err := s.Apply(ctx, env(t, command.PairPut, t0, "", command.PairBody{Sender: "next@example.org", IP: "192.0.2.1"})); err != nil {
		t.Fatalf("the write after cancelled ones: %v", err)
	}
}
