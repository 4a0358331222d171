package admin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Backuper is the optional part of Store behind GET /v1/backup and POST
// /v1/restore (raftstore.Store.Backup and RestoreBackup).
type Backuper interface {
	// Backup writes a consistent, checksummed copy of the node's data to w.
	Backup(ctx context.Context, w io.Writer) (int64, error)
	// RestoreBackup replaces the data of an empty store with a backup.
	RestoreBackup(ctx context.Context, r io.Reader) (BackupCounts, error)
}

// BackupCounts is what a restored backup held; it is the answer of POST
// /v1/restore. (raftstore.BackupCounts has the same shape.)
type BackupCounts = struct {
	Entities int `json:"entities"`
	Pairs    int `json:"pairs"`
	Verps    int `json:"verps"`
	Tokens   int `json:"tokens"`
}

// backupTimeout bounds a backup or restore transfer when the request sets
// no deadline of its own (streams are not bounded by Config.Timeout).
const backupTimeout = 30 * time.Minute

func (a *API) backuper() (Backuper, error) {
	b, ok := a.store.(Backuper)
	if !ok {
		return nil, errorf(http.StatusNotImplemented, "this node's store cannot take backups")
	}
	return b, nil
}

// backup serves GET /v1/backup: the snapshot bytes as a download. An error
// before the first byte is a JSON error; after it the connection is cut,
// so a client never mistakes a partial file for a whole one (and restore
// refuses a truncated file anyway).
func (a *API) backup(w http.ResponseWriter, r *http.Request, _ *caller) error {
	b, err := a.backuper()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), backupTimeout)
	defer cancel()
	name := fmt.Sprintf("wlns-%s-%s.snap", a.cfg.NodeID, a.cfg.Now().UTC().Format("20060102T150405Z"))
	bw := &startWriter{w: w, start: func() {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
		w.WriteHeader(http.StatusOK)
	}}
	n, err := b.Backup(ctx, bw)
	switch {
	case err != nil && !bw.started:
		return errorf(http.StatusServiceUnavailable, "%v", err)
	case err != nil:
		a.cfg.Logger.Error("backup cut off", "bytes", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// startWriter calls start before the first byte.
type startWriter struct {
	w       io.Writer
	start   func()
	started bool
}

func (s *startWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.start()
	}
	return s.w.Write(p)
}

// restore serves POST /v1/restore: the body is a backup file. It is
// refused (422, nothing changed) unless this node leads a store without
// records, and when the file is truncated or damaged.
func (a *API) restore(w http.ResponseWriter, r *http.Request, _ *caller) error {
	b, err := a.backuper()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), backupTimeout)
	defer cancel()
	counts, err := b.RestoreBackup(ctx, r.Body)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "restore refused: %v", err)
	}
	writeJSON(w, http.StatusOK, counts)
	return nil
}
