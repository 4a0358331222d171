package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wlns/wlns/raftstore"
)

// TestEnsureAdminToken_NoLeaderIsRetriedNotFatal opens a store that is not
// part of any cluster yet (no leader will come): start-up must not fail on
// the admin token, which is written to its file and handed to the retry.
func TestEnsureAdminToken_NoLeaderIsRetriedNotFatal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	st, err := raftstore.Open(ctx, raftstore.Config{Dir: filepath.Join(dir, "raft"), Bind: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var retried func(context.Context)
	var out bytes.Buffer
	path, err := ensureAdminToken(ctx, st, dir, &out, slog.New(slog.DiscardHandler), func(f func(context.Context)) { retried = f })
	if err != nil {
		t.Fatalf("no leader made start-up fail: %v", err)
	}
	if retried == nil {
		t.Fatal("the token was not handed to the background retry")
	}
	if b, err := os.ReadFile(path); err != nil || len(bytes.TrimSpace(b)) == 0 {
		t.Fatalf("token file %s: %v %q", path, err, b)
	}
	// The retry ends with its context.
	rctx, rcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { retried(rctx); close(done) }()
	rcancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the retry did not stop with its context")
	}
}
