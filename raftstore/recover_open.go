package raftstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	bberrors "go.etcd.io/bbolt/errors"
)

// ReadConfiguration reports, without changing anything, the Raft
// configuration the stopped node in dataDir holds (Old), its snapshot
// index and its last log index, as Recover would see them. It refuses a
// folder a running node holds (ErrDataInUse).
func ReadConfiguration(ctx context.Context, dataDir string, logger *slog.Logger) (RecoverReport, error) {
	if logger == nil {
		logger = slog.Default()
	}
	var rep RecoverReport
	id, err := storedNodeID(dataDir)
	if err != nil {
		return rep, err
	}
	rep.NodeID = id
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("reading %s: %w", dataDir, err)
	}
	st, err := openOffline(dataDir, logger)
	if err != nil {
		return rep, err
	}
	defer st.close()
	old, snapIndex, err := latestConfiguration(st.bolt, st.snaps)
	if err != nil {
		return rep, err
	}
	rep.Old, rep.SnapshotIndex = membersOf(old), snapIndex
	last, err := st.bolt.LastIndex()
	if err != nil {
		return rep, fmt.Errorf("reading the raft log: %w", err)
	}
	rep.LastIndex = max(last, snapIndex)
	return rep, nil
}

// offlineStores are a stopped node's Raft log and snapshots.
type offlineStores struct {
	bolt  *raftboltdb.BoltStore
	snaps raft.SnapshotStore
	hl    *hcLogger
	lock  *dirLock
}

// close closes the log and releases the folder.
func (o *offlineStores) close() {
	o.bolt.Close()
	o.lock.unlock()
}

// openOffline opens the bolt log and snapshot store under dataDir/raft as
// Open does, refusing a folder without Raft state or one a running node
// holds. The caller closes it.
func openOffline(dataDir string, logger *slog.Logger) (*offlineStores, error) {
	raftDir := filepath.Join(dataDir, "raft")
	dbPath := filepath.Join(raftDir, "raft.db")
	if _, err := os.Stat(dbPath); err != nil {
		return nil, fmt.Errorf("no raft state in %s (%w): nothing to recover; a node without data joins with --join", dataDir, err)
	}
	lock, err := lockDir(dataDir)
	if err != nil {
		return nil, err
	}
	bolt, err := openRaftLog(dbPath, recoverLockWait)
	if err != nil {
		lock.unlock()
	}
	if errors.Is(err, ErrDamaged) {
		return nil, err
	}
	if errors.Is(err, bberrors.ErrTimeout) {
		return nil, fmt.Errorf("opening %s: %w", dataDir, ErrDataInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("opening raft log %s: %w", dbPath, err)
	}
	hl := newHCLogger(logger, "raft")
	snaps, err := raft.NewFileSnapshotStoreWithLogger(raftDir, 2, hl.Named("snapshots"))
	if err != nil {
		bolt.Close()
		lock.unlock()
		return nil, fmt.Errorf("opening snapshot store: %w", err)
	}
	return &offlineStores{bolt: bolt, snaps: snaps, hl: hl, lock: lock}, nil
}

// latestConfiguration is the newest configuration the node knows: the
// last configuration entry in its log, else its newest snapshot's. It
// also returns that snapshot's index (0 without one).
func latestConfiguration(logs raft.LogStore, snaps raft.SnapshotStore) (raft.Configuration, uint64, error) {
	last, err := logs.LastIndex()
	if err != nil {
		return raft.Configuration{}, 0, fmt.Errorf("reading the raft log: %w", err)
	}
	conf, _, snapIndex, err := configurationAt(logs, snaps, last)
	return conf, snapIndex, err
}

// storedNodeID reads dataDir/node-id without creating one.
func storedNodeID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, nodeIDFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s has no node ID (%s): not a wlns data folder, or the node never started", dataDir, path)
	}
	if err != nil {
		return "", fmt.Errorf("reading node ID: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", fmt.Errorf("the node ID file %s is empty", path)
	}
	return id, nil
}
