package fsm

import (
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
)

func TestFSM_ExpireForgetsOldChallengeState(t *testing.T) {
	h := challengeScene(t) // challenges created at t0 and t0+7200, closed at t0+7260
	sceneEnd := h.now
	h.now += 10
	// A challenge that expires well after the cutoff stays.
	young := chOpen("young", "zed@z.example", "192.0.2.5")
	young.TTL = command.MaxChallengeTTL
	h.ok(command.ChallengeOpen, young)

	expire := func(cutoff int64) command.Result {
		h.now += 10
		return h.ok(command.Expire, command.ExpireBody{Challenges: cutoff})
	}
	// A cutoff before everything deletes nothing but ended rate windows:
	// the scene's windows (1 day, the current one ends at t0+92800) stay.
	expire(t0)
	if h.f.ChallengeCount() != 6 || h.f.chal.Load().windows.len() != 9 {
		t.Fatalf("%d challenges, %d windows after an early cutoff", h.f.ChallengeCount(), h.f.chal.Load().windows.len())
	}
	// Once the window ends, the same cutoff deletes the windows (they can
	// never count again) and still no challenge.
	h.now = t0 + 92800
	expire(t0)
	if h.f.ChallengeCount() != 6 || h.f.chal.Load().windows.len() != 0 {
		t.Fatalf("%d challenges, %d windows after the windows ended", h.f.ChallengeCount(), h.f.chal.Load().windows.len())
	}
	// "expired" expired at t0+3600; the rest expire at t0+10800 or later.
	expire(t0 + 3601)
	if h.f.ChallengeByID("expired") != nil || h.f.Challenge(secretHash("expired")) != nil || h.f.ChallengeByID("open") == nil {
		t.Fatal("the cutoff did not delete exactly the expired challenge")
	}
	// Past every short TTL and the 1-day suppression.
	expire(sceneEnd + 2*86400)
	if h.f.ChallengeCount() != 1 || h.f.ChallengeByID("young") == nil {
		t.Fatalf("%d challenges left, want only the young one", h.f.ChallengeCount())
	}
	cs := h.f.chal.Load()
	if cs.suppress.len() != 0 || cs.windows.len() != 0 || cs.byToken.len() != 1 || cs.open.len() != 1 {
		t.Fatalf("left: %d suppressions, %d windows, %d tokens, %d open keys", cs.suppress.len(), cs.windows.len(), cs.byToken.len(), cs.open.len())
	}
	// The forgotten open challenge no longer blocks its key.
	h.ok(command.ChallengeOpen, chOpen("again", "dave@umkc.edu", "192.0.2.5"))
}

func TestFSM_ExpireWithoutChallengeCutoffKeepsChallenges(t *testing.T) {
	h := challengeScene(t)
	h.now += 400 * 86400
	h.ok(command.Expire, command.ExpireBody{Pairs: h.now})
	if h.f.ChallengeCount() != 5 || !h.f.ChallengeSuppressed("bob@x.example", 2, h.now-400*86400) {
		t.Fatal("an expire without a challenge cutoff deleted verification state")
	}
}

func TestCheckProposal_RefusesMalformedChallenges(t *testing.T) {
	good := chOpen("c1", "dave@umkc.edu", "192.0.2.5")
	bad := good
	bad.TokenHash = "abc"
	cases := []struct {
		name string
		e    *command.Envelope
		want string
	}{
		{"valid open", env(t, command.ChallengeOpen, t0, "", good), ""},
		{"valid confirm", env(t, command.ChallengeConfirm, t0, "", chConfirm("c1", "link")), ""},
		{"bad token hash", env(t, command.ChallengeOpen, t0, "", bad), "token_hash"},
		{"no method", env(t, command.ChallengeConfirm, t0, "", chConfirm("c1", "")), "method"},
		{"unknown report", env(t, command.ChallengeReport, t0, "", chReport("c1", "spam", 0)), "report"},
		{"sent without id", env(t, command.ChallengeSent, t0, "", command.ChallengeSentBody{}), "challenge id"},
		{"wrong shape", &command.Envelope{V: command.Version, Type: command.ChallengeOpen, Time: t0, Body: []byte(`{"ttl":"long"}`)}, "decoding"},
		{"in a batch", env(t, command.Batch, t0, "", command.BatchBody{Commands: []command.Envelope{
			*env(t, command.ChallengeReport, 0, "", chReport("c1", "list", 0)),
			*env(t, command.ChallengeOpen, 0, "", bad),
		}}), "batch command 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckProposal(c.e)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("checkProposal = %v, want an error saying %q", err, c.want)
			}
		})
	}
}
