package raftstore

import "sync"

// logTail remembers the index and size of the most recent command entries
// the FSM applied, so that the store can keep a log bounded by bytes as
// well as by entries (see Store.boundTrailingLogs). It holds at most cap
// entries, overwriting the oldest.
type logTail struct {
	mu    sync.Mutex
	cap   int
	next  int // slot the next entry goes to once the ring is full
	index []uint64
	size  []uint64
}

// newLogTail returns an empty tail of at most n entries (n ≥ 1).
func newLogTail(n uint64) *logTail {
	return &logTail{cap: int(max(n, 1))}
}

// add records an applied command entry.
func (t *logTail) add(index, size uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.index) < t.cap {
		t.index = append(t.index, index)
		t.size = append(t.size, size)
		return
	}
	t.index[t.next], t.size[t.next] = index, size
	t.next = (t.next + 1) % t.cap
}

// reset forgets every entry: after a snapshot restore the log the tail
// described is gone.
func (t *logTail) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.index, t.size, t.next = t.index[:0], t.size[:0], 0
}

// keepFrom returns the lowest log index from which the remembered entries
// add up to at most budget bytes, and true; one past the newest entry when
// that entry alone is larger. It returns false when every remembered entry
// fits, since then the entries before them, whose sizes it does not know,
// may fit too.
func (t *logTail) keepFrom(budget uint64) (uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(t.index)
	var sum uint64
	for k := range n {
		i := (t.next - 1 - k + 2*n) % n // newest first
		if sum+t.size[i] > budget {
			return t.index[i] + 1, true
		}
		sum += t.size[i]
	}
	return 0, false
}
