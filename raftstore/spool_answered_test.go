package raftstore

import (
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

// TestSpoolReplay_AnswerGivenByAnotherRequestIsDone: a sender confirms on a
// mirror cut off from the cluster (the confirmation is spooled, never
// proposed) and again on another mirror, which commits. When the spool
// replays, the token is used: what the sender asked for holds, so the
// entry is done, not failed (the soak found such entries failed). A
// spooled confirmation of a token reported as forged meanwhile still
// fails: that answer conflicts.
func TestSpoolReplay_AnswerGivenByAnotherRequestIsDone(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	mustApply(t, s, command.EntityPut, "", command.EntityBody{Name: "Relays-A", Group: true, Prefixes: []string{"192.0.2.0/24", "2001:db8::/48"}})
	mustApply(t, s, command.ChallengeOpen, "", chOpen("c1", "dave@umkc.edu", "192.0.2.5"))
	mustApply(t, s, command.ChallengeOpen, "", chOpen("c2", "eve@umkc.edu", "192.0.2.5"))
	mustApply(t, s, command.ChallengeOpen, "", chOpen("c3", "ann@umkc.edu", "192.0.2.5"))
	mustApply(t, s, command.ChallengeConfirm, "other-mirror-1", chConfirm("c1", "reply"))
	mustApply(t, s, command.ChallengeReport, "other-mirror-2", chReport("c2", "forgery", 3600))
	mustApply(t, s, command.ChallengeReport, "other-mirror-3", chReport("c3", "forgery", 3600))
	now := time.Now().Unix()
	for _, e := range []*command.Envelope{
		env(t, command.ChallengeConfirm, now, "cut-off-1", chConfirm("c1", "link")),        // done: confirmed elsewhere
		env(t, command.ChallengeReport, now, "cut-off-2", chReport("c2", "forgery", 3600)), // done: reported alike
		env(t, command.ChallengeConfirm, now, "cut-off-3", chConfirm("c3", "link")),        // fails: reported as forged
	} {
		if _, _, err := s.spool.sp.add(e, false, ErrNoLeader, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "the spool to drain", func() bool { p, _ := s.SpoolCounts(); return p == 0 })
	_, failed, err := s.SpoolEntries()
	if err != nil || len(failed) != 1 || failed[0].Envelope.ReqID != "cut-off-3" {
		var ids []string
		for _, f := range failed {
			ids = append(ids, f.Envelope.ReqID)
		}
		t.Fatalf("failed entries %v (%v), want only cut-off-3, the confirmation of a forged token", ids, err)
	}
	if n := s.Index().Load().Counts().Pairs; n != 1 {
		t.Errorf("%d pairs, want 1 (dave, once)", n)
	}
}
