package expiry

import (
	"time"

	"github.com/wlns/wlns/command"
)

// ChallengeRetention is how long verification state (challenges,
// forgery suppressions, rate windows) is kept after it last mattered: a
// sweep forgets challenges that expired, suppressions that ended and
// windows that closed longer ago. Challenges are not records users query,
// so no per-kind window applies.
const ChallengeRetention = 30 * 24 * time.Hour

// Cutoffs returns the expire command body for a sweep at now. A record is
// deleted when it was last active before its kind's cutoff, which is now
// minus the window minus slack. The slack (granularity plus touch
// interval) covers what the touch loop has not reported yet: a query less
// than a granularity after the replicated last-queried time is not
// reported, and a report waits up to one touch interval. So a record lives
// at least its window after its last query on any node that reports.
//
// Unregistered lone entities without records go with the oldest record
// cutoff, so one created for a pair goes in the sweep that expires that
// pair.
func (w Windows) Cutoffs(now time.Time, slack time.Duration) command.ExpireBody {
	cut := func(d time.Duration) int64 {
		if d <= 0 {
			return 0
		}
		return now.Add(-d - slack).Unix()
	}
	b := command.ExpireBody{
		Pairs: cut(w.Pairs), DomainPairs: cut(w.DomainPairs), Verps: cut(w.Verps),
		Relays: cut(w.Relays), Groups: cut(w.Groups),
		Challenges: now.Add(-ChallengeRetention).Unix(),
	}
	for _, c := range []int64{b.Pairs, b.DomainPairs, b.Verps} {
		if c > 0 && (b.Orphans == 0 || c < b.Orphans) {
			b.Orphans = c
		}
	}
	return b
}
