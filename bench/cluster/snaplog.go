package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// logLine is the part of a wlns JSON log line the benchmark reads.
type logLine struct {
	Time   time.Time `json:"time"`
	Msg    string    `json:"msg"`
	Took   int64     `json:"took"` // slog writes a time.Duration as nanoseconds
	Serial uint64    `json:"serial"`
}

// snapshotEvents lists, from a node's log, the snapshots it took or sent
// between from and to, as "+SECONDS node: message" lines timed from from
// (seconds zero-padded so that the lines sort by time).
func snapshotEvents(n *kit.Node, from, to time.Time) []string {
	f, err := os.Open(n.LogPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l struct {
			logLine
			Index uint64 `json:"index"`
			Peer  any    `json:"peer"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Time.Before(from) || l.Time.After(to) {
			continue
		}
		var what string
		switch l.Msg {
		case "starting snapshot up to":
			what = fmt.Sprintf("takes a snapshot up to index %d", l.Index)
		case "snapshot complete up to":
			what = fmt.Sprintf("snapshot up to index %d done", l.Index)
		case "installing snapshot on":
			what = fmt.Sprintf("sends its snapshot to %v", l.Peer)
		case "Installed remote snapshot":
			what = "installed the leader's snapshot"
		default:
			continue
		}
		out = append(out, fmt.Sprintf("%07.2f s %s: %s", l.Time.Sub(from).Seconds(), n.ID, what))
	}
	return out
}

// readMirrorLog finds, in the mirror's log, when it restored a snapshot
// (and how long the restore itself took) and keeps every line that talks
// about snapshots, timed from the mirror's launch.
func (r *snapRun) readMirrorLog(n *kit.Node) {
	f, err := os.Open(n.LogPath)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || !strings.Contains(strings.ToLower(l.Msg), "snapshot") {
			continue
		}
		at := l.Time.Sub(n.Started)
		r.snapLog = append(r.snapLog, fmt.Sprintf("+%.2f s %s", at.Seconds(), sc.Text()))
		switch {
		case l.Msg == "creating new snapshot" && r.transferFrom == 0:
			r.transferFrom = at
		case l.Msg == "copied to local snapshot" && r.transferTo == 0:
			r.transferTo = at
		}
		if l.Msg == "restored snapshot" && r.restored == 0 {
			r.restored, r.restoreTook, r.restoredSerial = at, time.Duration(l.Took), l.Serial
		}
	}
}

// newestSnapshot reads the index and size of the newest snapshot in a
// node's data folder (raft's FileSnapshotStore: raft/snapshots/*/meta.json).
func newestSnapshot(data string) (uint64, int64, error) {
	metas, err := filepath.Glob(filepath.Join(data, "raft", "snapshots", "*", "meta.json"))
	if err != nil || len(metas) == 0 {
		return 0, 0, fmt.Errorf("no snapshot in %s (%v)", data, err)
	}
	var index uint64
	var size int64
	for _, p := range metas {
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, 0, fmt.Errorf("reading %s: %w", p, err)
		}
		var m struct {
			Index uint64
			Size  int64
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return 0, 0, fmt.Errorf("reading %s: %w", p, err)
		}
		if m.Index >= index {
			index, size = m.Index, m.Size
		}
	}
	return index, size, nil
}
