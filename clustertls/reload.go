package clustertls

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/wlns/wlns/certfile"
)

// DefaultReloadEvery is how often Watch looks at the files.
const DefaultReloadEvery = 10 * time.Second

// stamp identifies a version of the three files by size and modification
// time: a rotation (a new file renamed into place, or rewritten) changes it.
type stamp [3]struct {
	size  int64
	mtime time.Time
}

// stampOf reads the stamps of f's files.
func stampOf(f Files) (stamp, error) {
	var st stamp
	for i, p := range []string{f.CA, f.Cert, f.Key} {
		fi, err := os.Stat(p)
		if err != nil {
			return stamp{}, fmt.Errorf("checking %s: %w", p, err)
		}
		st[i].size, st[i].mtime = fi.Size(), fi.ModTime()
	}
	return st, nil
}

// Reload loads the files again when they changed since the last load and
// reports whether it replaced the material. New material must pass the
// checks Load makes and carry the same node ID; otherwise the error says
// why and the node keeps using what it had (a half-copied pair of files is
// tried again on the next call).
func (id *Identity) Reload() (bool, error) {
	old := id.cur.Load()
	st, err := stampOf(id.files)
	if err != nil {
		return false, fmt.Errorf("reloading cluster TLS: %w", err)
	}
	if st == old.stamp {
		return false, nil
	}
	m, nodeID, err := loadMaterial(id.files)
	if err != nil {
		return false, fmt.Errorf("reloading cluster TLS (keeping the loaded certificate): %w", err)
	}
	if nodeID != id.NodeID {
		return false, fmt.Errorf("reloading cluster TLS (keeping the loaded certificate): %s is for node %q, this node is %q",
			id.files.Cert, nodeID, id.NodeID)
	}
	id.cur.Store(m)
	return true, nil
}

// NotAfter is when the certificate in use expires.
func (id *Identity) NotAfter() time.Time { return id.cur.Load().leaf.NotAfter }

// Watch calls Reload every interval (DefaultReloadEvery when ≤ 0) until
// ctx ends, logging each replacement and each new error once.
func (id *Identity) Watch(ctx context.Context, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		every = DefaultReloadEvery
	}
	certfile.Poll(ctx, every, id.Reload, func(err error) {
		if err != nil {
			log.Warn("cluster certificate not reloaded", "err", err)
			return
		}
		log.Info("cluster certificate reloaded", "cert", id.files.Cert, "not_after", id.NotAfter())
	})
}
