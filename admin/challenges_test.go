package admin

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/verify"
)

const mtaSecret = "mta-secret"

// chStore adds the challenge read side to fsmStore, and an mta token.
type chStore struct {
	*fsmStore
}

func (s *chStore) Token(hash string) *record.Token {
	if hash == HashSecret(mtaSecret) {
		return &record.Token{Name: "mx-policy", Hash: hash, Role: record.RoleMTA}
	}
	return s.fsmStore.Token(hash)
}
func (s *chStore) Challenge(h string) *record.Challenge       { return s.fsm.Challenge(h) }
func (s *chStore) ChallengeByID(id string) *record.Challenge  { return s.fsm.ChallengeByID(id) }
func (s *chStore) Challenges(fn func(*record.Challenge) bool) { s.fsm.Challenges(fn) }
func (s *chStore) NodeID() string                             { return "node1" }
func (s *chStore) RateCounts(now int64, fn func(record.RateCount) bool) {
	s.fsm.RateCounts(now, fn)
}

// fakeVerifier answers every request with one outcome.
type fakeVerifier struct {
	out verify.Outcome
	err error
	by  string
}

func (f *fakeVerifier) Request(_ context.Context, _ string, _ netip.Addr, by string) (verify.Outcome, error) {
	f.by = by
	return f.out, f.err
}

// withVerifier rebuilds the test API over a chStore with v.
func (e *testEnv) withVerifier(v Verifier) *chStore {
	e.t.Helper()
	st := &chStore{fsmStore: e.store}
	api, err := New(Config{NodeID: "node1", Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return e.now }, Verify: v}, st)
	if err != nil {
		e.t.Fatal(err)
	}
	e.api = api
	return st
}

func TestChallenges_StatusOfEachOutcome(t *testing.T) {
	cases := []struct {
		out    verify.Outcome
		status int
	}{
		{verify.Outcome{Result: verify.Sent, Challenge: &record.Challenge{ID: "c1", State: record.ChallengeOpen, Expires: 2e9, TokenHash: "secret-hash"}}, 201},
		{verify.Outcome{Result: verify.Open, Challenge: &record.Challenge{ID: "c1", State: record.ChallengeOpen, Expires: 2e9}}, 200},
		{verify.Outcome{Result: verify.Listed}, 200},
		{verify.Outcome{Result: verify.Refused, Reason: "relay is not registered"}, 403},
		{verify.Outcome{Result: verify.Refused, Reason: "role address", Unchallengeable: true}, 422},
		{verify.Outcome{Result: verify.NoEntity, Reason: "no entity"}, 422},
		{verify.Outcome{Result: verify.Limited, Reason: "rate limit per sender", Limit: "domain_relay"}, 429},
		{verify.Outcome{Result: verify.SendFailed, Reason: "relay refused"}, 502},
	}
	for _, c := range cases {
		t.Run(string(c.out.Result)+"/"+c.out.Reason, func(t *testing.T) {
			e := newTestEnv(t)
			f := &fakeVerifier{out: c.out}
			e.withVerifier(f)
			r := e.must(c.status, "POST", "/v1/challenges", mtaSecret, `{"sender":"alice@example.com","ip":"192.0.2.1"}`)
			var ans ChallengeAnswer
			r.json(t, &ans)
			if ans.Outcome != string(c.out.Result) || ans.Status != ans.Outcome || ans.Reason != c.out.Reason ||
				ans.Limit != c.out.Limit || (c.status >= 300) != (ans.Error != "") {
				t.Fatalf("answer %+v", ans)
			}
			if strings.Contains(r.body, "secret-hash") || strings.Contains(r.body, "token_hash") {
				t.Fatalf("answer shows the token hash: %s", r.body)
			}
			if f.by != "mx-policy" {
				t.Fatalf("requested by %q, want the token name", f.by)
			}
		})
	}
}

func TestChallenges_WhoMayRequest(t *testing.T) {
	e := newTestEnv(t)
	e.withVerifier(&fakeVerifier{out: verify.Outcome{Result: verify.Listed}})
	body := `{"sender":"alice@example.com","ip":"192.0.2.1"}`
	e.must(200, "POST", "/v1/challenges", adminSecret, body)
	e.must(200, "POST", "/v1/challenges", mtaSecret, body)
	e.must(403, "POST", "/v1/challenges", postmasterSecret, body)
	e.must(403, "POST", "/v1/challenges", readSecret, body)
	e.must(401, "POST", "/v1/challenges", "", body)
	e.must(200, "GET", "/v1/challenges", mtaSecret, "")
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/v1/pairs", `{"sender":"a@b.example","ip":"192.0.2.1"}`},
		{"POST", "/v1/tokens", `{"name":"x","role":"read"}`},
		{"GET", "/v1/tokens", ""},
	} {
		e.must(403, w.method, w.path, mtaSecret, w.body)
	}
}

func TestChallenges_BadRequestAndNotConfigured(t *testing.T) {
	e := newTestEnv(t)
	e.withVerifier(nil)
	if msg := e.must(503, "POST", "/v1/challenges", adminSecret, `{"sender":"a@b.example","ip":"192.0.2.1"}`).errorMsg(t); !strings.Contains(msg, "not configured") {
		t.Fatalf("503 message %q", msg)
	}
	e.withVerifier(&fakeVerifier{out: verify.Outcome{Result: verify.Listed}})
	e.must(400, "POST", "/v1/challenges", adminSecret, `{"sender":"a@b.example","ip":"not-an-ip"}`)
	e.must(400, "POST", "/v1/challenges", adminSecret, `{"sender":"a@b.example","ip":"192.0.2.0/24"}`)
	e.must(400, "POST", "/v1/challenges", adminSecret, `{"sender":"a@b.example","ip":"192.0.2.1","extra":1}`)
	e.withVerifier(&fakeVerifier{err: context.DeadlineExceeded})
	e.must(503, "POST", "/v1/challenges", adminSecret, `{"sender":"a@b.example","ip":"192.0.2.1"}`)
}

// startSink runs an SMTP server on 127.0.0.1 that counts the mails it takes.
func startSink(t *testing.T) (addr string, count func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{done: func() { mu.Lock(); n++; mu.Unlock() }}, nil
	}))
	srv.Domain, srv.ErrorLog = "sink.test", log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

type sinkSession struct{ done func() }

func (s *sinkSession) Reset()                               {}
func (s *sinkSession) Logout() error                        { return nil }
func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	s.done()
	return err
}

// withRealService puts the real verification service with limits behind
// the test API, mailing into a sink, and creates group "mx"
// (192.0.2.0/28); it returns the group's ID and the sink's mail count.
func (e *testEnv) withRealService(limits verify.Limits) (group uint64, mails func() int) {
	e.t.Helper()
	addr, mails := startSink(e.t)
	st := &chStore{fsmStore: e.store}
	svc, err := verify.New(verify.Config{BaseURL: "https://wl.example.org", MailDomain: "wl.example.org",
		Relay: verify.Relay{Addr: addr, Timeout: 5 * time.Second}, Now: func() time.Time { return e.now },
		Limits: limits, Logger: slog.New(slog.DiscardHandler)}, st)
	if err != nil {
		e.t.Fatal(err)
	}
	e.withVerifier(svc)
	env, _ := command.New(command.EntityPut, e.now.Unix(), "", command.EntityBody{Name: "mx", Group: true, Prefixes: []string{"192.0.2.0/28"}})
	res, err := st.Apply(context.Background(), env)
	if err != nil || res.Err != nil {
		e.t.Fatalf("group: %v %v", err, res.Err)
	}
	return res.ID, mails
}

func TestChallenges_OverTheRealService(t *testing.T) {
	e := newTestEnv(t)
	_, mails := e.withRealService(verify.Limits{})

	var first ChallengeAnswer
	e.must(201, "POST", "/v1/challenges", mtaSecret, `{"sender":"Alice@Example.com","ip":"192.0.2.1"}`).json(t, &first)
	if first.Challenge == nil || first.Challenge.Sender != "alice@example.com" || first.Challenge.State != record.ChallengeOpen || first.Challenge.Sent == 0 {
		t.Fatalf("first answer %+v", first)
	}
	var again ChallengeAnswer
	e.must(200, "POST", "/v1/challenges", mtaSecret, `{"sender":"alice@example.com","ip":"192.0.2.2"}`).json(t, &again)
	if again.Outcome != "open" || again.Challenge.ID != first.Challenge.ID || mails() != 1 {
		t.Fatalf("retry %+v, %d mails", again, mails())
	}
	e.now = e.now.Add(time.Second)
	e.must(201, "POST", "/v1/challenges", adminSecret, `{"sender":"bob@example.com","ip":"192.0.2.1"}`)
	e.must(422, "POST", "/v1/challenges", mtaSecret, `{"sender":"postmaster@example.com","ip":"192.0.2.1"}`)
	e.must(422, "POST", "/v1/challenges", mtaSecret, `{"sender":"alice@example.com","ip":"198.51.100.1"}`)

	var page ChallengeList
	r := e.must(200, "GET", "/v1/challenges?state=open&limit=1", readSecret, "")
	r.json(t, &page)
	if len(page.Challenges) != 1 || page.Challenges[0].Sender != "bob@example.com" || page.Next == "" {
		t.Fatalf("first page %s", r.body)
	}
	next := page.Next
	page = ChallengeList{}
	e.must(200, "GET", "/v1/challenges?state=open&limit=1&after="+next, readSecret, "").json(t, &page)
	if len(page.Challenges) != 1 || page.Challenges[0].Sender != "alice@example.com" || page.Next != "" {
		t.Fatalf("second page %+v", page)
	}
	e.must(200, "GET", "/v1/challenges?sender=BOB@example.com", readSecret, "").json(t, &page)
	if len(page.Challenges) != 1 {
		t.Fatalf("by sender %+v", page)
	}
	e.must(200, "GET", "/v1/challenges?state=forged", readSecret, "").json(t, &page)
	if len(page.Challenges) != 0 {
		t.Fatalf("forged %+v", page)
	}
	e.must(200, "GET", "/v1/challenges?state=superseded", readSecret, "").json(t, &page)
	if len(page.Challenges) != 0 {
		t.Fatalf("superseded %+v", page)
	}
	e.now = e.now.Add(verify.DefaultTTL)
	e.must(200, "GET", "/v1/challenges?state=expired", readSecret, "").json(t, &page)
	if len(page.Challenges) != 2 || page.Challenges[0].State != record.ChallengeExpired {
		t.Fatalf("expired %+v", page)
	}
	var one record.Challenge
	r = e.must(200, "GET", "/v1/challenges/"+first.Challenge.ID, readSecret, "")
	r.json(t, &one)
	if one.ID != first.Challenge.ID || strings.Contains(r.body, "token_hash") || strings.Contains(r.body, e.store.fsm.ChallengeByID(one.ID).TokenHash) {
		t.Fatalf("GET one: %s", r.body)
	}
	e.must(404, "GET", "/v1/challenges/nope", readSecret, "")
	e.must(400, "GET", "/v1/challenges?state=bogus", readSecret, "")
	e.must(400, "GET", "/v1/challenges?after=!!", readSecret, "")
}

// A limited request says which limit refused it, and GET
// /v1/challenges/limits lists what each limit counts, busiest first.
func TestChallenges_LimitedNamesTheLimitAndTheListShowsIt(t *testing.T) {
	e := newTestEnv(t)
	group, _ := e.withRealService(verify.Limits{PerDomainRelay: 2})
	for _, s := range []string{"alice", "bob"} {
		e.must(201, "POST", "/v1/challenges", mtaSecret, `{"sender":"`+s+`@example.com","ip":"192.0.2.1"}`)
	}
	var ans ChallengeAnswer
	e.must(429, "POST", "/v1/challenges", mtaSecret, `{"sender":"carol@example.com","ip":"192.0.2.1"}`).json(t, &ans)
	if ans.Outcome != "limited" || ans.Limit != "domain_relay" || !strings.Contains(ans.Reason, "example.com through relay entity") {
		t.Fatalf("limited answer %+v", ans)
	}
	var list RateCountList
	e.must(200, "GET", "/v1/challenges/limits?kind=domain_relay", readSecret, "").json(t, &list)
	want := record.RateCount{Limit: "domain_relay", Domain: "example.com", Entity: group, Count: 2, Window: 86400, Sliding: true}
	if len(list.Limits) != 1 || list.Limits[0] != want {
		t.Fatalf("domain_relay limits %+v, want %+v", list.Limits, want)
	}
	e.must(200, "GET", "/v1/challenges/limits?min=2&limit=2", readSecret, "").json(t, &list)
	if len(list.Limits) != 2 || list.Limits[0].Count != 2 || list.Limits[1].Count != 2 {
		t.Fatalf("counts of at least 2: %+v", list.Limits)
	}
	e.must(400, "GET", "/v1/challenges/limits?kind=planet", readSecret, "")
	e.must(401, "GET", "/v1/challenges/limits", "", "")
}
