package verify

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wlns/wlns/record"
)

// laggingStore is a follower that has not yet applied the challenge the
// leader mailed: it holds no challenge until ConsistentRead catches it
// up (or never, when catchUpErr is set).
type laggingStore struct {
	*fsmStore
	mu         sync.Mutex
	behind     bool
	reads      int
	catchUpErr error
}

func (s *laggingStore) Challenge(h string) *record.Challenge {
	s.mu.Lock()
	behind := s.behind
	s.mu.Unlock()
	if behind {
		return nil
	}
	return s.fsmStore.Challenge(h)
}

func (s *laggingStore) ConsistentRead(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.catchUpErr != nil {
		return s.catchUpErr
	}
	s.behind = false
	return nil
}

func (s *laggingStore) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// follower builds a second service over e's state, as a node that has
// not applied the challenges yet.
func (e *testEnv) follower(catchUpErr error) (*Service, *laggingStore) {
	e.t.Helper()
	ls := &laggingStore{fsmStore: e.store, behind: true, catchUpErr: catchUpErr}
	cfg := e.svc.cfg
	cfg.Registerer = nil
	svc, err := New(cfg, ls)
	if err != nil {
		e.t.Fatal(err)
	}
	return svc, ls
}

// A link followed, or a reply received, on a node that has not applied
// its challenge yet works once the node catches up with the leader; it
// was "This link is not valid" (systest TestVerify_PostfixChallengeConfirmByLinkAndReply
// failed so under load, the link opened on another node than the one
// that mailed it).
func TestLookup_NodeBehindTheLeaderCatchesUpBeforeRefusing(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name string
		act  func(t *testing.T, svc *Service, tok string)
		want record.ChallengeState
	}{
		{"page forgery report", func(t *testing.T, svc *Service, tok string) {
			if r := e.serve(svc.Handler(), http.MethodPost, "/verify/forgery/"+tok); r.status != http.StatusOK {
				t.Fatalf("POST forgery: %d\n%s", r.status, r.body)
			}
		}, record.ChallengeForged},
		{"page confirm", func(t *testing.T, svc *Service, tok string) {
			if r := e.serve(svc.Handler(), http.MethodPost, "/verify/confirm/"+tok); r.status != http.StatusOK {
				t.Fatalf("POST confirm: %d\n%s", r.status, r.body)
			}
		}, record.ChallengeConfirmed},
		{"reply", func(t *testing.T, svc *Service, tok string) {
			if _, err := svc.ConfirmReply(context.Background(), tok); err != nil {
				t.Fatalf("ConfirmReply: %v", err)
			}
		}, record.ChallengeConfirmed},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, tok := e.mustSend("user"+string(rune('a'+i))+"@example.com", relayIP)
			svc, ls := e.follower(nil)
			if svc.Open(tok) != nil {
				t.Fatal("the lagging node holds the challenge before catching up")
			}
			tc.act(t, svc, tok)
			if got := e.store.ChallengeByID(c.ID).State; got != tc.want || ls.readCount() != 1 {
				t.Fatalf("challenge %s after %d catch-ups, want %s after 1", got, ls.readCount(), tc.want)
			}
		})
	}
}

// What stays refused: a token nobody issued still gets the page that
// says so (after one catch-up), a malformed one costs the leader nothing,
// and a node that cannot reach the leader answers from what it holds.
func TestLookup_UnknownTokensAfterOneCatchUp(t *testing.T) {
	e := newEnv(t)
	_, tok := e.mustSend("alice@example.com", relayIP)
	cases := []struct {
		name      string
		token     string
		catchUp   error
		wantReads int
	}{
		{"well-formed, never issued", strings.Repeat("a", len(tok)), nil, 1},
		{"malformed", "not-a-token!", nil, 0},
		{"issued, leader unreachable", tok, errors.New("no leader"), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc, ls := e.follower(tc.catchUp)
			r := e.serve(svc.Handler(), http.MethodGet, "/verify/confirm/"+tc.token)
			if r.status != http.StatusNotFound || !strings.Contains(r.body, "This link is not valid") || ls.readCount() != tc.wantReads {
				t.Fatalf("GET: %d after %d catch-ups, want 404 after %d\n%s", r.status, ls.readCount(), tc.wantReads, r.body)
			}
		})
	}
}

// A connection spraying RCPTs of well-formed tokens nobody issued costs
// the leader one read and the session one catch-up wait, not one each
// (20 reads before; with the leader unreachable each RCPT waited up to
// 3 s, a minute for 20). A reply's own token after the first catch-up is
// still found: the catch-up brought in everything mailed before it.
func TestInbound_OneCatchUpPerConnection(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name     string
		catchUp  error
		wantReal bool
	}{
		{"leader answers", nil, true},
		{"leader unreachable", errors.New("no leader"), false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, tok := e.mustSend("spray"+string(rune('a'+i))+"@example.com", relayIP)
			svc, ls := e.follower(tc.catchUp)
			addr, _, _ := startInbound(t, svc, nil)
			c := smtpDial(t, addr)
			if err := c.Mail("someone@example.com", nil); err != nil {
				t.Fatal(err)
			}
			for range 20 {
				random, err := newToken()
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Rcpt(svc.ReplyAddress(random), nil); smtpCode(err) != 550 {
					t.Fatalf("RCPT of a token nobody issued: %v, want 550", err)
				}
			}
			err := c.Rcpt(svc.ReplyAddress(tok), nil)
			if (err == nil) != tc.wantReal || ls.readCount() != 1 {
				t.Fatalf("RCPT of the mailed token: %v after %d catch-ups, want accepted=%v after 1", err, ls.readCount(), tc.wantReal)
			}
		})
	}
}
