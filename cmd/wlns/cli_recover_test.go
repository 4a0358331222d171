package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/raftstore"
)

func TestRecoverCommand_RefusesABadCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no member", nil, []string{"--data", "/nonexistent"}, exitUsage, "--member ID=HOST:PORT"},
		{"member without address", nil, []string{"--data", "/nonexistent", "--member", "a"}, exitUsage, `--member "a": want ID=HOST:PORT`},
		{"member without ID", nil, []string{"--data", "/nonexistent", "--member", "=h:1"}, exitUsage, "want ID=HOST:PORT"},
		{"non-voter without address", nil, []string{"--data", "/nonexistent", "--member", "a=h:1", "--nonvoter", "m"}, exitUsage, `--nonvoter "m": want ID=HOST:PORT`},
		{"non-voters only", nil, []string{"--data", "/nonexistent", "--nonvoter", "m=h:1"}, exitFailure, "no voter among the survivors"},
		{"no data", nil, []string{"--member", "a=h:1"}, exitUsage, "--data is required"},
		{"comma list, data from the environment", map[string]string{"WLNS_DATA": "/nonexistent"},
			[]string{"--member", "a=h:1,b=h:2", "--member", "a=h:3"}, exitFailure, "survivor a is listed twice"},
		{"bad port", nil, []string{"--data", "/nonexistent", "--member", "a=h:x"}, exitFailure, "port 1-65535"},
		{"not a data folder", nil, []string{"--data", "/nonexistent", "--member", "a=h:1"}, exitFailure, "has no node ID"},
		{"no server flag", nil, []string{"--server", "http://x", "--member", "a=h:1"}, exitUsage, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.env, append([]string{"cluster", "recover"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errs, tc.want) {
				t.Fatalf("exit %d, output %q %q; want exit %d and %q", code, out, errs, tc.code, tc.want)
			}
		})
	}
}

func TestRecoverCommand_RecoversAStoppedNodeOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	st, err := raftstore.Open(ctx, raftstore.Config{Dir: dir, Bind: "127.0.0.1:0", Bootstrap: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	e, _ := command.New(command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.4"})
	if res, err := st.Apply(ctx, e); err != nil || res.Err != nil {
		t.Fatalf("pair: %v %v", err, res.Err)
	}
	self := st.NodeID() + "=" + st.Addr()

	code, _, errs := runCLI(t, nil, "cluster", "recover", "--data", dir, "--member", self)
	if code != exitFailure || !strings.Contains(errs, "stop wlns serve first") {
		t.Fatalf("recover on a running node: exit %d %q", code, errs)
	}
	addr := st.Addr()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	code, out, errs := runCLI(t, nil, "cluster", "recover", "--data", dir, "--dry-run")
	if code != 0 || !strings.Contains(out, "configuration before: "+self) {
		t.Fatalf("dry run without members: exit %d %q %q", code, out, errs)
	}
	code, out, errs = runCLI(t, nil, "cluster", "recover", "--data", dir, "--dry-run", "--member", self+",other=127.0.0.1:1")
	if code != 0 || !strings.Contains(out, "configuration after:  "+self+", other=127.0.0.1:1") ||
		!strings.Contains(out, "other is not in this node's configuration") || !strings.Contains(out, "nothing was changed") {
		t.Fatalf("dry run: exit %d %q %q", code, out, errs)
	}
	code, out, errs = runCLI(t, nil, "cluster", "recover", "--data", dir, "--dry-run", "--member", self, "--nonvoter", "m=127.0.0.1:2")
	if code != 0 || !strings.Contains(out, "configuration after:  "+self+", m=127.0.0.1:2 (non-voter)") {
		t.Fatalf("dry run with a non-voter: exit %d %q %q", code, out, errs)
	}
	code, out, errs = runCLI(t, nil, "cluster", "recover", "--data", dir, "--member", self)
	if code != 0 || !strings.Contains(out, "recovered") || !strings.Contains(out, "WARNING") {
		t.Fatalf("recover: exit %d %q %q", code, out, errs)
	}

	again, err := raftstore.Open(ctx, raftstore.Config{Dir: dir, Bind: addr, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if err := again.WaitReady(ctx); err != nil || again.Index().Load().Counts().Pairs != 1 {
		t.Fatalf("after recovery: ready %v, %d pairs, want 1", err, again.Index().Load().Counts().Pairs)
	}
}
