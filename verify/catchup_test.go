package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

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
	return e.serviceOver(ls), ls
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

// slowFollower is a follower whose leader read takes a while: a read
// brings in what the leader had committed when it began, once the test
// lets it finish (every read after release finishes at once).
type slowFollower struct {
	*fsmStore
	mu      sync.Mutex
	held    map[string]bool // token hashes this node has applied
	reads   int
	looks   int // Challenge calls
	began   chan struct{}
	release chan struct{}
}

func newSlowFollower(leader *fsmStore) *slowFollower {
	return &slowFollower{fsmStore: leader, held: map[string]bool{}, began: make(chan struct{}, 1), release: make(chan struct{})}
}

func (s *slowFollower) Challenge(h string) *record.Challenge {
	s.mu.Lock()
	held := s.held[h]
	s.looks++
	s.mu.Unlock()
	if !held {
		return nil
	}
	return s.fsmStore.Challenge(h)
}

func (s *slowFollower) ConsistentRead(ctx context.Context) error {
	committed := map[string]bool{}
	s.fsmStore.Challenges(func(c *record.Challenge) bool {
		committed[c.TokenHash] = true
		return true
	})
	s.mu.Lock()
	s.reads++
	s.mu.Unlock()
	select {
	case s.began <- struct{}{}:
	default:
	}
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.Copy(s.held, committed)
	return nil
}

func (s *slowFollower) counts() (reads, looks int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads, s.looks
}

// serviceOver builds a second service over store, as another node.
func (e *testEnv) serviceOver(store Store) *Service {
	e.t.Helper()
	cfg := e.svc.cfg
	cfg.Registerer = nil
	svc, err := New(cfg, store)
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

// lookUpAll looks every token up at once on svc, lets the leader read
// finish once each has looked at what the node holds, and returns which
// were found.
func lookUpAll(t *testing.T, svc *Service, sf *slowFollower, tokens []string) []bool {
	t.Helper()
	found := make([]bool, len(tokens))
	_, before := sf.counts()
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() { found[i] = svc.Lookup(context.Background(), tok) != nil })
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, looks := sf.counts(); looks-before >= len(tokens) || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond) // from looking to waiting for the read
	close(sf.release)
	wg.Wait()
	return found
}

// Senders whose links open together on a node behind the leader all get
// their page, among a flood of forged tokens, and the node asks the
// leader once or twice, not once per token: past 8 catch-ups in flight
// a real link was answered "This link is not valid".
func TestLookup_ConcurrentLinksShareOneLeaderRead(t *testing.T) {
	e := newEnv(t)
	const users, forged = 12, 200
	var tokens []string
	for i := range users {
		_, tok := e.mustSend(fmt.Sprintf("user%d@example.com", i), relayIP)
		tokens = append(tokens, tok)
	}
	for range forged {
		tok, err := newToken()
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	sf := newSlowFollower(e.store)
	found := lookUpAll(t, e.serviceOver(sf), sf, tokens)
	for i, ok := range found {
		if ok != (i < users) {
			t.Errorf("token %d (a user's: %v) found: %v", i, i < users, ok)
		}
	}
	if reads, _ := sf.counts(); reads < 1 || reads > 2 {
		t.Errorf("%d leader reads for %d tokens, want 1 or 2", reads, len(tokens))
	}
}

// A leader read that began before a challenge was committed cannot vouch
// for it: a link opened meanwhile waits for the next read, not the one in
// flight.
func TestLookup_AReadBegunBeforeTheCommitDoesNotAnswerForIt(t *testing.T) {
	e := newEnv(t)
	sf := newSlowFollower(e.store)
	svc := e.serviceOver(sf)
	early, err := newToken()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	go func() { done <- svc.Lookup(context.Background(), early) != nil }()
	<-sf.began
	_, tok := e.mustSend("late@example.com", relayIP)
	if !lookUpAll(t, svc, sf, []string{tok})[0] {
		t.Error("a link mailed while a leader read was in flight is not valid")
	}
	if <-done {
		t.Error("a token nobody issued was found")
	}
}
