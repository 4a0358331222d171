package raftstore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"
	"unsafe"

	"github.com/hashicorp/raft"
	"github.com/wlns/wlns/fsm"
)

// restoreMapped restores the newest snapshot — the one raft starts from —
// before raft starts, serving from its mapped data file (raft's
// snapshots/<id>/state.bin) instead of reading it into new memory: the
// FSM checks the file's own CRC-32C in one pass over the mapping, then
// keeps the flat parts where they lie (fsm.FSM.RestoreInPlace). Raft is
// then told not to restore it again (NoSnapshotRestoreOnStart), which
// also skips the CRC-64 pass its snapshot store's Open makes.
//
// It reports false, having changed nothing, when the file cannot be
// mapped, its size is not what raft's meta.json says, or the restore
// refuses it (damaged or truncated: the error is logged); raft then
// restores the old way, which refuses that snapshot too and falls back to
// an older one.
//
// The mapping is kept while a View may read it (keepMapping): the index's
// leaves and arena chunks are slices of it, and the strings its records
// hand out (names, senders) share them. Raft's retention deleting the
// file while it is mapped is fine (the inode lives on while mapped, its
// blocks until releaseMapping); raft never
// truncates or rewrites a snapshot file it has finished, which would make
// a read of a page past the new end fault (SIGBUS). A snapshot of an older
// format is copied by the restore, so its mapping is undone at once.
func (s *Store) restoreMapped(raftDir string) bool {
	list, err := s.snaps.List()
	if err != nil || len(list) == 0 {
		return false
	}
	m := list[0]
	start := time.Now()
	b, err := s.mapSnapshot(raftDir, m)
	if err != nil {
		s.log.Warn("cannot map the newest snapshot; raft reads it instead", "id", m.ID, "err", err)
		return false
	}
	mm := &mapping{b: b}
	r, err := s.fsm.restoreInPlace(mm, start)
	if err != nil {
		s.log.Error("restoring the newest snapshot from its mapped file failed; raft tries it, then older ones", "id", m.ID, "err", err)
		s.unmap(b)
		return false
	}
	if r.InPlace == 0 {
		s.unmap(b)
	} else {
		s.keepMapping(mm)
		s.prefault(r)
	}
	return true
}

// remapQuiet swaps the node's index for the newest snapshot served from
// its mapped file, as a restart would load it, when nothing was applied
// since that snapshot was captured (the FSM's last entry is the
// snapshot's): after an import, whose copy-on-write leaves and arena
// garbage left the heap fragmented well past what the records need. The
// swap happens between two applied entries (raftFSM.remap), so the state
// is the same, only its memory changes; seen marks not yet reported are
// lost, as a restart loses them. The older mapping, if any, has its pages
// handed back (a stale View still reading it reads the file again). It
// reports whether it swapped.
func (s *Store) remapQuiet(raftDir string) bool {
	list, err := s.snaps.List()
	if err != nil || len(list) == 0 || list[0].Index != s.fsm.seen.Load() {
		return false
	}
	m := list[0]
	start := time.Now()
	b, err := s.mapSnapshot(raftDir, m)
	if err != nil {
		s.log.Warn("cannot map the quiet snapshot to serve from it", "id", m.ID, "err", err)
		return false
	}
	mm := &mapping{b: b}
	ok, r, err := s.fsm.remap(mm, m.Index)
	if err != nil {
		s.log.Error("serving from the quiet snapshot's mapped file failed; the index is unchanged", "id", m.ID, "err", err)
	}
	if !ok || r.InPlace == 0 { // not swapped, or an older format copied: nothing refers to b
		s.unmap(b)
		return ok
	}
	s.keepMapping(mm)
	s.prefault(r)
	s.log.Info("serving from the quiet snapshot's mapped file", "id", m.ID, "index", m.Index, "took", time.Since(start), "served_in_place_bytes", r.InPlace)
	return true
}

// mapSnapshot maps the data file of the snapshot m describes, refusing
// (and undoing the mapping of) a file that is not the size its meta.json
// gives.
func (s *Store) mapSnapshot(raftDir string, m *raft.SnapshotMeta) ([]byte, error) {
	b, err := mapFile(filepath.Join(raftDir, "snapshots", m.ID, "state.bin"))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != m.Size {
		s.unmap(b)
		return nil, fmt.Errorf("its file holds %d bytes, its meta.json says %d", len(b), m.Size)
	}
	return b, nil
}

// mapping is a snapshot file mapped for the index to serve from. Every
// View the FSM publishes from it on, and every snapshot captured from
// one, holds it (fsm.FSM.RestoreInPlaceOwned), so once the GC finds it
// unreachable (the index was swapped for a newer snapshot or restored
// from the leader, and the readers and snapshot writers of the older
// Views are done) nothing but a Ref or a string taken from such a View,
// by a reader still in flight, can point into the file's pages.
type mapping struct{ b []byte }

// keepMapping records m as the mapping the index now serves from, hands
// back the pages of the ones before it (no View the FSM publishes refers
// to them any more; a stale one, a reader in flight or a snapshot being
// written, reads the file's bytes again, which are what the pages held
// but for seen marks, which snapshots do not hold), and, when the release
// is on (Config.mappingGrace), has m released once nothing refers to it
// (releaseMapping); else m stays mapped for the life of the process.
func (s *Store) keepMapping(m *mapping) {
	s.mapMu.Lock()
	defer s.mapMu.Unlock()
	for _, old := range s.maps {
		if err := dropPages(old); err != nil {
			s.log.Warn("handing back the pages of an older snapshot mapping", "err", err)
		}
	}
	s.maps = append(s.maps, m.b)
	grace := s.cfg.mappingGrace
	if grace <= 0 { // off: see Config.mappingGrace
		return
	}
	runtime.AddCleanup(m, func(b []byte) {
		time.AfterFunc(grace, func() { s.releaseMapping(b) })
	}, m.b)
}

// releaseMapping gives up the file behind b, a mapping no View refers to
// any more, a grace period after the GC found it so (for a Ref taken from
// a View before and used after: a reader in flight): its pages become
// anonymous zero pages in place (releaseFile), so the file's blocks are
// freed once raft's retention has deleted it (each held 840 MB of disk
// at 10M pairs for the life of the process), and a string kept past its
// View, which nothing should do, reads zeros rather than faulting the
// process or, were the addresses unmapped and reused, another object's
// memory. The range stays reserved: address space only.
func (s *Store) releaseMapping(b []byte) {
	s.mapMu.Lock()
	defer s.mapMu.Unlock()
	i := slices.IndexFunc(s.maps, func(m []byte) bool { return unsafe.SliceData(m) == unsafe.SliceData(b) })
	if i < 0 {
		return
	}
	s.maps = slices.Delete(s.maps, i, i+1)
	if err := releaseFile(b); err != nil {
		s.log.Warn("releasing an older snapshot mapping", "bytes", len(b), "err", err)
		return
	}
	s.log.Info("released an older snapshot's mapping: no View refers to it", "bytes", len(b))
}

// prefault copies in the pages of the mapped parts answers write into
// (fsm.Restored.Written: the arenas' seen marks) at once, so that no
// query pays a copy-on-write fault: ~15 µs of CPU each on the bench
// machine, ~1 per positive sender answer at 10M pairs (sender zone 33 µs
// per answer instead of ~10), while the madvise takes ~1.7 µs a page.
func (s *Store) prefault(r fsm.Restored) {
	for _, w := range r.Written {
		if err := populateWrite(pageSpan(w)); err != nil {
			s.log.Warn("copying in the pages of a mapped arena", "bytes", len(w), "err", err)
			return
		}
	}
}

// pageSpan is b grown to whole pages, as madvise wants it: the pages
// around b belong to the same mapping.
func pageSpan(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := start &^ (page - 1)
	hi := (start + uintptr(len(b)) + page - 1) &^ (page - 1)
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), -int(start-lo))), hi-lo)
}

// unmap undoes a mapping nothing refers to.
func (s *Store) unmap(b []byte) {
	if err := unmapFile(b); err != nil {
		s.log.Warn("unmapping a snapshot file", "err", err)
	}
}
