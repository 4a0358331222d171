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
	}
	return true
}

// unmap undoes a mapping nothing refers to.
func (s *Store) unmap(b []byte) {
	if err := unmapFile(b); err != nil {
		s.log.Warn("unmapping a snapshot file", "err", err)
	}
}
