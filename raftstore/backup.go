package raftstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/fsm"
)

// ErrNotEmpty means a backup was not restored because the store already
// holds records: a restore replaces everything, so it is only done into a
// fresh one-node cluster.
var ErrNotEmpty = errors.New("the store is not empty")

// Backup writes a consistent copy of this node's data (every command it
// has applied) to w, in the snapshot format: sorted, versioned and
// CRC-checked, the same bytes a new mirror receives. It asks Raft for a
// snapshot (or, when nothing changed since the last one, reads that one)
// and returns the bytes written.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	rc, err := s.openSnapshot(ctx)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer rc.Close()
	n, err := io.Copy(w, ctxReader{ctx, rc})
	if err != nil {
		return n, fmt.Errorf("backup: copying the snapshot: %w", err)
	}
	return n, nil
}

// openSnapshot takes a snapshot now, or opens the latest when there is
// nothing new since it.
func (s *Store) openSnapshot(ctx context.Context) (io.ReadCloser, error) {
	f := s.raft.Snapshot()
	err := wait(ctx, f)
	if err == nil {
		_, rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("opening the new snapshot: %w", err)
		}
		return rc, nil
	}
	if !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return nil, fmt.Errorf("taking a snapshot: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(s.cfg.Dir, "raft"), 2, hclog.NewNullLogger())
	if err != nil {
		return nil, fmt.Errorf("opening the snapshot store: %w", err)
	}
	list, err := snaps.List()
	if err != nil || len(list) == 0 {
		return nil, fmt.Errorf("finding the latest snapshot: %d found: %w", len(list), err)
	}
	_, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		return nil, fmt.Errorf("opening snapshot %s: %w", list[0].ID, err)
	}
	return rc, nil
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// BackupCounts is what a restored backup holds. It is an alias of an
// unnamed struct so that admin can declare the same type without importing
// raftstore.
type BackupCounts = struct {
	Entities int `json:"entities"`
	Pairs    int `json:"pairs"`
	Verps    int `json:"verps"`
	Tokens   int `json:"tokens"`
}

// RestoreBackup replaces this store's state with the backup read from r
// and replicates it to the cluster's members. It refuses (ErrNotEmpty)
// unless the store holds no entity, pair or VERP source (tokens do not
// count: the one used to ask is there), and must run on the leader
// (ErrNotLeader): start one fresh node, restore, then join the others
// fresh. The whole backup is read and checked (ErrCorruptSnapshot for a
// truncated or damaged file) before anything changes. Afterwards the
// tokens are those of the backup, and the zone serial is past the one
// the node showed before.
func (s *Store) RestoreBackup(ctx context.Context, r io.Reader) (BackupCounts, error) {
	if err := s.restorable(); err != nil {
		return BackupCounts{}, err
	}
	tmp, err := os.CreateTemp(s.cfg.Dir, "restore-*.snap")
	if err != nil {
		return BackupCounts{}, fmt.Errorf("restore: staging the backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := io.Copy(tmp, ctxReader{ctx, r})
	if err != nil {
		return BackupCounts{}, fmt.Errorf("restore: receiving the backup: %w", err)
	}
	counts, err := checkBackup(tmp)
	if err != nil {
		return BackupCounts{}, err
	}
	if err := s.restorable(); err != nil {
		return BackupCounts{}, err
	}
	above := s.Index().Load().ZoneSerial()
	if now := uint32(time.Now().Unix()); fsm.SerialBefore(above, now) {
		above = now
	}
	meta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, Size: size}
	if err := s.raft.Restore(meta, tmp, s.timeout(ctx)); err != nil {
		return BackupCounts{}, fmt.Errorf("restore: raft: %w", err)
	}
	// The backup's serial may be below what this node showed, and below
	// what the lost cluster's secondaries hold (its changes after the
	// backup, at most up to now): a log entry raises it past both, so
	// every mirror, and this one after a restart, agrees.
	if err := s.proposeSerial(ctx, command.ZoneSerialBody{Above: above}); err != nil {
		return counts, fmt.Errorf("restore: the backup is restored, but its zone serial may be below %d: %w", above, err)
	}
	s.log.Info("restored a backup", "entities", counts.Entities, "pairs", counts.Pairs, "verps", counts.Verps, "tokens", counts.Tokens)
	return counts, nil
}

// restorable checks that this node leads and holds no records.
func (s *Store) restorable() error {
	if !s.IsLeader() {
		return fmt.Errorf("restore: %w: restore on the leader of a fresh cluster", ErrNotLeader)
	}
	if c := s.Index().Load().Counts(); c.Entities+c.Pairs+c.VerpSources > 0 {
		return fmt.Errorf("restore: %w: it holds %d entities, %d pairs, %d VERP sources; restore into a fresh node", ErrNotEmpty, c.Entities, c.Pairs, c.VerpSources)
	}
	return nil
}

// CheckBackup reads a whole backup stream into a scratch index and returns
// what it holds; a truncated or damaged one is an error wrapping
// ErrCorruptSnapshot. Use it to refuse a bad file before starting anything.
func CheckBackup(r io.Reader) (BackupCounts, error) {
	rs, err := fsm.CheckSnapshot(r)
	if err != nil {
		return BackupCounts{}, fmt.Errorf("the backup is unusable: %w", err)
	}
	return BackupCounts{Entities: int(rs.Entities), Pairs: int(rs.Pairs), Verps: int(rs.Verps), Tokens: int(rs.Tokens)}, nil
}

// checkBackup checks the whole staged backup and rewinds it.
func checkBackup(f *os.File) (BackupCounts, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return BackupCounts{}, fmt.Errorf("restore: rewinding the backup: %w", err)
	}
	c, err := CheckBackup(f)
	if err != nil {
		return BackupCounts{}, fmt.Errorf("restore: nothing was changed: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return BackupCounts{}, fmt.Errorf("restore: rewinding the backup: %w", err)
	}
	return c, nil
}
