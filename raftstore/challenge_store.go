package raftstore

import "github.com/wlns/wlns/record"

// The challenge read side of the Store: local reads of the FSM's
// (challenge_reads.go); a follower may lag.

// Challenge returns the challenge whose token has the hex SHA-256 hash
// tokenHash (either case), or nil. Local read: a follower may lag.
func (s *Store) Challenge(tokenHash string) *record.Challenge { return s.fsm.Challenge(tokenHash) }

// ChallengeByID returns the challenge with ID id, or nil. Local read.
func (s *Store) ChallengeByID(id string) *record.Challenge { return s.fsm.ChallengeByID(id) }

// Challenges calls fn for every stored challenge, in no particular order,
// until fn returns false (see FSM.Challenges). Local read.
func (s *Store) Challenges(fn func(*record.Challenge) bool) { s.fsm.Challenges(fn) }

// OpenChallenge returns the challenge last opened for (kind, sender, list
// domain, entity) while it is in the open state (see FSM.OpenChallenge).
// Local read.
func (s *Store) OpenChallenge(kind record.ChallengeKind, sender, domain string, entity uint64) *record.Challenge {
	return s.fsm.OpenChallenge(kind, sender, domain, entity)
}

// ChallengeSuppressed reports whether new challenges to sender through
// entity are suppressed at now. Local read.
func (s *Store) ChallengeSuppressed(sender string, entity uint64, now int64) bool {
	return s.fsm.ChallengeSuppressed(sender, entity, now)
}

// ChallengeCount returns how many challenges are stored. Local read.
func (s *Store) ChallengeCount() int { return s.fsm.ChallengeCount() }

// RateCounts calls fn for every rate limit counting something at now (see
// FSM.RateCounts). Local read.
func (s *Store) RateCounts(now int64, fn func(record.RateCount) bool) { s.fsm.RateCounts(now, fn) }
