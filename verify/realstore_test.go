package verify

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/raftstore"
	"github.com/wlns/wlns/record"
)

// TestRealStore_ChallengeToConfirmedPair runs the service over a real
// single-node Raft store: request, one mail, a GET that changes nothing,
// the POST that confirms, and the pair in the index.
func TestRealStore_ChallengeToConfirmedPair(t *testing.T) {
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
	k, _ := startSink(t, plainSink)
	svc, err := New(Config{BaseURL: "https://wl.example.org", MailDomain: "wl.example.org",
		Relay: Relay{Addr: k.addr, Timeout: 5 * time.Second}, Logger: slog.New(slog.DiscardHandler)}, st)
	if err != nil {
		t.Fatal(err)
	}
	group, _ := command.New(command.EntityPut, time.Now().Unix(), "", command.EntityBody{Name: "mx", Group: true, Prefixes: []string{"192.0.2.0/28"}})
	if res, err := st.Apply(ctx, group); err != nil || res.Err != nil {
		t.Fatalf("group: %v %v", err, res.Err)
	}
	o, err := svc.Request(ctx, "alice@example.com", groupIP, "test")
	if err != nil || o.Result != Sent {
		t.Fatalf("Request: %+v %v", o, err)
	}
	if o2, err := svc.Request(ctx, "alice@example.com", groupIP2, "test"); err != nil || o2.Result != Open {
		t.Fatalf("second Request: %+v %v", o2, err)
	}
	mails := k.messages()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	tok := tokenIn(t, mails[0].data)
	do := func(method string) int {
		w := httptest.NewRecorder()
		svc.Handler().ServeHTTP(w, httptest.NewRequestWithContext(ctx, method, "/verify/confirm/"+tok, nil))
		return w.Code
	}
	if code := do("GET"); code != http.StatusOK || st.ChallengeByID(o.Challenge.ID).State != record.ChallengeOpen {
		t.Fatalf("GET: %d, state %s", code, st.ChallengeByID(o.Challenge.ID).State)
	}
	if code := do("POST"); code != http.StatusOK {
		t.Fatalf("POST: %d", code)
	}
	if p := st.Index().Load().Pair(o.Challenge.Entity, []byte("alice@example.com")); p == nil {
		t.Fatal("no pair after confirming")
	}
	if code := do("POST"); code != http.StatusNotFound {
		t.Fatalf("second POST: %d", code)
	}
}

// The real store spools confirmations while the cluster has no quorum.
var _ Spooler = (*raftstore.Store)(nil)
