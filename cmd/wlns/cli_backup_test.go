package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/raftstore"
)

// apiServer runs the admin API over a real one-node store with an admin
// token "t0ken" and returns its URL.
func apiServer(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := raftstore.Open(ctx, raftstore.Config{Dir: t.TempDir(), Bind: "127.0.0.1:0", Bootstrap: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	tok, _ := command.New(command.TokenPut, time.Now().Unix(), "", command.TokenBody{Name: "admin", Hash: admin.HashSecret("t0ken"), Role: "admin"})
	if res, err := st.Apply(ctx, tok); err != nil || res.Err != nil {
		t.Fatalf("token: %v %v", err, res.Err)
	}
	api, err := admin.New(admin.Config{NodeID: st.NodeID(), Logger: slog.New(slog.DiscardHandler)}, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCLI_BackupRestoreAndSpool(t *testing.T) {
	src, dst := apiServer(t), apiServer(t)
	file := filepath.Join(t.TempDir(), "wlns.snap")
	cli := func(server string, args ...string) (int, string, string) {
		return runCLI(t, nil, append([]string{args[0]}, append(args[1:], "--server", server, "--token", "t0ken")...)...)
	}
	if code, _, errs := cli(src, "pair", "add", "dave@umkc.edu", "192.0.2.4"); code != 0 {
		t.Fatalf("pair add: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, nil, "backup", "--server", src, "--token", "t0ken"); code != exitUsage || !strings.Contains(errs, "-o FILE") {
		t.Fatalf("backup without -o: %d %s", code, errs)
	}
	code, out, errs := runCLI(t, nil, "backup", "-o", file, "--server", src, "--token", "t0ken")
	if code != 0 || !strings.Contains(out, "wrote ") {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}
	if st, err := os.Stat(file); err != nil || st.Size() == 0 {
		t.Fatalf("backup file: %v", err)
	}
	half := file + ".half"
	b, _ := os.ReadFile(file)
	if err := os.WriteFile(half, b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, nil, "restore", half, "--server", dst, "--token", "t0ken"); code == 0 || !strings.Contains(errs, "corrupt or truncated") {
		t.Fatalf("restore of a truncated file: %d %s", code, errs)
	}
	if code, out, errs := runCLI(t, nil, "restore", file, "--server", dst, "--token", "t0ken"); code != 0 || !strings.Contains(out, "1 pairs") {
		t.Fatalf("restore: %d %s %s", code, out, errs)
	}
	if _, out, _ := runCLI(t, nil, "pair", "list", "--server", dst, "--token", "t0ken"); !strings.Contains(out, "dave@umkc.edu") {
		t.Fatalf("the restored node lists no pair: %s", out)
	}
	if code, out, errs := runCLI(t, nil, "spool", "--server", dst, "--token", "t0ken"); code != 0 || !strings.Contains(out, "0 pending, 0 failed") {
		t.Fatalf("spool: %d %s %s", code, out, errs)
	}
}

func TestCheckRestore_RefusesBeforeStarting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	open := func(dir string) *raftstore.Store {
		st, err := raftstore.Open(ctx, raftstore.Config{Dir: dir, Bind: "127.0.0.1:0", Bootstrap: true, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		return st
	}
	usedDir := t.TempDir()
	src := open(usedDir)
	pair, _ := command.New(command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.4"})
	if res, err := src.Apply(ctx, pair); err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	good := filepath.Join(t.TempDir(), "good.snap")
	f, err := os.Create(good)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Backup(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := os.ReadFile(good)
	short := good + ".short"
	if err := os.WriteFile(short, b[:len(b)-3], 0o600); err != nil {
		t.Fatal(err)
	}

	fresh := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		dir, file, want string
	}{
		{usedDir, good, "is not empty"},
		{fresh, short, "corrupt or truncated"},
		{fresh, good + ".missing", "no such file"},
	} {
		if _, err := checkRestore(tc.dir, tc.file); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkRestore(%s, %s) = %v, want an error saying %q", tc.dir, tc.file, err, tc.want)
		}
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatalf("a refused restore created the data folder: %v", err)
	}
	if c, err := checkRestore(fresh, good); err != nil || c.Pairs != 1 {
		t.Fatalf("checkRestore of a good file into a new folder: %+v %v", c, err)
	}
	st := open(fresh)
	if c, err := restoreAtStart(ctx, st, good); err != nil || c.Pairs != 1 || st.Index().Load().Counts().Pairs != 1 {
		t.Fatalf("restoreAtStart: %+v %v", c, err)
	}
}
