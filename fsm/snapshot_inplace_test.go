package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// aligned returns a copy of b that starts on an 8-byte boundary, as a
// mapping of the snapshot file does (it starts on a page).
func aligned(b []byte) []byte {
	words := make([]uint64, (len(b)+7)/8+1)
	out := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), 8*len(words))[:len(b)]
	copy(out, b)
	return out
}

// everyRecord lists every entity, pair and VERP source a View holds.
func everyRecord(f *FSM) string {
	var b bytes.Buffer
	v := f.Index().Load()
	v.Entities(func(e *record.Entity) bool { fmt.Fprintf(&b, "%+v\n", e); return true })
	v.Pairs(func(p *record.Pair) bool { fmt.Fprintf(&b, "%+v\n", p); return true })
	v.Verps(func(p *record.Verp) bool { fmt.Fprintf(&b, "%+v\n", p); return true })
	return b.String()
}

// TestRestoreInPlace_AnswersAsTheReadRestore restores the same snapshots
// (random histories, and the older formats' files, which it copies) by
// reading and in place, and requires the same records, the same snapshot
// bytes back, and the same results and state after more commands: the
// in-place restore serves the format-7 parts where they lie.
func TestRestoreInPlace_AnswersAsTheReadRestore(t *testing.T) {
	snaps := map[string][]byte{}
	for _, seed := range []uint64{7, 42, 1234} {
		src, _ := applyInChunks(t, randomLog(t, seed, 3000), []int{50, 7})
		snaps[fmt.Sprint("seed ", seed)] = persist(t, src)
	}
	old, _ := filepath.Glob("testdata/snapshot-v*.bin")
	for _, file := range old {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		snaps[file] = b
	}
	for name, snap := range snaps {
		t.Run(name, func(t *testing.T) {
			read, inPlace := NewFSM(nil, nil), NewFSM(nil, nil)
			if _, err := read.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
				t.Fatal(err)
			}
			r, err := inPlace.RestoreInPlace(aligned(snap))
			if err != nil {
				t.Fatal(err)
			}
			if current := snap[len(snapMagic)] == SnapshotFormat; current != (r.InPlace > int64(len(snap))/2) || !current && r.InPlace != 0 {
				t.Fatalf("format %d: %d of %d bytes served in place", snap[len(snapMagic)], r.InPlace, len(snap))
			}
			if everyRecord(read) != everyRecord(inPlace) || everyRecord(read) == "" {
				t.Fatal("the in-place restore holds other records than the read one")
			}
			if !bytes.Equal(persist(t, read), persist(t, inPlace)) {
				t.Fatal("the two restores persist different bytes")
			}
			more := randomLog(t, 99, 600)
			va, vb := read.Index().Load(), inPlace.Index().Load()
			ha, hb := &fsmHarness{tb: t, f: read, idx: va.Serial()}, &fsmHarness{tb: t, f: inPlace, idx: vb.Serial()}
			if ra, rb := ha.apply(more...), hb.apply(more...); fmt.Sprint(ra) != fmt.Sprint(rb) {
				t.Fatal("the restores answer further commands differently")
			}
			if everyRecord(read) != everyRecord(inPlace) || !bytes.Equal(persist(t, read), persist(t, inPlace)) {
				t.Fatal("the restores diverge on further commands")
			}
		})
	}
}

// TestRestoreInPlace_PartsLieOnEightByteBoundaries checks format 7's
// padding: every flat part's payload starts on an 8-byte boundary of the
// file, and padding records appear only where one is needed.
func TestRestoreInPlace_PartsLieOnEightByteBoundaries(t *testing.T) {
	src, _ := applyInChunks(t, randomLog(t, 5, 2000), []int{40})
	snap := persist(t, src)
	sr := &snapReader{mem: snap[:len(snap)-4]}
	if _, err := sr.header(); err != nil {
		t.Fatal(err)
	}
	parts, pads := 0, 0
	for {
		tag, n, err := sr.head()
		if err != nil {
			t.Fatal(err)
		}
		if tag == tagEnd {
			break
		}
		if _, _, ok := flatPart(tag); ok && n > 0 {
			parts++
			if sr.n%flatAlign != 0 {
				t.Fatalf("a part of tag %d at byte %d", tag, sr.n)
			}
		}
		if tag == tagPad {
			pads++
		}
		if _, err := sr.slice(n); err != nil {
			t.Fatal(err)
		}
	}
	if parts < 5 || pads == 0 || pads > parts {
		t.Fatalf("%d parts, %d padding records", parts, pads)
	}
}

// TestRestoreInPlace_CorruptOrTruncatedIsRejected gives the in-place
// restore the damaged snapshots the read restore refuses, and a padding
// record in a format-6 snapshot and one that is not zero: each fails with
// ErrCorruptSnapshot and leaves the serving data as it was.
func TestRestoreInPlace_CorruptOrTruncatedIsRejected(t *testing.T) {
	src, _ := applyInChunks(t, randomLog(t, 9, 1500), []int{10})
	snap := persist(t, src)
	sr := &snapReader{mem: snap}
	sr.header()
	padAt := -1
	for padAt < 0 {
		tag, n, err := sr.head()
		if err != nil || tag == tagEnd {
			t.Fatal("no padding record", err)
		}
		if tag == tagPad && n > 0 {
			padAt = int(sr.n)
		}
		sr.slice(n)
	}
	v6 := bytes.Clone(snap)
	v6[len(snapMagic)] = 6
	nonZero := bytes.Clone(snap)
	nonZero[padAt] = 1
	cases := map[string][]byte{
		"header only":        snap[:9],
		"half":               snap[:len(snap)/2],
		"no checksum":        snap[:len(snap)-4],
		"flipped body":       func() []byte { b := bytes.Clone(snap); b[len(b)/3] ^= 0x20; return b }(),
		"trailing data":      append(bytes.Clone(snap), 0),
		"padding in format6": reseal(v6),
		"non-zero padding":   reseal(nonZero),
		"resealed truncated": reseal(snap[:len(snap)/2]),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.ok(groupA.typ, groupA.body)
			h.ok(pairA.typ, pairA.body)
			before := h.view()
			_, err := h.f.RestoreInPlace(aligned(data))
			if !errors.Is(err, ErrCorruptSnapshot) {
				t.Fatalf("error %v, want ErrCorruptSnapshot", err)
			}
			t.Log(err)
			if h.view() != before || h.view().Pair(1, []byte("dave@umkc.edu")) == nil {
				t.Fatal("failed restore changed the serving data")
			}
		})
	}
}

// TestRestoreInPlace_WrittenPartsHoldEverySeenMark marks every pair, VERP
// source and entity of an in-place restore seen, as positive answers do:
// every byte of the data that changed lies in a part Restored.Written
// lists, which raftstore copies in at once (no copy-on-write fault on
// the query path).
func TestRestoreInPlace_WrittenPartsHoldEverySeenMark(t *testing.T) {
	// Arenas of several chunks: the last one is copied anyway, for room
	// to grow.
	data := aligned(persist(t, bigFSM(3_000, 30_000)))
	f := NewFSM(nil, nil)
	r, err := f.RestoreInPlace(data)
	if err != nil || r.InPlace == 0 {
		t.Fatalf("%d bytes in place, err %v", r.InPlace, err)
	}
	before := bytes.Clone(data)
	const now = 1_900_000_000
	v := f.Index().Load()
	mark := func(r index.Ref) bool { r.MarkSeen(now); return r.Seen() == now }
	v.EachPairAfter(index.Cursor{}, mark)
	v.EachVerpAfter(index.Cursor{}, mark)
	v.EachEntity(func(e index.EntityRef) bool { e.MarkSeen(now); return e.Seen() == now })
	listed := func(i int) bool {
		p := uintptr(unsafe.Pointer(&data[i]))
		for _, w := range r.Written {
			if start := uintptr(unsafe.Pointer(unsafe.SliceData(w))); p >= start && p < start+uintptr(len(w)) {
				return true
			}
		}
		return false
	}
	changed := 0
	for i := range data {
		if data[i] != before[i] {
			changed++
			if !listed(i) {
				t.Fatalf("byte %d of %d changed by a seen mark outside the written parts", i, len(data))
			}
		}
	}
	if changed < 1000 {
		t.Fatalf("%d bytes changed by marking every record seen", changed)
	}
}
