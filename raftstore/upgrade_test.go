package raftstore

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wlns/wlns/fsm"
)

// testdata/prev-release.tar.gz is a data folder the previous release (main
// 509bd66, snapshot format 1) made: group Relays (198.51.100.0/24,
// 2001:db8::/64) with dave@umkc.edu, a lone 192.0.2.1 with domain pair
// example.net and VERP source lists.example.com, 300 pairs through
// 192.0.2.2, token ops, a snapshot at index 11; then, in the log only,
// after@snapshot.example through 192.0.2.1 and 50 pairs through 192.0.2.3;
// then the process ended without closing (as after kill -9).
//
// This build opens it, restores the old snapshot, replays the log past it,
// and its next snapshot is format 5, from which it starts again with every
// record.
func TestStore_UpgradesADataFolderOfThePreviousRelease(t *testing.T) {
	dir := t.TempDir()
	untar(t, "testdata/prev-release.tar.gz", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	open := func() *Store {
		s, err := Open(ctx, Config{Dir: dir, Bind: "127.0.0.1:0", Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	everything := func(s *Store) bool {
		v := s.Index().Load()
		lone, group := entityIDOf(v, "192.0.2.1"), entityIDOf(v, "198.51.100.9")
		return v.Pair(group, []byte("dave@umkc.edu")) != nil && v.Pair(lone, []byte("example.net")) != nil &&
			v.Verp(lone, []byte("lists.example.com")) != nil && v.Pair(lone, []byte("after@snapshot.example")) != nil &&
			v.Counts().Pairs == 352 && s.Token(secretHash("secret")) != nil
	}
	s := open()
	eventually(t, 30*time.Second, "the old snapshot and the log past it applied", func() bool { return everything(s) })
	var backup bytes.Buffer
	if _, err := s.Backup(ctx, &backup); err != nil {
		t.Fatal(err)
	}
	if v := backup.Bytes()[len("WLNSSNAP")]; v != fsm.SnapshotFormat {
		t.Fatalf("the new snapshot is format %d, want %d", v, fsm.SnapshotFormat)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.Close()
	if !everything(s) {
		t.Fatalf("restarted on the format-%d snapshot without every record: %+v", fsm.SnapshotFormat, s.Index().Load().Counts())
	}
}

// untar unpacks a .tar.gz of plain files and folders into dir.
func untar(t *testing.T, file, dir string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, filepath.Clean(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o700)
		case tar.TypeReg:
			var b []byte
			if b, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(path, b, 0o600)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
