package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"
)

// reseal replaces the trailing CRC-32C of a snapshot-shaped input with the
// right one for the bytes before it, so that a mutation inside the records
// reaches the decoders instead of stopping at the checksum.
func reseal(b []byte) []byte {
	if len(b) < 4 {
		return b
	}
	body := b[:len(b)-4]
	return binary.BigEndian.AppendUint32(bytes.Clone(body), crc32.Checksum(body, castagnoli))
}

// FuzzRestore feeds hostile snapshots (and backups, which are snapshots) to
// the state machine: truncated, corrupted, with lengths and counts that lie,
// and — resealed — with records that pass the checksum but say nonsense.
// Restore either fails with ErrCorruptSnapshot and leaves the serving data
// as it was, or succeeds with state that snapshots back to the same bytes
// and serves them; the in-place restore (RestoreInPlace) of the same bytes
// fails or succeeds with it, holding the same state.
func FuzzRestore(f *testing.F) {
	src, _ := applyInChunks(f, randomLog(f, 11, 300), []int{25})
	snap := persist(f, src)
	f.Add(snap, false)
	f.Add(snap, true)
	f.Add(snap[:len(snap)/2], false)
	f.Add(snap[:len(snap)/2], true)
	empty := persist(f, NewFSM(nil, nil))
	f.Add(empty, true)
	f.Fuzz(func(t *testing.T, data []byte, resealed bool) {
		if resealed {
			data = reseal(data)
		}
		h := newHarness(t)
		h.ok(groupA.typ, groupA.body)
		h.ok(pairA.typ, pairA.body)
		before := h.view()
		_, err := h.f.Restore(io.NopCloser(bytes.NewReader(data)))
		inPlace := NewFSM(nil, nil)
		if _, ipErr := inPlace.RestoreInPlace(aligned(data)); (ipErr == nil) != (err == nil) {
			t.Fatalf("read restore: %v; in-place restore: %v", err, ipErr)
		}
		if err == nil && !bytes.Equal(persist(t, inPlace), persist(t, h.f)) {
			t.Fatal("the in-place restore holds other state than the read one")
		}
		if err != nil {
			if !errors.Is(err, ErrCorruptSnapshot) {
				t.Fatalf("error %v, want ErrCorruptSnapshot", err)
			}
			if h.view() != before || h.view().Pair(1, []byte("dave@umkc.edu")) == nil {
				t.Fatal("a failed restore changed the serving data")
			}
			return
		}
		// What was accepted is state this build can serve and write back.
		again := persist(t, h.f)
		other := NewFSM(nil, nil)
		if _, err := other.Restore(io.NopCloser(bytes.NewReader(again))); err != nil {
			t.Fatalf("a restored snapshot does not restore again: %v", err)
		}
		if !bytes.Equal(persist(t, other), again) {
			t.Fatal("restored state does not persist to the same bytes twice")
		}
		// ... and serves the same as a second restore of it.
		if got, want := h.view().Counts(), other.Index().Load().Counts(); got != want {
			t.Fatalf("counts %+v after restore, %+v after restoring its snapshot", got, want)
		}
		if a, b := h.view().EntityOf(addr("192.0.2.1")), other.Index().Load().EntityOf(addr("192.0.2.1")); (a == nil) != (b == nil) || a != nil && a.ID != b.ID {
			t.Fatal("192.0.2.1 resolves differently after restoring the restored snapshot")
		}
	})
}
