package raftstore

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/wlns/wlns/command"
)

// coldForwards plays a follower's forwards to the leader on an empty
// connection pool under load: a call takes an idle connection or opens a
// new one (a mutual TLS handshake), and when more than budget calls of a
// round open one together, none of those handshakes ends within the apply
// timeout (they share the CPU), so those calls fail and keep nothing; a
// call that succeeded puts its connection back. Entries that committed
// leave pending.
type coldForwards struct {
	budget int

	mu      sync.Mutex
	pending []SpoolEntry
	idle    int
	// the round being sent: its size, the calls that arrived, the new
	// connections they need, and a channel closed once all arrived.
	size, arrived, opening int
	all                    chan struct{}
}

func (f *coldForwards) firstN(n int) ([]SpoolEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	es := f.pending[:min(n, len(f.pending))]
	f.size, f.arrived, f.opening, f.all = len(independentRun(es)), 0, 0, make(chan struct{})
	return es, nil
}

func (f *coldForwards) one(_ context.Context, e SpoolEntry) error {
	f.mu.Lock()
	fresh := f.idle == 0
	if fresh {
		f.opening++
	} else {
		f.idle--
	}
	if f.arrived++; f.arrived == f.size {
		close(f.all)
	}
	all := f.all
	f.mu.Unlock()
	<-all // every call of the round has taken or is opening its connection

	f.mu.Lock()
	defer f.mu.Unlock()
	if fresh && f.opening > f.budget {
		return errors.New("dialing the leader: context deadline exceeded")
	}
	f.idle++
	for i, p := range f.pending {
		if p.Seq == e.Seq {
			f.pending = append(f.pending[:i], f.pending[i+1:]...)
			break
		}
	}
	return nil
}

func TestReplay_ASpoolDrainsWhenFewHandshakesFitTheTimeout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget int
	}{
		{"two handshakes at a time", 2},
		{"four at a time", 4},
		{"as many as a round", spoolWindow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &coldForwards{budget: tc.budget}
			for i := range 203 {
				f.pending = append(f.pending, SpoolEntry{Seq: uint64(i + 1), Envelope: &command.Envelope{Type: command.PairPut}})
			}
			r := replayer{leader: func() bool { return true }, firstN: f.firstN, one: f.one}
			window, replays := 1, 0
			for ; len(f.pending) > 0 && replays < 50; replays++ {
				_ = r.run(context.Background(), &window) // spoolLoop retries after a failed round
			}
			if len(f.pending) != 0 {
				t.Fatalf("%d of 203 entries still pending after %d replays (window %d, %d connections pooled)", len(f.pending), replays, window, f.idle)
			}
			t.Logf("drained in %d replays, %d connections pooled", replays, f.idle)
		})
	}
}
