package admin

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/expiry"
	"github.com/wlns/wlns/fsm"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Secrets of the tokens every test API starts with.
const (
	adminSecret      = "admin-secret"
	postmasterSecret = "postmaster-secret"
	readSecret       = "read-secret"
)

// fsmStore is a Store that applies commands straight into the real state
// machine, without Raft: the same rejections as a cluster, no network.
type fsmStore struct {
	mu     sync.Mutex
	fsm    *fsm.FSM
	n      uint64
	err    error // returned by Apply when set
	leader bool
	// behind makes Apply report success without applying: the cluster
	// committed the write, this node has not applied it yet.
	behind bool
	// before, when set, gives each command Apply takes; the commands it
	// returns are applied first (another writer's that won the race).
	before func(*command.Envelope) []*command.Envelope
}

func (s *fsmStore) Apply(_ context.Context, e *command.Envelope) (command.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return command.Result{}, s.err
	}
	if s.behind {
		return command.Result{Created: true}, nil
	}
	if s.before != nil {
		for _, o := range s.before(e) {
			if _, err := s.applyLocked(o); err != nil {
				return command.Result{}, err
			}
		}
	}
	return s.applyLocked(e)
}

func (s *fsmStore) applyLocked(e *command.Envelope) (command.Result, error) {
	b, err := e.Encode()
	if err != nil {
		return command.Result{}, err
	}
	s.n++
	out := s.fsm.ApplyEntries([]fsm.Entry{{Index: s.n, Term: 1, Command: true, Data: b}})[0]
	return out.(command.Result), nil
}

func (s *fsmStore) IsLeader() bool                  { return s.leader }
func (s *fsmStore) Index() index.Reader             { return s.fsm.Index() }
func (s *fsmStore) Token(hash string) *record.Token { return s.fsm.Token(hash) }
func (s *fsmStore) Tokens() []*record.Token         { return s.fsm.Tokens() }
func (s *fsmStore) Dismissals() []record.Dismissal {
	return s.fsm.Dismissals()
}

type testEnv struct {
	t     *testing.T
	api   *API
	store *fsmStore
	reg   *prometheus.Registry
	ready error
	now   time.Time
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	st := &fsmStore{fsm: fsm.NewFSM(slog.New(slog.DiscardHandler), nil), leader: true}
	env := &testEnv{t: t, store: st, reg: prometheus.NewRegistry(), now: time.Unix(1_700_000_000, 0)}
	api, err := New(Config{
		NodeID:     "node1",
		Ready:      func(context.Context) error { return env.ready },
		Logger:     slog.New(slog.DiscardHandler),
		Registerer: env.reg,
		Gatherer:   env.reg,
		Now:        func() time.Time { return env.now },
		Expiring: func(v *index.View, until time.Time, kind string, fn func(expiry.Item) bool) {
			expiry.DefaultWindows().Expiring(v, 0, until, kind, fn)
		},
	}, st)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	env.api = api
	env.seedToken("admin", adminSecret, "admin")
	env.seedToken("pm", postmasterSecret, "postmaster", "192.0.2.0/24", "2001:db8::/32")
	env.seedToken("reader", readSecret, "read")
	return env
}

func (e *testEnv) seedToken(name, secret, role string, prefixes ...string) {
	e.t.Helper()
	env, err := command.New(command.TokenPut, e.now.Unix(), "", command.TokenBody{
		Name: name, Hash: HashSecret(secret), Role: role, Prefixes: prefixes})
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.store.Apply(context.Background(), env)
	if err != nil || res.Err != nil {
		e.t.Fatalf("seeding token %s: %v %v", name, err, res.Err)
	}
}

// response is what a test request got back.
type response struct {
	status int
	header http.Header
	body   string
}

// json decodes the body into v.
func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
}

// errorMsg returns the error message of a JSON error body.
func (r response) errorMsg(t *testing.T) string {
	t.Helper()
	var eb errorBody
	r.json(t, &eb)
	if eb.Error == "" {
		t.Fatalf("no error message in %q", r.body)
	}
	return eb.Error
}

func (e *testEnv) do(method, path, secret, body string, hdr ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.api.ServeHTTP(w, req)
	return response{status: w.Code, header: w.Header(), body: w.Body.String()}
}

// must runs a request and fails the test unless it answers want.
func (e *testEnv) must(want int, method, path, secret, body string) response {
	e.t.Helper()
	r := e.do(method, path, secret, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	return r
}
