package raftstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

// TestOpen_DamagedFilesAreRefusedByName damages raft.db and spool.db
// of a closed store the ways a crash, a full disk or a bad copy do, and
// opens it again: every damage must be an ErrDamaged naming the file (not
// a SIGBUS, which kills the test binary), and the untouched folder must
// still open.
func TestOpen_DamagedFilesAreRefusedByName(t *testing.T) {
	golden := t.TempDir()
	s := openStore(t, golden, nil)
	for i := range 50 {
		mustApply(t, s, command.PairPut, "", command.PairBody{Sender: "a" + string(rune('a'+i%26)) + "@b.example", IP: "192.0.2.1"})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	raftDB := filepath.Join("raft", "raft.db")
	tests := []struct {
		name, file string
		damage     func(t *testing.T, path string)
		want       string
	}{
		{"raft.db cut to half", raftDB, truncateTo(0.5), "truncated"},
		{"raft.db cut inside the metas", raftDB, truncateTo(0.0001), "bytes"},
		{"raft.db empty", raftDB, truncateTo(0), "less than one bbolt meta page"},
		{"raft.db both metas flipped", raftDB, flipMetas(2), "no valid meta page"},
		{"raft.db root page id wrong", raftDB, zeroRootHeader, "root page"},
		{"spool.db cut to half", spoolFile, truncateTo(0.5), "truncated"},
		{"spool.db not bbolt", spoolFile, overwrite("not a bolt file, just text of some length"), "meta"},
		{"node-id not an ID", nodeIDFile, overwrite("ab\xff\x00cd\n"), "only letters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, golden, dir)
			path := filepath.Join(dir, tt.file)
			tt.damage(t, path)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := Open(ctx, Config{Dir: dir, Bind: "127.0.0.1:0", Bootstrap: true, Logger: quietLogger()})
			if err == nil {
				s.Close()
				t.Fatal("the damaged folder opened")
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want ErrDamaged naming %s and saying %q", err, path, tt.want)
			}
		})
	}
	t.Run("snapshot meta with configuration index 0", func(t *testing.T) {
		dir := t.TempDir()
		copyDir(t, golden, dir)
		metas, _ := filepath.Glob(filepath.Join(dir, "raft", "snapshots", "*", "meta.json"))
		if len(metas) == 0 {
			t.Fatal("no snapshot in the closed store")
		}
		b := readFile(t, metas[0])
		b = regexp.MustCompile(`"ConfigurationIndex":\d+`).ReplaceAll(b, []byte(`"ConfigurationIndex":0`))
		writeFile(t, metas[0], b)
		_, err := Open(context.Background(), Config{Dir: dir, Bind: "127.0.0.1:0", Bootstrap: true, Logger: quietLogger()})
		if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), metas[0]) || !strings.Contains(err.Error(), "configuration index 0") {
			t.Fatalf("error %v, want ErrDamaged naming %s", err, metas[0])
		}
	})
	t.Run("untouched copy opens", func(t *testing.T) {
		dir := t.TempDir()
		copyDir(t, golden, dir)
		openStore(t, dir, nil)
	})
}

// truncateTo cuts a file to the fraction f of its size.
func truncateTo(f float64) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, int64(float64(st.Size())*f)); err != nil {
			t.Fatal(err)
		}
	}
}

// flipMetas flips a byte inside the meta of the first n pages.
func flipMetas(n int) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		b := readFile(t, path)
		ps := int(binary.NativeEndian.Uint32(b[boltPageHeader+8:]))
		for i := range n {
			b[i*ps+boltPageHeader+20] ^= 0xff
		}
		writeFile(t, path, b)
	}
}

// zeroRootHeader overwrites the page header of the root bucket's page in
// both metas' view (the ID no longer matches).
func zeroRootHeader(t *testing.T, path string) {
	b := readFile(t, path)
	for _, pos := range []int{0, int(binary.NativeEndian.Uint32(b[boltPageHeader+8:]))} {
		m, err := parseBoltMeta(b[pos:])
		if err != nil {
			t.Fatal(err)
		}
		copy(b[int(m.root)*int(m.pageSize):], make([]byte, 8))
	}
	writeFile(t, path, b)
}

// overwrite replaces a file's contents.
func overwrite(s string) func(*testing.T, string) {
	return func(t *testing.T, path string) { writeFile(t, path, []byte(s)) }
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies the regular files under src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOpen_SecondProcessOnAFolderIsToldWhoHoldsIt: a second open of a
// running node's folder names the holder instead of timing out on
// spool.db.
func TestOpen_SecondProcessOnAFolderIsToldWhoHoldsIt(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir, nil)
	_, err := Open(context.Background(), Config{Dir: dir, Bind: "127.0.0.1:0", Bootstrap: true, Logger: quietLogger()})
	want := fmt.Sprintf("held by process %d (", os.Getpid())
	if !errors.Is(err, ErrDataInUse) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "spool.db: timeout") {
		t.Fatalf("second open: %v, want ErrDataInUse saying %q", err, want)
	}
}
