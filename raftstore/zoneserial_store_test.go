package raftstore

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
)

// A new leader's first writes, arriving together, switch the serial to
// counting with one zone.serial entry, not one per write: each proposal
// waits for the one in flight instead of proposing its own.
func TestStore_ConcurrentFirstWritesProposeOneZoneSerial(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	first := s.raft.LastIndex()
	const writers = 32
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r, err := s.Apply(ctx, env(t, command.PairPut, time.Now().Unix(), "",
				command.PairBody{Sender: fmt.Sprintf("w%d@example.org", w), IP: "192.0.2.1"}))
			if err == nil && r.Err != nil {
				err = r.Err
			}
			if err != nil {
				t.Errorf("write %d: %v", w, err)
			}
		}()
	}
	wg.Wait()
	serials := 0
	var l raft.Log
	for i := first + 1; i <= s.raft.LastIndex(); i++ {
		if s.logs.GetLog(i, &l) == nil {
			serials += bytes.Count(l.Data, []byte(`"type":"zone.serial"`))
		}
	}
	if serials != 1 {
		t.Errorf("%d concurrent first writes proposed %d zone.serial commands, want 1", writers, serials)
	}
}
