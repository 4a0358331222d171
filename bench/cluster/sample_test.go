package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

func TestStatsIn_CountsOnlyTheWindowAndFindsTheStall(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ops := []op{
		{start: at(-500), took: 10 * time.Millisecond, ok: true}, // before the window
		{start: at(0), took: 10 * time.Millisecond, ok: true},
		{start: at(100), took: 20 * time.Millisecond, ok: true},
		{start: at(200), took: 900 * time.Millisecond, ok: true}, // a stall: nothing completes 120 → 1100
		{start: at(300), took: 5 * time.Millisecond, ok: false, spooled: true},
		{start: at(2000), took: 10 * time.Millisecond, ok: true}, // after the window
	}
	s := statsIn(ops, window{from: at(0), to: at(2000)})
	if s.n != 4 || s.failed != 1 || s.spooled != 1 {
		t.Errorf("n=%d failed=%d spooled=%d, want 4, 1 and 1", s.n, s.failed, s.spooled)
	}
	if s.rate != 1.5 {
		t.Errorf("rate %.2f/s, want 1.5 (3 successes in 2 s)", s.rate)
	}
	if s.p50 != 20*time.Millisecond || s.max != 900*time.Millisecond || s.p99 != 900*time.Millisecond {
		t.Errorf("p50 %v p99 %v max %v, want 20ms 900ms 900ms", s.p50, s.p99, s.max)
	}
	if s.gap != 980*time.Millisecond {
		t.Errorf("longest gap %v, want 980ms (completion at 120 ms, next at 1100 ms)", s.gap)
	}
}

func TestStatsIn_EmptyWindowIsOneGap(t *testing.T) {
	t0 := time.Now()
	s := statsIn(nil, window{from: t0, to: t0.Add(3 * time.Second)})
	if s.n != 0 || s.rate != 0 || s.gap != 3*time.Second {
		t.Errorf("got %+v, want no writes and a 3 s gap", s)
	}
}

func TestParseFlags_Modes(t *testing.T) {
	cases := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-mode", "snapshot", "-n", "300000"}, ""},
		{[]string{}, ""},
		{[]string{"-mode", "snapshots"}, `-mode "snapshots"`},
		{[]string{"-mode", "snapshot", "-baseline", "0s"}, "-baseline"},
		{[]string{"-mode", "snapshot", "-log-pad", "-1"}, "-log-pad"},
		{[]string{"-pin"}, "-pin needs -mode snapshot"},
	}
	for _, tc := range cases {
		_, err := parseFlags(tc.args)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%v: error %v, want one naming %s", tc.args, err, tc.wantErr)
		}
	}
}

func TestReadMirrorLog_FindsTransferAndRestore(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 11, 23, 17, 25, 42, 0, time.UTC)
	log := `{"time":"2026-11-23T17:25:42.5Z","level":"INFO","msg":"creating new snapshot","component":"raft.snapshots"}
not json at all
{"time":"2026-11-23T17:25:43.5Z","level":"INFO","msg":"copied to local snapshot","component":"raft","bytes":6401011}
{"time":"2026-11-23T17:25:44Z","level":"INFO","msg":"raft store open"}
{"time":"2026-11-23T17:25:47Z","level":"INFO","msg":"restored snapshot","component":"raftstore","serial":10759,"took":3500000000}
`
	n := &kit.Node{Proc: &kit.Proc{LogPath: filepath.Join(dir, "n3.log"), Started: start}}
	if err := os.WriteFile(n.LogPath, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	var r snapRun
	r.readMirrorLog(n)
	if r.transferFrom != 500*time.Millisecond || r.transferTo != 1500*time.Millisecond {
		t.Errorf("transfer %v → %v, want 500ms → 1.5s", r.transferFrom, r.transferTo)
	}
	if r.restored != 5*time.Second || r.restoreTook != 3500*time.Millisecond || r.restoredSerial != 10759 {
		t.Errorf("restored at %v, took %v, serial %d; want 5s, 3.5s, 10759", r.restored, r.restoreTook, r.restoredSerial)
	}
	if len(r.snapLog) != 3 {
		t.Errorf("kept %d snapshot lines, want 3: %q", len(r.snapLog), r.snapLog)
	}
}

func TestNewestSnapshot_PicksTheHighestIndex(t *testing.T) {
	data := t.TempDir()
	for name, meta := range map[string]string{
		"2-100-1": `{"Index":100,"Size":10}`,
		"2-900-2": `{"Index":900,"Size":64000000}`,
	} {
		d := filepath.Join(data, "raft", "snapshots", name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "meta.json"), []byte(meta), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	idx, size, err := newestSnapshot(data)
	if err != nil || idx != 900 || size != 64000000 {
		t.Errorf("got %d, %d, %v; want 900, 64000000", idx, size, err)
	}
	if _, _, err := newestSnapshot(t.TempDir()); err == nil {
		t.Error("an empty data folder gave no error")
	}
}

func TestSnapshotEvents_ListsSnapshotsInsideTheRunOnly(t *testing.T) {
	from := time.Date(2026, 11, 23, 17, 41, 0, 0, time.UTC)
	log := `{"time":"2026-11-23T17:40:59Z","msg":"starting snapshot up to","index":10}
{"time":"2026-11-23T17:41:17.75Z","msg":"starting snapshot up to","index":25993}
{"time":"2026-11-23T17:41:19.5Z","msg":"snapshot complete up to","index":25993}
{"time":"2026-11-23T17:41:20Z","msg":"installing snapshot on","peer":"n3","size":52993652}
{"time":"2026-11-23T17:41:21Z","msg":"pipelining replication"}
{"time":"2026-11-23T17:42:30Z","msg":"starting snapshot up to","index":99999}
`
	n := &kit.Node{ID: "n2", Proc: &kit.Proc{LogPath: filepath.Join(t.TempDir(), "n2.log")}}
	if err := os.WriteFile(n.LogPath, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got := snapshotEvents(n, from, from.Add(time.Minute))
	want := []string{
		"0017.75 s n2: takes a snapshot up to index 25993",
		"0019.50 s n2: snapshot up to index 25993 done",
		"0020.00 s n2: sends its snapshot to n3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
