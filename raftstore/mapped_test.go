//go:build linux

package raftstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
)

// newestSnapshotFile is the data file of dir's newest snapshot, the one a
// restart restores.
func newestSnapshotFile(t *testing.T, dir string) string {
	t.Helper()
	snaps, err := raft.NewFileSnapshotStore(filepath.Join(dir, "raft"), 2, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	list, err := snaps.List()
	if err != nil || len(list) == 0 {
		t.Fatalf("no snapshot in %s: %v", dir, err)
	}
	return filepath.Join(dir, "raft", "snapshots", list[0].ID, "state.bin")
}

// mapped reports whether this process maps path (Linux: /proc/self/maps).
func mapped(t *testing.T, path string) bool {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(maps), path)
}

// TestStore_RestartServesFromTheMappedSnapshot restarts a node on its
// shutdown snapshot: the node maps the snapshot's file and serves from it
// (the mapping is in /proc/self/maps), answers every record, and what it
// writes afterwards — seen marks, which go into the mapped arena's words,
// new pairs, deletes, a snapshot — never reaches the file: its bytes are
// the same after them.
func TestStore_RestartServesFromTheMappedSnapshot(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	applyBatch(t, s, pairBatch(t, "192.0.2.9", 0, 300))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	file := newestSnapshotFile(t, dir)
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir, nil)
	if !mapped(t, file) {
		t.Fatalf("the restarted node does not map %s", file)
	}
	v := s.Index().Load()
	ent := entityIDOf(v, "192.0.2.9")
	if c := v.Counts(); c.Pairs != 300 || ent == 0 {
		t.Fatalf("restarted node holds %+v, relay %d", c, ent)
	}
	now := time.Now().Unix()
	for i := range 300 {
		r := v.LookupPair(ent, []byte(pairSender(i)))
		if !r.Found() {
			t.Fatalf("pair %d not answered after the restart", i)
		}
		r.MarkSeen(now)
		if r.Seen() != now {
			t.Fatalf("pair %d: seen %d after marking it, want %d", i, r.Seen(), now)
		}
	}
	applyBatch(t, s, pairBatch(t, "192.0.2.9", 300, 50))
	mustApply(t, s, command.PairDelete, "", command.PairBody{Sender: pairSender(7), IP: "192.0.2.9"})
	if err := s.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("writes after the mapped restore changed the snapshot file")
	}
	if c := s.Index().Load().Counts(); c.Pairs != 349 {
		t.Fatalf("%d pairs after the writes, want 349", c.Pairs)
	}
}

// TestStore_DamagedMappedSnapshotFallsBackToAnOlderOne damages the newest
// snapshot's file: a byte flipped (its size kept); its first 8 bytes
// zeroed and the file's own CRC-32C made right again (a file whose
// checksum holds but which does not parse). The mapped
// restore refuses each without serving any of it, raft refuses it too
// (its CRC-64) and starts from the older snapshot, and the log after it
// brings the node to everything written.
func TestStore_DamagedMappedSnapshotFallsBackToAnOlderOne(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"a byte flipped", func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }},
		{"magic zeroed, checksum right", func(b []byte) []byte {
			body := b[:len(b)-4]
			clear(body[:8])
			binary.BigEndian.PutUint32(b[len(body):], crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, nil)
			applyBatch(t, s, pairBatch(t, "192.0.2.9", 0, 100))
			if err := s.raft.Snapshot().Error(); err != nil {
				t.Fatal(err)
			}
			applyBatch(t, s, pairBatch(t, "192.0.2.9", 100, 100))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			file := newestSnapshotFile(t, dir)
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, tc.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			s = openStore(t, dir, nil)
			if mapped(t, file) {
				t.Fatal("the damaged snapshot's file is still mapped")
			}
			if c := s.Index().Load().Counts(); c.Pairs != 200 {
				t.Fatalf("%d pairs after falling back to the older snapshot and the log, want 200", c.Pairs)
			}
		})
	}
}

// pairSender is the sender pairBatch gives pair i.
func pairSender(i int) string { return fmt.Sprintf("user%d@example.org", i) }

// applyBatch applies e and fails unless it is committed and accepted.
func applyBatch(t *testing.T, s *Store, e *command.Envelope) {
	t.Helper()
	r, err := s.Apply(context.Background(), e)
	if err != nil || r.Err != nil {
		t.Fatalf("applying a batch: %v, %v", err, r.Err)
	}
}

// TestStore_QuietSnapshotAfterAnImportIsServedMapped applies an import's
// worth of batches; once the import has ended and its quiet snapshot is
// written, the node serves from that snapshot's mapped file (the index
// swapped between two entries) with every record, goes on taking writes,
// and the file stays as written.
func TestStore_QuietSnapshotAfterAnImportIsServedMapped(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, func(c *Config) {
		c.SnapshotBytes, c.TrailingBytes, c.SnapshotQuiet = 1<<30, 16<<10, 2*time.Second
	})
	for i := range 10 {
		applyBatch(t, s, pairBatch(t, "192.0.2.9", i*200, 200))
	}
	var file string
	deadline := time.Now().Add(60 * time.Second)
	for {
		if snaps, err := raft.NewFileSnapshotStore(filepath.Join(dir, "raft"), 2, os.Stderr); err == nil {
			if list, err := snaps.List(); err == nil && len(list) > 0 {
				file = filepath.Join(dir, "raft", "snapshots", list[0].ID, "state.bin")
				if mapped(t, file) {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no quiet snapshot served from its mapped file after 60 s (newest %q)", file)
		}
		time.Sleep(200 * time.Millisecond)
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v := s.Index().Load()
	ent := entityIDOf(v, "192.0.2.9")
	for i := range 2000 {
		r := v.LookupPair(ent, []byte(pairSender(i)))
		if !r.Found() {
			t.Fatalf("pair %d not answered after the swap", i)
		}
		r.MarkSeen(time.Now().Unix())
	}
	applyBatch(t, s, pairBatch(t, "192.0.2.9", 2000, 10))
	if c := s.Index().Load().Counts(); c.Pairs != 2010 {
		t.Fatalf("%d pairs after the swap and a write, want 2010", c.Pairs)
	}
	if after, err := os.ReadFile(file); err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the mapped snapshot file changed (%v)", err)
	}
}

// snapshotMappings counts the snapshot files under dir this process has
// mapped (distinct files, deleted ones included), and how many of them
// raft's retention has deleted: a deleted file keeps its disk blocks
// while mapped.
func snapshotMappings(t *testing.T, dir string) (files, deleted int) {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for line := range strings.Lines(string(maps)) {
		at := strings.Index(line, dir)
		if at < 0 || !strings.Contains(line, "state.bin") {
			continue
		}
		name := strings.TrimSpace(line[at:])
		if !seen[name] {
			seen[name] = true
			files++
			if strings.HasSuffix(name, "(deleted)") {
				deleted++
			}
		}
	}
	return files, deleted
}

// servedSnapshotFile is the state.bin of s's newest snapshot, "" for
// none. It asks the store's own snapshot list: a second store on the
// folder would reap the snapshot being written.
func servedSnapshotFile(t *testing.T, s *Store, dir string) string {
	t.Helper()
	list, err := s.snaps.List()
	if err != nil || len(list) == 0 {
		return ""
	}
	return filepath.Join(dir, "raft", "snapshots", list[0].ID, "state.bin")
}

// importThenAwaitTheSwap applies 1,000 pairs (from pair 1000*cycle on) in
// five batches, as a small import, then waits until the node serves a
// newer snapshot than before from its mapped file.
func importThenAwaitTheSwap(t *testing.T, s *Store, dir string, cycle int) {
	t.Helper()
	before := servedSnapshotFile(t, s, dir)
	for i := range 5 {
		applyBatch(t, s, pairBatch(t, "192.0.2.9", (cycle*5+i)*200, 200))
	}
	deadline := time.Now().Add(60 * time.Second)
	for f := servedSnapshotFile(t, s, dir); f == before || !mapped(t, f); f = servedSnapshotFile(t, s, dir) {
		if time.Now().After(deadline) {
			t.Fatalf("import %d: no newer quiet snapshot served from its mapped file after 60 s (newest %q)", cycle, f)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// quickSwaps is the configuration of a store that swaps to its quiet
// snapshot 2 s after an import of more than 16 KiB.
func quickSwaps(c *Config) {
	c.SnapshotBytes, c.TrailingBytes, c.SnapshotQuiet = 1<<30, 16<<10, 2*time.Second
	c.mappingGrace = 100 * time.Millisecond
}

// TestStore_EachImportIsServedMappedAfterwards runs two imports: each is
// followed by its quiet snapshot and the swap to that snapshot's mapped
// file. The second was not: the quiet check counted the bytes an import
// applied against the count before the last snapshot reset it, so an
// import that by the first check had applied more than the one before
// was counted as only the difference (1 KB of 93 KB here), too little
// for the swap.
func TestStore_EachImportIsServedMappedAfterwards(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, quickSwaps)
	for cycle := range 2 {
		importThenAwaitTheSwap(t, s, dir, cycle)
	}
}

// TestStore_SwappedOutMappingsReleaseTheirFiles runs four imports, each
// followed by the swap to its quiet snapshot's mapped file: raft's
// retention deletes the older snapshots, and once no View refers to an
// older mapping (the GC ran its cleanup, and the grace after it passed)
// it is released, so the node maps only the file it serves and holds no
// deleted file's blocks; every pair still answers. The release is on
// only where Config.mappingGrace is set (here); off, as by default, each
// mapping is kept for the life of the process: at 10M pairs, 840 MB of
// disk per import.
func TestStore_SwappedOutMappingsReleaseTheirFiles(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, quickSwaps)
	for cycle := range 4 {
		importThenAwaitTheSwap(t, s, dir, cycle)
	}
	var files, deleted int
	deadline := time.Now().Add(20 * time.Second)
	for {
		runtime.GC()
		time.Sleep(200 * time.Millisecond)
		if files, deleted = snapshotMappings(t, dir); deleted == 0 && files == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 4 swaps the node maps %d snapshot files, %d of them deleted; want only the one it serves", files, deleted)
		}
	}
	v := s.Index().Load()
	ent := entityIDOf(v, "192.0.2.9")
	for i := range 4000 {
		if r := v.LookupPair(ent, []byte(pairSender(i))); !r.Found() || r.Key() != pairSender(i) {
			t.Fatalf("pair %d not answered after the older mappings were released", i)
		}
	}
}

// TestStore_SeenMarksFaultNoPageInAfterAMappedRestart restarts a node on
// a snapshot whose arena spans several chunks and marks every pair seen,
// as positive answers do: the restart copied the arena's pages of the
// mapping in (Store.prefault: /proc/self/smaps counts them as anonymous
// before any mark), so no mark pays a copy-on-write fault. Without it each
// of the arena's mapped pages faulted on its first mark (~15 µs of CPU
// each on the bench machine; at 10M pairs ~1 per sender answer).
func TestStore_SeenMarksFaultNoPageInAfterAMappedRestart(t *testing.T) {
	const pairs = 40_000 // ~1.5 MB of arena: 5 chunks, the last one copied anyway
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	for from := 0; from < pairs; from += 10_000 {
		applyBatch(t, s, pairBatch(t, "192.0.2.9", from, 10_000))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, nil)
	file := newestSnapshotFile(t, dir)
	if kb := anonymousKB(t, file); kb < 1024 {
		t.Fatalf("%d kB of %s's mapping copied in before any answer, want the arena's (≥ 1 MiB)", kb, file)
	}
	v := s.Index().Load()
	ent := entityIDOf(v, "192.0.2.9")
	refs := make([]index.Ref, pairs)
	for i := range refs {
		if refs[i] = v.LookupPair(ent, []byte(pairSender(i))); !refs[i].Found() {
			t.Fatalf("pair %d not answered after the restart", i)
		}
	}
	if raceEnabled { // the detector's shadow pages fault on first writes
		return
	}
	now := time.Now().Unix()
	before := minorFaults(t)
	for _, r := range refs {
		r.MarkSeen(now)
	}
	if n := minorFaults(t) - before; n > 20 {
		t.Fatalf("marking %d pairs seen took %d page faults", pairs, n)
	}
}

// anonymousKB is how many kB of this process's mappings of path are
// private copies (Linux: /proc/self/smaps).
func anonymousKB(t *testing.T, path string) int {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	kb, in := 0, false
	for _, line := range strings.Split(string(smaps), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			in = strings.HasSuffix(line, " "+path) || strings.HasSuffix(line, " "+path+" (deleted)")
		} else if in && len(f) == 3 && f[0] == "Anonymous:" {
			n, _ := strconv.Atoi(f[1])
			kb += n
		}
	}
	return kb
}

// minorFaults is how many minor page faults this process has taken.
func minorFaults(t *testing.T) int64 {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}
