package fsm

import (
	"bytes"
	"io"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// chReplace is chOpen with a week's TTL and ReplaceUnsentAfter set to an
// hour, as verify.Request proposes it.
func chReplace(id, sender, ip string) command.ChallengeOpenBody {
	b := chOpen(id, sender, ip)
	b.TTL, b.ReplaceUnsentAfter = 7*86400, 3600
	return b
}

func TestFSM_ChallengeOpenReplacesUnsent(t *testing.T) {
	const sender, ip = "dave@umkc.edu", "192.0.2.5"
	cases := []struct {
		name    string
		sent    string // "": never recorded; "ok": mailed; "failed": a failed send
		after   int64  // seconds between the opens
		replace int64  // the second open's ReplaceUnsentAfter
		limits  command.ChallengeLimits
		code    command.Code // "": c2 replaces c1
		msg     string
	}{
		{name: "unsent and an hour old", after: 3600, replace: 3600},
		{name: "failed send and an hour old", sent: "failed", after: 3600, replace: 3600},
		{name: "unsent but too young", after: 3599, replace: 3600, code: command.Conflict, msg: "open challenge c1 exists"},
		{name: "sent is never replaced", sent: "ok", after: 3500, replace: 3600, code: command.Conflict, msg: "open challenge c1 exists"},
		{name: "sent is never replaced however old", sent: "ok", after: 3599, replace: 1, code: command.Conflict, msg: "open challenge c1 exists"},
		{name: "zero keeps the old one", after: 3599, replace: 0, code: command.Conflict, msg: "open challenge c1 exists"},
		{name: "replacement counts against the limits", after: 3600, replace: 3600,
			limits: command.ChallengeLimits{Window: 86400, PerSender: 1}, code: command.Limited, msg: "per sender"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := chHarness(t)
			h.now = (h.now/86400 + 1) * 86400 // a day boundary: both opens in one window
			first := chOpen("c1", sender, ip)
			first.Limits = c.limits
			first.TTL = 7 * 86400
			h.ok(command.ChallengeOpen, first)
			switch c.sent {
			case "ok":
				h.ok(command.ChallengeSent, command.ChallengeSentBody{ID: "c1"})
			case "failed":
				h.ok(command.ChallengeSent, command.ChallengeSentBody{ID: "c1", Error: "421 try later"})
			}
			before := challengeBytes(h.f)
			h.now += c.after
			second := chOpen("c2", sender, ip)
			second.ReplaceUnsentAfter, second.Limits = c.replace, c.limits
			r := h.do(command.ChallengeOpen, second)
			if c.code != "" {
				wantRejected(t, r, c.code, c.msg)
				if challengeBytes(h.f) != before {
					t.Fatal("a refused replacement changed the challenge state")
				}
				if got := h.f.ChallengeByID("c1").Status(h.now); got != record.ChallengeOpen {
					t.Fatalf("old challenge is %s, want still open", got)
				}
				return
			}
			if r.Err != nil || !r.Created {
				t.Fatalf("replacing open: %+v", r)
			}
			old := h.f.ChallengeByID("c1")
			if old.State != record.ChallengeSuperseded || old.Closed != h.now || old.Method != "replaced by c2" {
				t.Fatalf("old challenge after replacement: %+v", old)
			}
			if got := h.f.OpenChallenge(record.ChallengePair, sender, "", 1); got == nil || got.ID != "c2" {
				t.Fatalf("open challenge for the pair = %+v, want c2", got)
			}
			wantRejected(t, h.do(command.ChallengeConfirm, chConfirm("c1", "link")), command.NotFound, badToken)
			wantRejected(t, h.do(command.ChallengeReport, chReport("c1", "forgery", 3600)), command.NotFound, badToken)
			h.ok(command.ChallengeConfirm, chConfirm("c2", "link"))
			if h.view().Pair(1, []byte(sender)) == nil {
				t.Fatal("confirming the new token wrote no pair")
			}
		})
	}
}

// Two nodes that both find the unsent challenge propose a replacement; the
// second one applied finds the first's fresh challenge and is refused, so
// the sender gets one new mail, not two.
func TestFSM_ChallengeReplacementHappensOnce(t *testing.T) {
	h := chHarness(t)
	h.ok(command.ChallengeOpen, chReplace("c1", "dave@umkc.edu", "192.0.2.5"))
	h.now += 7200
	rs := h.apply(env(t, command.ChallengeOpen, h.now, "", chReplace("c2", "dave@umkc.edu", "192.0.2.5")),
		env(t, command.ChallengeOpen, h.now, "", chReplace("c3", "dave@umkc.edu", "192.0.2.5")))
	if rs[0].Err != nil {
		t.Fatalf("first replacement: %v", rs[0].Err)
	}
	wantRejected(t, rs[1], command.Conflict, "open challenge c2 exists")
	if h.f.ChallengeByID("c3") != nil {
		t.Fatal("the refused replacement was stored")
	}
}

// A replacement survives a snapshot: the superseded challenge stays out of
// the open index and its token stays dead on a restored replica.
func TestFSM_ChallengeSupersededSurvivesSnapshot(t *testing.T) {
	h := chHarness(t)
	h.ok(command.ChallengeOpen, chReplace("c1", "dave@umkc.edu", "192.0.2.5"))
	h.now += 3600
	h.ok(command.ChallengeOpen, chReplace("c2", "dave@umkc.edu", "192.0.2.5"))
	r := newHarness(t)
	r.now = h.now
	if _, err := r.f.Restore(io.NopCloser(bytes.NewReader(persist(t, h.f)))); err != nil {
		t.Fatal(err)
	}
	if got := r.f.ChallengeByID("c1"); got == nil || got.State != record.ChallengeSuperseded {
		t.Fatalf("restored old challenge: %+v", got)
	}
	if got := r.f.OpenChallenge(record.ChallengePair, "dave@umkc.edu", "", 1); got == nil || got.ID != "c2" {
		t.Fatalf("restored open challenge = %+v, want c2", got)
	}
	wantRejected(t, r.do(command.ChallengeConfirm, chConfirm("c1", "link")), command.NotFound, badToken)
}
