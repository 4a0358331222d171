package raftstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/clustertls"
)

// A snapshot's meta.json carries no checksum (its CRC covers state.bin),
// and raft trusts what parses: a damaged configuration index leaves a node
// that never elects a leader, a damaged index or size one that restores the
// wrong thing. checkSnapshotMetas compares each meta with what it must
// agree with before raft reads them.

// snapshotRemedy says what to do about a damaged snapshot meta.
const snapshotRemedy = "Move that snapshot's folder out of raft/snapshots and start again: Raft then restores " +
	"the snapshot before it and replays its log from there"

// checkSnapshotMetas returns a *DamagedError for the first snapshot under
// raftDir whose meta.json parses but contradicts its folder name or its
// state.bin. One that does not parse raft skips by itself.
func checkSnapshotMetas(raftDir string) error {
	dir, entries, err := snapshotDir(raftDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		path := filepath.Join(dir, e.Name(), "meta.json")
		if problem := snapshotMetaProblem(filepath.Join(dir, e.Name())); problem != "" {
			return &DamagedError{Path: path, Problem: problem, Remedy: snapshotRemedy}
		}
	}
	return nil
}

// snapshotDir returns the snapshot folder under raftDir and what it holds
// (nothing when it does not exist yet).
func snapshotDir(raftDir string) (string, []os.DirEntry, error) {
	dir := filepath.Join(raftDir, "snapshots")
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return dir, nil, fmt.Errorf("listing snapshots: %w", err)
	}
	return dir, entries, nil
}

// snapshotMetaProblem says what is wrong with the meta.json in the
// snapshot folder dir, "" when nothing is or it does not parse at all.
func snapshotMetaProblem(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	var m raft.SnapshotMeta
	if err != nil || json.Unmarshal(b, &m) != nil {
		return ""
	}
	st, err := os.Stat(filepath.Join(dir, "state.bin"))
	if err != nil {
		return ""
	}
	var term, index uint64
	var ts int64
	name := filepath.Base(dir)
	switch _, err := fmt.Sscanf(name, "%d-%d-%d", &term, &index, &ts); {
	case err != nil || m.ID != name:
		return fmt.Sprintf("it names snapshot %q, its folder is %q", m.ID, name)
	case m.Term != term || m.Index != index:
		return fmt.Sprintf("term %d and index %d, its name says %d and %d", m.Term, m.Index, term, index)
	case m.Size != st.Size():
		return fmt.Sprintf("size %d, state.bin holds %d bytes", m.Size, st.Size())
	case m.ConfigurationIndex == 0 || m.ConfigurationIndex > m.Index:
		return fmt.Sprintf("configuration index %d is outside 1 to %d", m.ConfigurationIndex, m.Index)
	case len(m.Configuration.Servers) == 0:
		return "its cluster configuration lists no server"
	}
	for _, srv := range m.Configuration.Servers {
		if err := clustertls.CheckNodeID(string(srv.ID)); err != nil {
			return fmt.Sprintf("its cluster configuration holds a bad server ID: %v", err)
		}
		if _, _, err := net.SplitHostPort(string(srv.Address)); err != nil {
			return fmt.Sprintf("its cluster configuration holds a bad address %q", srv.Address)
		}
	}
	return ""
}
