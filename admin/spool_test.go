package admin

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/clustertls"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/nodenet"
	"github.com/wlns/wlns/raftstore"
)

// clusterNode opens a real store over a TLS inter-node port on addr
// ("127.0.0.1:0" the first time) in dir.
func clusterNode(t *testing.T, ca, id, dir, addr string, bootstrap bool) *raftstore.Store {
	t.Helper()
	certDir := filepath.Join(t.TempDir(), "tls")
	if err := clustertls.IssueNode(ca, certDir, clustertls.NodeRequest{NodeID: id, Hosts: []string{"127.0.0.1"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ident, err := clustertls.Load(clustertls.Files{CA: filepath.Join(certDir, "ca.crt"),
		Cert: filepath.Join(certDir, "node.crt"), Key: filepath.Join(certDir, "node.key")})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	n, err := nodenet.Listen(addr, "", ident, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := raftstore.Open(ctx, raftstore.Config{Dir: dir, NodeID: id, Net: n, Bootstrap: bootstrap, Logger: logger,
		JoinTokenHash: raftstore.HashJoinToken("j"), ForwardHold: time.Second, ApplyTimeout: 2 * time.Second})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if bootstrap {
		if err := st.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// apiOver builds an API over st with an admin token already in the store.
func apiOver(t *testing.T, st Store) func(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	api, err := New(Config{Logger: slog.New(slog.DiscardHandler)}, st)
	if err != nil {
		t.Fatal(err)
	}
	return func(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminSecret)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		return w
	}
}

// TestSpool_WriteWithoutQuorumIs202AndCommitsLater runs the API on the
// follower of a two-node cluster whose leader stops: a registration is
// spooled (202), listed, shown in the status, and committed once the
// leader is back; a delete is refused (503); a leader-consistent read is
// 503 while there is no leader and sees the write afterwards.
func TestSpool_WriteWithoutQuorumIs202AndCommitsLater(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca")
	if err := clustertls.InitCA(ca, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	aDir := t.TempDir()
	a := clusterNode(t, ca, "a", aDir, "127.0.0.1:0", true)
	tok, _ := command.New(command.TokenPut, time.Now().Unix(), "", command.TokenBody{Name: "admin", Hash: HashSecret(adminSecret), Role: "admin"})
	if res, err := a.Apply(ctx, tok); err != nil || res.Err != nil {
		t.Fatalf("token: %v %v", err, res.Err)
	}
	b := clusterNode(t, ca, "b", t.TempDir(), "127.0.0.1:0", false)
	if err := b.JoinCluster(ctx, a.Addr(), "j"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	do := apiOver(t, b)
	if w := do("GET", "/v1/pairs?consistent=leader", ""); w.Code != http.StatusOK || w.Header().Get("X-Wlns-Consistency") != "leader" {
		t.Fatalf("consistent read with a leader: %d %s", w.Code, w.Body)
	}
	if w := do("GET", "/v1/pairs?consistent=maybe", ""); w.Code != http.StatusBadRequest {
		t.Fatalf("unknown consistency: %d %s, want 400", w.Code, w.Body)
	}
	aAddr := a.Addr()
	a.Close()

	w := do("POST", "/v1/pairs", `{"sender":"dave@umkc.edu","ip":"192.0.2.4"}`, "Idempotency-Key", "k-1")
	var acc SpoolAccepted
	if err := json.Unmarshal(w.Body.Bytes(), &acc); err != nil || w.Code != http.StatusAccepted || !acc.Spooled ||
		acc.RequestID != "k-1" || acc.Pending != 1 || w.Header().Get("Location") != "/v1/spool" {
		t.Fatalf("write without quorum: %d %s, want 202 spooled k-1 pending 1", w.Code, w.Body)
	}
	if w := do("POST", "/v1/pairs", `{"sender":"dave@umkc.edu","ip":"192.0.2.4"}`, "Idempotency-Key", "k-1"); w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), `"pending": 1`) {
		t.Fatalf("repeated write: %d %s, want 202 and still one pending", w.Code, w.Body)
	}
	if w := do("DELETE", "/v1/pairs?sender=x@y.example&ip=192.0.2.4", ""); w.Code != http.StatusNotFound && w.Code != http.StatusServiceUnavailable {
		t.Fatalf("delete without quorum: %d %s", w.Code, w.Body)
	}
	if w := do("GET", "/v1/pairs?consistent=leader", ""); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("consistent read without a leader: %d %s, want 503", w.Code, w.Body)
	}
	if w := do("GET", "/v1/pairs", ""); w.Code != http.StatusOK {
		t.Fatalf("local read without a leader: %d %s, want 200", w.Code, w.Body)
	}
	var list SpoolList
	w = do("GET", "/v1/spool", "")
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list.Pending) != 1 || list.PendingTotal != 1 || list.Failed == nil ||
		list.Pending[0].Type != command.PairPut || list.Pending[0].Summary != "dave@umkc.edu through 192.0.2.4" {
		t.Fatalf("GET /v1/spool: %d %s", w.Code, w.Body)
	}
	if w := do("GET", "/v1/spool?limit=0", ""); w.Code != http.StatusBadRequest {
		t.Fatalf("GET /v1/spool?limit=0: %d, want 400", w.Code)
	}
	if w := do("GET", "/v1/status", ""); !strings.Contains(w.Body.String(), `"pending": 1`) {
		t.Fatalf("status does not show the pending write: %s", w.Body)
	}

	clusterNode(t, ca, "a", aDir, aAddr, false)
	deadline := time.Now().Add(30 * time.Second)
	for p, _ := b.SpoolCounts(); p > 0; p, _ = b.SpoolCounts() {
		if time.Now().After(deadline) {
			t.Fatal("the spool did not drain after the leader came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if w := do("GET", "/v1/pairs?sender=dave@umkc.edu&consistent=leader", ""); w.Code != http.StatusOK || strings.Count(w.Body.String(), "dave@umkc.edu") != 1 {
		t.Fatalf("after healing: %d %s, want the pair once", w.Code, w.Body)
	}
}
