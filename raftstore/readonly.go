package raftstore

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/index"
)

// ErrNoSnapshot means a data folder holds no snapshot that restores.
var ErrNoSnapshot = errors.New("no good snapshot")

// Snapshot is a node's newest good snapshot, restored without Raft: what a
// node whose Raft log is damaged can still serve, read-only.
type Snapshot struct {
	fsm  *raftFSM
	meta *raft.SnapshotMeta
}

// LoadNewestSnapshot restores the newest snapshot under dir/raft/snapshots
// that passes its checksum and parses, trying older ones after a failure.
// It reads only the snapshot files, never raft.db.
func LoadNewestSnapshot(dir string, logger *slog.Logger) (*Snapshot, error) {
	hl := newHCLogger(logger, "raft")
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(dir, "raft"), 2, hl.Named("snapshots"))
	if err != nil {
		return nil, fmt.Errorf("opening the snapshot store: %w", err)
	}
	list, err := snaps.List()
	if err != nil {
		return nil, fmt.Errorf("listing snapshots: %w", err)
	}
	var errs []error
	for _, m := range list {
		if p := snapshotMetaProblem(filepath.Join(dir, "raft", "snapshots", m.ID)); p != "" {
			errs = append(errs, fmt.Errorf("snapshot %s: meta.json: %s", m.ID, p))
			continue
		}
		fsm := newRaftFSM(logger, newMetrics(nil))
		if err := restoreFrom(snaps, m.ID, fsm); err != nil {
			errs = append(errs, fmt.Errorf("snapshot %s: %w", m.ID, err))
			continue
		}
		return &Snapshot{fsm: fsm, meta: m}, nil
	}
	return nil, fmt.Errorf("%w in %s: %w", ErrNoSnapshot, filepath.Join(dir, "raft", "snapshots"), errors.Join(errs...))
}

// restoreFrom restores snapshot id of snaps into fsm.
func restoreFrom(snaps raft.SnapshotStore, id string, fsm *raftFSM) error {
	_, rc, err := snaps.Open(id)
	if err != nil {
		return err
	}
	defer rc.Close()
	return fsm.Restore(rc)
}

// Index is the restored data, for the DNS server.
func (s *Snapshot) Index() index.Reader { return s.fsm.Index().Reader() }

// LogIndex is the Raft index the snapshot holds everything up to.
func (s *Snapshot) LogIndex() uint64 { return s.meta.Index }

// ID is the snapshot's name in the snapshots folder.
func (s *Snapshot) ID() string { return s.meta.ID }

// Members is the number of servers in the snapshot's cluster configuration.
func (s *Snapshot) Members() int { return len(s.meta.Configuration.Servers) }
