package raftstore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wlns/wlns/clustertls"
)

const nodeIDFile = "node-id"

// nodeIDRemedy says what to do about a damaged node-id file.
const nodeIDRemedy = "It holds this node's Raft ID. Write the ID back (one line): `wlns cluster status` on another " +
	"member lists every member's ID, a cluster node's certificate carries it, and a single node's is the one server " +
	"in its newest raft/snapshots/*/meta.json"

// loadNodeID returns the node's stable ID: want if set (checked against a
// stored one, since renaming a member breaks its cluster), else the ID in
// dir/node-id, else a new random one written there.
func loadNodeID(dir, want string) (string, error) {
	path := filepath.Join(dir, nodeIDFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		stored := strings.TrimSpace(string(b))
		if err := clustertls.CheckNodeID(stored); err != nil {
			return "", &DamagedError{Path: path, Problem: err.Error(), Remedy: nodeIDRemedy}
		}
		if want != "" && want != stored {
			return "", fmt.Errorf("node ID %q does not match %q stored in %s", want, stored, path)
		}
		return stored, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("reading node ID: %w", err)
	}
	id := want
	if id == "" {
		var raw [16]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return "", fmt.Errorf("generating node ID: %w", err)
		}
		id = hex.EncodeToString(raw[:])
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o640); err != nil {
		return "", fmt.Errorf("writing node ID: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("writing node ID: %w", err)
	}
	return id, nil
}
