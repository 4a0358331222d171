package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/raftstore"
)

// backupCommands are `wlns backup` and `wlns restore`.
func backupCommands() []*subcommand {
	return []*subcommand{{
		name: "backup", nargs: [2]int{0, 0}, client: true,
		summary: "save a consistent, checksummed copy of the node's data to -o FILE (GET /v1/backup)",
		setup: func(fs *flag.FlagSet) runFunc {
			out := fs.String("o", "", "file to write (required; written beside it and renamed when complete)")
			return func(ctx context.Context, e *invocation) error {
				if *out == "" {
					return usageErrorf("backup needs -o FILE")
				}
				n, err := downloadBackup(ctx, e.api, *out)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "wrote %d bytes to %s\n", n, *out)
				return err
			}
		},
	}, {
		name: "restore", args: "FILE", nargs: [2]int{1, 1}, client: true,
		summary: "load a backup into a fresh one-node cluster (POST /v1/restore; refused when the node has data)",
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				f, err := os.Open(e.args[0])
				if err != nil {
					return fmt.Errorf("opening the backup: %w", err)
				}
				defer f.Close()
				var counts admin.BackupCounts
				if _, err := e.api.send(ctx, "POST", "/v1/restore", "application/octet-stream", f, &counts); err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "restored %d entities, %d pairs, %d VERP sources, %d tokens\n",
					counts.Entities, counts.Pairs, counts.Verps, counts.Tokens)
				return err
			}
		},
	}}
}

// downloadBackup streams GET /v1/backup into path: into a temporary file
// beside it, synced and renamed once the whole answer arrived, so an
// interrupted download never leaves a short file under the name.
func downloadBackup(ctx context.Context, c *apiClient, path string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/v1/backup", nil)
	if err != nil {
		return 0, fmt.Errorf("building request: %w", err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET /v1/backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, backupError(resp)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".partial-*")
	if err != nil {
		return 0, fmt.Errorf("creating the backup file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	n, err := io.Copy(tmp, resp.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("downloading the backup (%d bytes received, nothing written to %s): %w", n, path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("saving the backup: %w", err)
	}
	return n, nil
}

// backupError reads an API error answer.
func backupError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &eb) != nil || eb.Error == "" {
		eb.Error = strings.TrimSpace(string(raw))
	}
	if eb.Error == "" {
		return errors.New(resp.Status)
	}
	return &apiError{status: resp.StatusCode, msg: eb.Error}
}

// checkRestore is the start-up check of `wlns serve --restore FILE`, run
// before anything is opened: the data folder must be missing or empty (a
// restore replaces everything, so it only starts a new cluster) and the
// file must be a whole, undamaged backup.
func checkRestore(dataDir, path string) (raftstore.BackupCounts, error) {
	entries, err := os.ReadDir(dataDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return raftstore.BackupCounts{}, fmt.Errorf("--restore: reading the data folder: %w", err)
	}
	if len(entries) > 0 {
		return raftstore.BackupCounts{}, fmt.Errorf("--restore: the data folder %s is not empty (%d entries, e.g. %s): restore starts a new cluster from an empty folder", dataDir, len(entries), entries[0].Name())
	}
	f, err := os.Open(path)
	if err != nil {
		return raftstore.BackupCounts{}, fmt.Errorf("--restore: %w", err)
	}
	defer f.Close()
	c, err := raftstore.CheckBackup(f)
	if err != nil {
		return raftstore.BackupCounts{}, fmt.Errorf("--restore %s: %w", path, err)
	}
	return c, nil
}

// restoreAtStart loads the backup at path into st, the freshly bootstrapped
// (and ready) leader of `wlns serve --restore`.
func restoreAtStart(ctx context.Context, st *raftstore.Store, path string) (raftstore.BackupCounts, error) {
	f, err := os.Open(path)
	if err != nil {
		return raftstore.BackupCounts{}, fmt.Errorf("--restore: %w", err)
	}
	defer f.Close()
	c, err := st.RestoreBackup(ctx, f)
	if err != nil {
		return raftstore.BackupCounts{}, fmt.Errorf("--restore %s: %w", path, err)
	}
	return c, nil
}
