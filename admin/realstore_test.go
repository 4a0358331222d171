package admin

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/raftstore"
)

// TestRealStore_WritesReplicateThroughRaft runs the API over a real
// single-node Raft store: what the API answers is what Raft applied.
func TestRealStore_WritesReplicateThroughRaft(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := raftstore.Open(ctx, raftstore.Config{Dir: t.TempDir(), Bind: "127.0.0.1:0", Bootstrap: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	tok, _ := command.New(command.TokenPut, time.Now().Unix(), "", command.TokenBody{Name: "admin", Hash: HashSecret(adminSecret), Role: "admin"})
	if res, err := st.Apply(ctx, tok); err != nil || res.Err != nil {
		t.Fatalf("token: %v %v", err, res.Err)
	}
	api, err := New(Config{NodeID: st.NodeID(), Logger: slog.New(slog.DiscardHandler)}, st)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminSecret)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		return w
	}
	if w := do("POST", "/v1/pairs", `{"sender":"dave@umkc.edu","ip":"192.0.2.4"}`); w.Code != http.StatusCreated {
		t.Fatalf("POST pair: %d %s", w.Code, w.Body)
	}
	if w := do("POST", "/v1/groups", `{"name":"g","members":["192.0.2.4"]}`); w.Code != http.StatusConflict {
		t.Fatalf("group over a taken address: %d %s", w.Code, w.Body)
	}
	w := do("POST", "/v1/import", `{"kind":"verp","domain":"lists.example","ip":"192.0.2.4"}`)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"applied": 1`) {
		t.Fatalf("import: %d %s", w.Code, w.Body)
	}
	w = do("GET", "/v1/status", "")
	if !strings.Contains(w.Body.String(), `"leader": true`) || !strings.Contains(w.Body.String(), `"pairs": 1`) {
		t.Fatalf("status: %s", w.Body)
	}
}
