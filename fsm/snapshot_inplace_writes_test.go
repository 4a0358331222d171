package fsm

import (
	"bytes"
	"io"
	"testing"

	"github.com/wlns/wlns/index"
)

// markAll marks every pair, VERP source and entity of f's View seen at
// now, as DNS answers do.
func markAll(f *FSM, now int64) {
	v := f.Index().Load()
	v.EachPair(func(r index.Ref) bool { r.MarkSeen(now); return true })
	v.EachVerpAfter(index.Cursor{}, func(r index.Ref) bool { r.MarkSeen(now); return true })
	v.EachEntity(func(r index.EntityRef) bool { r.MarkSeen(now); return true })
}

// TestRestoreInPlace_WritesNeverReachTheSnapshotMemory restores a
// snapshot in place and applies 600 more random commands (imports,
// touches, deletes, entity writes) in batches: not one byte of the memory
// served in place changes (every write copies its leaf, page or chunk
// first; the aliased ones are of an older generation than any later
// Txn). Then, with every record marked seen (the one write into that
// memory) between more commands, the next snapshot is byte for byte the
// one a read restore with the same history writes.
func TestRestoreInPlace_WritesNeverReachTheSnapshotMemory(t *testing.T) {
	src, _ := applyInChunks(t, randomLog(t, 42, 3000), []int{50, 7})
	snap := persist(t, src)
	buf := aligned(snap)
	orig := bytes.Clone(buf)
	read, inPlace := NewFSM(nil, nil), NewFSM(nil, nil)
	if _, err := read.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if _, err := inPlace.RestoreInPlace(buf); err != nil {
		t.Fatal(err)
	}
	more := randomLog(t, 99, 600)
	va, vb := read.Index().Load(), inPlace.Index().Load()
	ha, hb := &fsmHarness{tb: t, f: read, idx: va.Serial()}, &fsmHarness{tb: t, f: inPlace, idx: vb.Serial()}
	for i := 0; i < len(more); i += 50 {
		ha.apply(more[i:min(i+50, len(more))]...)
		hb.apply(more[i:min(i+50, len(more))]...)
	}
	if !bytes.Equal(buf, orig) {
		n := 0
		for i := range buf {
			if buf[i] != orig[i] {
				if n < 10 {
					t.Logf("byte %d: %02x -> %02x", i, orig[i], buf[i])
				}
				n++
			}
		}
		t.Errorf("%d bytes of the buffer changed by applies", n)
	}
	markAll(read, t0+5000)
	markAll(inPlace, t0+5000)
	ha.apply(more[:40]...)
	hb.apply(more[:40]...)
	markAll(read, t0+6000)
	markAll(inPlace, t0+6000)
	if !bytes.Equal(persist(t, read), persist(t, inPlace)) {
		t.Fatal("after seen marks, the in-place restore persists other bytes than the read one")
	}
}
