package verify

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// crashedOpen commits a challenge.open for sender through the group the way
// a node that then crashed did: the open is in the store, no mail went out
// and no node holds the token. It returns the challenge and its token.
func (e *testEnv) crashedOpen(sender string) (*record.Challenge, string) {
	e.t.Helper()
	tok, err := newToken()
	if err != nil {
		e.t.Fatal(err)
	}
	body := command.ChallengeOpenBody{ID: "crashed-1", Kind: "pair", Sender: sender, IP: groupIP.String(),
		TokenHash: HashToken(tok), TTL: int64(DefaultTTL / time.Second), RequireRegistered: true}
	e.mustApply(command.ChallengeOpen, body)
	return e.store.ChallengeByID(body.ID), tok
}

func TestRequest_ReplacesAChallengeNobodyMailed(t *testing.T) {
	e := newEnv(t)
	old, oldTok := e.crashedOpen("alice@example.com")
	e.now = e.now.Add(ResendAfter - time.Second)
	if o := e.request("alice@example.com", groupIP2); o.Result != Open || o.Challenge.ID != old.ID {
		t.Fatalf("request before ResendAfter: %+v, want the old challenge open", o)
	}
	if n := len(e.sink.messages()); n != 0 {
		t.Fatalf("%d mails before ResendAfter, want none", n)
	}
	e.now = e.now.Add(time.Second)
	c, tok := e.mustSend("alice@example.com", groupIP)
	if c.ID == old.ID || tok == oldTok || c.TokenHash != HashToken(tok) || c.Sent == 0 {
		t.Fatalf("replacement %+v (token %s), old %s (token %s): want a new challenge, token and mail", c, tok, old.ID, oldTok)
	}
	if got := e.store.ChallengeByID(old.ID); got.State != record.ChallengeSuperseded {
		t.Fatalf("old challenge is %s, want superseded", got.State)
	}
	for range 2 { // retries: the new challenge is open, nothing more is mailed
		if o := e.request("alice@example.com", groupIP); o.Result != Open || o.Challenge.ID != c.ID {
			t.Fatalf("retry after the replacement: %+v, want open %s", o, c.ID)
		}
	}
	if n := len(e.sink.messages()); n != 1 {
		t.Fatalf("%d mails, want exactly one", n)
	}
	r := e.page("POST", "/verify/confirm/"+oldTok)
	if r.status != http.StatusNotFound || !strings.Contains(r.body, "unknown, was already used, or has expired") {
		t.Fatalf("old link: %d %q, want the unknown-token page", r.status, r.body)
	}
	if e.store.fsm.Index().Load().Pair(e.group, []byte("alice@example.com")) != nil {
		t.Fatal("the old link confirmed the pair")
	}
	if r := e.page("POST", "/verify/confirm/"+tok); r.status != http.StatusOK {
		t.Fatalf("new link: %d %q", r.status, r.body)
	}
	if e.store.fsm.Index().Load().Pair(e.group, []byte("alice@example.com")) == nil {
		t.Fatal("the new link did not confirm the pair")
	}
}

func TestRequest_NeverReplacesAMailedChallenge(t *testing.T) {
	e := newEnv(t)
	c, _ := e.mustSend("alice@example.com", groupIP)
	e.now = e.now.Add(DefaultTTL - time.Minute)
	if o := e.request("alice@example.com", groupIP); o.Result != Open || o.Challenge.ID != c.ID {
		t.Fatalf("request days later: %+v, want the mailed challenge open", o)
	}
	if n := len(e.sink.messages()); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
}

// The node that holds the token of a failed send tries that token again
// rather than replacing the challenge, even when it is old enough to be.
func TestRequest_HolderOfAFailedTokenResendsIt(t *testing.T) {
	e := newEnv(t)
	e.sink.setRcptErr(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"})
	o := e.request("alice@example.com", groupIP)
	if o.Result != SendFailed {
		t.Fatalf("first request: %+v", o)
	}
	e.sink.setRcptErr(nil)
	e.now = e.now.Add(2 * ResendAfter)
	o2 := e.request("alice@example.com", groupIP)
	if o2.Result != Sent || o2.Challenge.ID != o.Challenge.ID {
		t.Fatalf("request later on the same node: %+v, want %s sent", o2, o.Challenge.ID)
	}
}
