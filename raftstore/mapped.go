package raftstore

import (
	"path/filepath"
	"time"
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
// The mapping is kept for the life of the process: the index's leaves and
// arena chunks are slices of it, and the strings its records hand out
// (names, senders) share them, and may be kept anywhere; nothing tells
// when the last of them is gone. Raft's retention deleting the file while
// it is mapped is fine (the inode lives on while mapped); raft never
// truncates or rewrites a snapshot file it has finished, which would make
// a read of a page past the new end fault (SIGBUS). A snapshot of an older
// format is copied by the restore, so its mapping is undone at once.
func (s *Store) restoreMapped(raftDir string) bool {
	list, err := s.snaps.List()
	if err != nil || len(list) == 0 {
		return false
	}
	m := list[0]
	path := filepath.Join(raftDir, "snapshots", m.ID, "state.bin")
	start := time.Now()
	b, err := mapFile(path)
	if err != nil {
		s.log.Warn("cannot map the newest snapshot; raft reads it instead", "id", m.ID, "err", err)
		return false
	}
	if int64(len(b)) != m.Size {
		s.log.Warn("the newest snapshot's file is not the size its meta.json gives; raft reads it instead",
			"id", m.ID, "file_bytes", len(b), "meta_bytes", m.Size)
		s.unmap(b)
		return false
	}
	r, err := s.fsm.restoreInPlace(b, start)
	if err != nil {
		s.log.Error("restoring the newest snapshot from its mapped file failed; raft tries it, then older ones", "id", m.ID, "err", err)
		s.unmap(b)
		return false
	}
	if r.InPlace == 0 {
		s.unmap(b)
	} else {
		s.keepMapping(b)
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
	b, err := mapFile(filepath.Join(raftDir, "snapshots", m.ID, "state.bin"))
	if err != nil || int64(len(b)) != m.Size {
		if err == nil {
			s.unmap(b)
		}
		s.log.Warn("cannot map the quiet snapshot to serve from it", "id", m.ID, "err", err)
		return false
	}
	ok, r, err := s.fsm.remap(b, m.Index)
	if err != nil {
		s.log.Error("serving from the quiet snapshot's mapped file failed; the index is unchanged", "id", m.ID, "err", err)
	}
	if !ok || r.InPlace == 0 { // not swapped, or an older format copied: nothing refers to b
		s.unmap(b)
		return ok
	}
	s.keepMapping(b)
	s.log.Info("serving from the quiet snapshot's mapped file", "id", m.ID, "index", m.Index, "took", time.Since(start), "served_in_place_bytes", r.InPlace)
	return true
}

// keepMapping records b as the mapping the index now serves from and
// hands back the pages of the ones before it: no View the FSM publishes
// refers to them any more, and a stale one (a reader in flight, a
// snapshot being written) reads the file's bytes again, which are what
// the pages held but for seen marks. They stay mapped, since strings
// taken from them may be kept anywhere.
func (s *Store) keepMapping(b []byte) {
	s.mapMu.Lock()
	defer s.mapMu.Unlock()
	for _, old := range s.maps {
		if err := dropPages(old); err != nil {
			s.log.Warn("handing back the pages of an older snapshot mapping", "err", err)
		}
	}
	s.maps = append(s.maps, b)
}

// unmap undoes a mapping nothing refers to.
func (s *Store) unmap(b []byte) {
	if err := unmapFile(b); err != nil {
		s.log.Warn("unmapping a snapshot file", "err", err)
	}
}
