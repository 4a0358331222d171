package fsm

import (
	"strings"

	"github.com/wlns/wlns/record"
)

// The challenge read side. Every method reads the last published state
// through one atomic load and takes no lock; the records returned are
// shared and must not be changed (the FSM replaces a changed challenge by a
// copy, so a record once returned never changes either).

// Challenge returns the challenge whose token has the hex SHA-256 hash
// tokenHash (either case), or nil.
func (f *FSM) Challenge(tokenHash string) *record.Challenge {
	return f.chal.Load().byTokenHash(strings.ToLower(tokenHash))
}

// ChallengeByID returns the challenge with ID id, or nil.
func (f *FSM) ChallengeByID(id string) *record.Challenge { return f.chal.Load().get(id) }

// Challenges calls fn for every stored challenge (any state, expired ones
// until the expiry sweep forgets them), in no particular order, until fn
// returns false. All calls see one version of the state.
func (f *FSM) Challenges(fn func(*record.Challenge) bool) {
	f.chal.Load().byID.each(func(_ string, c *record.Challenge) bool { return fn(c) })
}

// OpenChallenge returns the challenge last opened for (kind, sender, list
// domain, entity) if it is still in the open state, or nil. It may have
// expired: check Status. An O(1) lookup, unlike a scan of Challenges.
func (f *FSM) OpenChallenge(kind record.ChallengeKind, sender, domain string, entity uint64) *record.Challenge {
	return f.chal.Load().openFor(openKey(kind, sender, entity, domain))
}

// ChallengeSuppressed reports whether a forgery report suppresses new
// challenges to sender (normalised) through entity at Unix time now.
func (f *FSM) ChallengeSuppressed(sender string, entity uint64, now int64) bool {
	return f.chal.Load().suppressed(sender, entity, now)
}

// ChallengeCount returns how many challenges are stored.
func (f *FSM) ChallengeCount() int { return f.chal.Load().byID.len() }

// RateCounts calls fn, in no particular order until it returns false, for
// every rate limit that counts at least one open at Unix time now, with
// the count the state machine would compare with the limit.
func (f *FSM) RateCounts(now int64, fn func(record.RateCount) bool) {
	f.chal.Load().windows.each(func(_ string, w rateWindow) bool {
		rc, ok := w.countAt(now)
		return !ok || fn(rc)
	})
}
