package admin

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/raftstore"
)

// The real store has every optional part the API uses.
var (
	_ Spooler          = (*raftstore.Store)(nil)
	_ ConsistentReader = (*raftstore.Store)(nil)
	_ Backuper         = (*raftstore.Store)(nil)
)

// singleNode opens a real one-node store with the admin token.
func singleNode(t *testing.T) *raftstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := raftstore.Open(ctx, raftstore.Config{Dir: t.TempDir(), Bind: "127.0.0.1:0", Bootstrap: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	tok, _ := command.New(command.TokenPut, time.Now().Unix(), "", command.TokenBody{Name: "admin", Hash: HashSecret(adminSecret), Role: "admin"})
	if res, err := st.Apply(ctx, tok); err != nil || res.Err != nil {
		t.Fatalf("token: %v %v", err, res.Err)
	}
	return st
}

func TestBackup_DownloadAndRestoreIntoAFreshNode(t *testing.T) {
	src := apiOver(t, singleNode(t))
	if w := src("POST", "/v1/pairs", `{"sender":"dave@umkc.edu","ip":"192.0.2.4"}`); w.Code != http.StatusCreated {
		t.Fatalf("POST pair: %d %s", w.Code, w.Body)
	}
	w := src("GET", "/v1/backup", "")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Disposition"), `attachment; filename="wlns-`) || w.Body.Len() == 0 {
		t.Fatalf("GET /v1/backup: %d %v %d bytes", w.Code, w.Header(), w.Body.Len())
	}
	backup := w.Body.String()

	dstStore := singleNode(t)
	dst := apiOver(t, dstStore)
	if w := dst("POST", "/v1/restore", backup[:len(backup)/2]); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "corrupt or truncated") {
		t.Fatalf("restore of half a backup: %d %s, want 422 naming the truncation", w.Code, w.Body)
	}
	if c := dstStore.Index().Load().Counts(); c.Pairs != 0 {
		t.Fatalf("a refused restore changed the node: %+v", c)
	}
	w = dst("POST", "/v1/restore", backup)
	var counts BackupCounts
	if err := json.Unmarshal(w.Body.Bytes(), &counts); err != nil || w.Code != http.StatusOK || counts.Pairs != 1 || counts.Entities != 1 {
		t.Fatalf("restore: %d %s", w.Code, w.Body)
	}
	if w := dst("GET", "/v1/pairs?sender=dave@umkc.edu", ""); !strings.Contains(w.Body.String(), "dave@umkc.edu") {
		t.Fatalf("the restored node does not list the pair: %s", w.Body)
	}
	if w := dst("POST", "/v1/restore", backup); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "not empty") {
		t.Fatalf("restore over data: %d %s, want 422 not empty", w.Code, w.Body)
	}
}
