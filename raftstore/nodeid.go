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
)

const nodeIDFile = "node-id"

// loadNodeID returns the node's stable ID: want if set (checked against a
// stored one, since renaming a member breaks its cluster), else the ID in
// dir/node-id, else a new random one written there.
func loadNodeID(dir, want string) (string, error) {
	path := filepath.Join(dir, nodeIDFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		stored := strings.TrimSpace(string(b))
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
