package verify

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

func TestRequest_SendsOneMailPerChallenge(t *testing.T) {
	e := newEnv(t)
	c, tok := e.mustSend("Alice@Example.com", groupIP)
	if c.Sender != "alice@example.com" || c.Entity != e.group || c.Kind != record.ChallengePair || c.Sent == 0 || c.By != "mta-1" {
		t.Fatalf("challenge %+v", c)
	}
	if c.TokenHash != HashToken(tok) {
		t.Fatalf("the mailed token does not hash to the stored one")
	}
	for _, ip := range []netip.Addr{groupIP, groupIP2} { // a retry, and another member of the group
		if o := e.request("alice@example.com", ip); o.Result != Open || o.Challenge.ID != c.ID {
			t.Fatalf("retry through %s: %+v, want open %s", ip, o, c.ID)
		}
	}
	mails := e.sink.messages()
	if len(mails) != 1 {
		t.Fatalf("sink got %d mails, want 1", len(mails))
	}
	if m := mails[0]; m.from != "" || len(m.to) != 1 || m.to[0] != "alice@example.com" {
		t.Fatalf("envelope from %q to %v; want <> to alice@example.com", m.from, m.to)
	}
}

func TestRequest_Outcomes(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits = Limits{PerSender: 1, PerDomain: -1, PerEntity: -1} })
	e.mustApply(command.PairPut, command.PairBody{Sender: "listed@example.com", Entity: e.group})
	e.mustApply(command.PairPut, command.PairBody{Sender: "whole.example", Entity: e.group})
	e.mustApply(command.VerpPut, command.VerpBody{Domain: "lists.example", Entity: e.group})
	e.mustSend("carol@example.com", groupIP) // carol's one challenge of the day

	cases := []struct {
		name     string
		sender   string
		ip       netip.Addr
		want     Result
		unchall  bool
		inReason string
	}{
		{"listed pair", "listed@example.com", groupIP, Listed, false, ""},
		{"listed domain", "anyone@whole.example", groupIP2, Listed, false, ""},
		{"VERP domain of the relay", "bounce-x@lists.example", groupIP, Refused, true, ""},
		{"VERP domain, ordinary-looking", "news@lists.example", groupIP, Refused, true, "VERP"},
		{"role address", "postmaster@example.com", groupIP, Refused, true, "role"},
		{"null sender", "", groupIP, Refused, true, "null sender"},
		{"unregistered relay", "dave@example.com", unregisteredIP, Refused, false, "not registered"},
		{"no entity", "dave@example.com", strangerIP, NoEntity, false, strangerIP.String()},
		{"sender limit", "carol@example.com", relayIP, Limited, false, "per sender"},
		{"open already", "carol@example.com", groupIP2, Open, false, ""},
	}
	before := len(e.sink.messages())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := e.request(c.sender, c.ip)
			if o.Result != c.want || o.Unchallengeable != c.unchall || !strings.Contains(o.Reason, c.inReason) {
				t.Fatalf("got %+v; want %s (unchallengeable %v) with %q", o, c.want, c.unchall, c.inReason)
			}
		})
	}
	if n := len(e.sink.messages()); n != before {
		t.Fatalf("%d mails sent by requests that must send none", n-before)
	}
}

func TestRequest_AllowUnregistered(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AllowUnregistered = true })
	if o := e.request("dave@example.com", unregisteredIP); o.Result != Sent {
		t.Fatalf("unregistered relay with AllowUnregistered: %+v", o)
	}
}

func TestRequest_StoreUnavailableIsAnError(t *testing.T) {
	e := newEnv(t)
	e.store.err = errors.New("no leader")
	_, err := e.svc.Request(context.Background(), "alice@example.com", groupIP, "mta-1")
	if err == nil || !strings.Contains(err.Error(), "no leader") {
		t.Fatalf("Request over a failing store: %v", err)
	}
	if n := len(e.sink.messages()); n != 0 {
		t.Fatalf("%d mails sent without a challenge", n)
	}
}

func TestRequest_FailedSendRetriedOncePerHour(t *testing.T) {
	e := newEnv(t)
	e.sink.setRcptErr(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"})
	o := e.request("alice@example.com", relayIP)
	if o.Result != SendFailed || !strings.Contains(o.Reason, "try later") {
		t.Fatalf("first request: %+v, want send_failed", o)
	}
	c := e.store.ChallengeByID(o.Challenge.ID)
	if c.Sent != 0 || !strings.Contains(c.SendError, "try later") || c.Status(e.now.Unix()) != record.ChallengeOpen {
		t.Fatalf("stored challenge after a failed send: %+v", c)
	}
	tries := e.sink.attempts()
	e.now = e.now.Add(30 * time.Minute)
	if o := e.request("alice@example.com", relayIP); o.Result != Open || e.sink.attempts() != tries {
		t.Fatalf("request 30 minutes later: %+v, %d new attempts; want open and none", o, e.sink.attempts()-tries)
	}
	e.sink.setRcptErr(nil)
	e.now = e.now.Add(31 * time.Minute)
	o2 := e.request("alice@example.com", relayIP)
	if o2.Result != Sent || o2.Challenge.ID != c.ID || o2.Challenge.Sent == 0 {
		t.Fatalf("request an hour later: %+v, want the same challenge sent", o2)
	}
	mails := e.sink.messages()
	if len(mails) != 1 || HashToken(tokenIn(t, mails[0].data)) != c.TokenHash {
		t.Fatalf("%d mails; want 1 carrying the challenge's token", len(mails))
	}
	if o := e.request("alice@example.com", relayIP); o.Result != Open || len(e.sink.messages()) != 1 {
		t.Fatalf("after the resend: %+v, want open and no more mail", o)
	}
}

// indexedStore has the optional look-ups of raftstore.Store.
type indexedStore struct {
	*fsmStore
	lookups int
}

func (s *indexedStore) OpenChallenge(kind record.ChallengeKind, sender, domain string, entity uint64) *record.Challenge {
	s.lookups++
	var found *record.Challenge
	s.fsm.Challenges(func(c *record.Challenge) bool {
		if c.State == record.ChallengeOpen && c.Kind == kind && c.Sender == sender && c.Domain == domain && c.Entity == entity {
			found = c
		}
		return found == nil
	})
	return found
}

func (s *indexedStore) ChallengeSuppressed(sender string, entity uint64, now int64) bool {
	return s.fsm.ChallengeSuppressed(sender, entity, now)
}

func TestRequest_UsesTheStoreIndexes(t *testing.T) {
	e := newEnv(t)
	st := &indexedStore{fsmStore: e.store}
	cfg := e.svc.cfg
	cfg.Registerer = nil
	svc, err := New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	c, tok := e.mustSend("alice@example.com", groupIP)
	if o := e.request("alice@example.com", groupIP2); o.Result != Open || o.Challenge.ID != c.ID || st.lookups != 2 {
		t.Fatalf("retry: %+v after %d look-ups", o, st.lookups)
	}
	e.page("POST", "/verify/forgery/"+tok)
	e.now = e.now.Add(DefaultTTL)
	before := e.store.appliedCount()
	if o := e.request("alice@example.com", groupIP); o.Result != Refused || !strings.Contains(o.Reason, "forgery") {
		t.Fatalf("suppressed: %+v", o)
	}
	if n := e.store.appliedCount(); n != before {
		t.Fatalf("a suppressed request proposed %d commands", n-before)
	}
}

func TestRequest_CallerGivingUpDoesNotCutTheMail(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The store ignores ctx; the relay delivery must too once the
	// challenge is open.
	o, err := e.svc.Request(ctx, "alice@example.com", groupIP, "mta-1")
	if err != nil || o.Result != Sent || len(e.sink.messages()) != 1 {
		t.Fatalf("Request with a cancelled context: %+v %v, %d mails", o, err, len(e.sink.messages()))
	}
}

// The attack of issue 14: forged senders at one domain through one
// registered relay. With the default limits they exhaust that relay's
// share of the domain only: a real sender at the domain through another
// relay, and a newcomer at another domain through the same relay, are
// still challenged, and the refusal names the limit (domain_relay) in the
// outcome and the metrics. The flood fades out of the sliding window
// instead of lasting to a boundary.
func TestRequest_ForgedFloodThroughOneRelayLocksOutNobodyElse(t *testing.T) {
	e := newEnv(t)
	for i := range DefaultPerDomainRelay {
		if o := e.request(fmt.Sprintf("forged%d@umkc.edu", i), relayIP); o.Result != Sent {
			t.Fatalf("forged sender %d: %+v", i, o)
		}
	}
	o := e.request("forged-more@umkc.edu", relayIP)
	if o.Result != Limited || o.Limit != command.LimitDomainRelay || !strings.Contains(o.Reason, "umkc.edu through relay entity") {
		t.Fatalf("flood past the per-relay share: %+v", o)
	}
	if o := e.request("dave@umkc.edu", groupIP); o.Result != Sent {
		t.Fatalf("a real umkc.edu sender through another relay: %+v", o)
	}
	if o := e.request("newcomer@example.org", relayIP); o.Result != Sent {
		t.Fatalf("a newcomer at another domain through the flooded relay: %+v", o)
	}
	if got := gatherChallenges(t, e); got["limit=domain_relay"] != 1 || got["limit=domain"] != 0 || got["limited"] != 1 {
		t.Fatalf("metrics after the flood: %v", got)
	}
	// The flood was at 08:00 UTC. At 02:00 the next day the previous day
	// bucket weighs 22/24 (46 of 50): the relay takes a few new umkc.edu
	// senders again, more as the flood slides out of the window.
	e.now = e.now.Add(18 * time.Hour)
	if o := e.request("late@umkc.edu", relayIP); o.Result != Sent {
		t.Fatalf("18 hours after the flood: %+v", o)
	}
}

// TestRequest_QuotesALocalPartThatIsNotADotString: senders are held
// unquoted (Postfix's internal form); the challenge goes out with the local
// part quoted, in the envelope and the To: header, so a relay takes it.
func TestRequest_QuotesALocalPartThatIsNotADotString(t *testing.T) {
	e := newEnv(t)
	for i, tc := range []struct{ sender, canonical, quoted string }{
		{`"John Doe"@example.com`, "john doe@example.com", `"john doe"@example.com`},
		{"a..b@example.com", "a..b@example.com", `"a..b"@example.com`},
	} {
		e.mustSend(tc.sender, groupIP)
		mails := e.sink.messages()
		if len(mails) != i+1 {
			t.Fatalf("sink got %d mails, want %d", len(mails), i+1)
		}
		// The relay (go-smtp) parses the quoted path back to the mailbox.
		if m := mails[i]; len(m.to) != 1 || m.to[0] != tc.canonical {
			t.Errorf("relay read RCPT TO as %q, want %s", m.to, tc.canonical)
		}
		want, m := tc.quoted, mails[i]
		if !strings.Contains(m.data, "To: <"+want+">") {
			t.Errorf("mail lacks the header To: <%s>:\n%s", want, m.data)
		}
	}
}

// A relay whose newcomers confirm does not run out of challenges: a
// confirmation gives its place in the limits back; unconfirmed ones (what
// forged senders leave) keep counting.
func TestRequest_ConfirmedNewcomersDoNotExhaustTheRelay(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits.PerEntity = 3 })
	for i := range 6 {
		_, tok := e.mustSend(fmt.Sprintf("newcomer%d@example.org", i), relayIP)
		if r := e.page("POST", "/verify/confirm/"+tok); r.status != 200 {
			t.Fatalf("confirming newcomer %d: %d", i, r.status)
		}
	}
	for i := range 3 {
		e.mustSend(fmt.Sprintf("forged%d@example.org", i), relayIP)
	}
	if o := e.request("next@example.org", relayIP); o.Result != Limited || o.Limit != command.LimitRelay {
		t.Fatalf("after three unconfirmed challenges: %+v", o)
	}
}
