package raftstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// TestStore_ChallengesThroughRaftSurviveRestart opens and confirms
// challenges through Store.Apply, refuses malformed ones before the log,
// and finds the state again after a restart from a snapshot plus the log
// after it.
func TestStore_ChallengesThroughRaftSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	mustApply(t, s, command.EntityPut, "", command.EntityBody{Name: "Relays-A", Group: true, Prefixes: []string{"192.0.2.0/24", "2001:db8::/48"}})
	mustApply(t, s, command.ChallengeOpen, "open-1", chOpen("c1", "dave@umkc.edu", "192.0.2.5"))
	mustApply(t, s, command.ChallengeOpen, "", chOpen("c2", "eve@umkc.edu", "192.0.2.5"))
	mustApply(t, s, command.ChallengeReport, "", chReport("c2", "forgery", 3600))

	bad := chOpen("c3", "ann@umkc.edu", "192.0.2.5")
	bad.TTL = 0
	if _, err := s.Apply(context.Background(), env(t, command.ChallengeOpen, time.Now().Unix(), "", bad)); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("malformed open: %v, want ErrInvalidCommand", err)
	}
	if err := s.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	r := mustApply(t, s, command.ChallengeConfirm, "", chConfirm("c1", "link")) // after the snapshot: replayed from the log
	if r.ID != 1 || s.Index().Load().Pair(1, []byte("dave@umkc.edu")) == nil {
		t.Fatalf("confirm through the store: %+v", r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openStore(t, dir, nil)
	if c := s2.Challenge(secretHash("c1")); c == nil || c.State != record.ChallengeConfirmed || s2.ChallengeByID("c1") != c {
		t.Fatalf("confirmed challenge after restart: %+v", c)
	}
	if c := s2.ChallengeByID("c2"); c == nil || c.State != record.ChallengeForged || !s2.ChallengeSuppressed("eve@umkc.edu", 1, c.Closed) {
		t.Fatalf("forged challenge or its suppression lost: %+v", c)
	}
	n := 0
	s2.Challenges(func(*record.Challenge) bool { n++; return true })
	if n != 2 || s2.ChallengeCount() != 2 || s2.OpenChallenge(record.ChallengePair, "dave@umkc.edu", "", 1) != nil {
		t.Fatalf("%d challenges after restart", n)
	}
	r, err := s2.Apply(context.Background(), env(t, command.ChallengeOpen, time.Now().Unix(), "open-1", chOpen("c1", "dave@umkc.edu", "192.0.2.5")))
	if err != nil || !r.Duplicate {
		t.Fatalf("retried open after restart: %+v %v", r, err)
	}
}
