package fsm

import (
	"strconv"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// challenges is the replicated verification state: challenges with their
// lookup indexes, forgery suppressions and rate-limit windows. A value is
// never changed once built: every write returns a new *challenges sharing
// all but a few buckets with the old one (see cowMap), so the FSM publishes
// it through an atomic pointer and a failed batch just keeps the old one.
type challenges struct {
	// byID holds every challenge.
	byID cowMap[*record.Challenge]
	// byToken maps a token hash to its challenge's ID.
	byToken cowMap[string]
	// open maps openKey to the ID of the challenge last opened for it
	// while its state is open (it may have expired since).
	open cowMap[string]
	// suppress holds forgery suppressions by suppressKey.
	suppress cowMap[suppression]
	// windows holds rate-limit counters by limit key.
	windows cowMap[rateWindow]
}

// suppression refuses new challenges to Sender through Entity before Until.
type suppression struct {
	sender string
	entity uint64
	until  int64
}

// rateWindow counts the challenges opened for one limit key. A fixed
// window (version-3 limits) counts count in [start, start+length). A
// sliding window of length L is stored as its two fixed buckets, so that
// it is forgotten (sweep) exactly when neither counts any more: start is
// the older bucket's, length is 2L, prev counts [start, start+L) and count
// [start+L, start+2L).
type rateWindow struct {
	key           string
	start, length int64
	count         int
	prev          int
	sliding       bool
}

func newChallenges() *challenges {
	return &challenges{
		byID: newCowMap[*record.Challenge](), byToken: newCowMap[string](), open: newCowMap[string](),
		suppress: newCowMap[suppression](), windows: newCowMap[rateWindow](),
	}
}

// openKey is what "one open challenge at a time" is about: kind, sender,
// entity and (for VERP) list domain. NUL cannot occur in a normalised
// sender or domain.
func openKey(kind record.ChallengeKind, sender string, entity uint64, domain string) string {
	return string(kind) + "\x00" + sender + "\x00" + strconv.FormatUint(entity, 10) + "\x00" + domain
}

func openKeyOf(c *record.Challenge) string { return openKey(c.Kind, c.Sender, c.Entity, c.Domain) }

// suppressKey names the (sender, entity) a forgery report suppresses.
func suppressKey(sender string, entity uint64) string {
	return sender + "\x00" + strconv.FormatUint(entity, 10)
}

// Rate-limit keys: one namespace per limit.
func senderLimitKey(sender string) string { return "s\x00" + sender }
func domainLimitKey(domain string) string { return "d\x00" + domain }
func domainRelayLimitKey(domain string, entity uint64) string {
	return "r\x00" + domain + "\x00" + strconv.FormatUint(entity, 10)
}
func entityLimitKey(entity uint64) string { return "e\x00" + strconv.FormatUint(entity, 10) }

// byTokenHash returns the challenge whose token has hash h, or nil.
func (cs *challenges) byTokenHash(h string) *record.Challenge {
	id, ok := cs.byToken.get(h)
	if !ok {
		return nil
	}
	return cs.get(id)
}

// get returns the challenge with ID id, or nil.
func (cs *challenges) get(id string) *record.Challenge {
	c, _ := cs.byID.get(id)
	return c
}

// openFor returns the challenge the open index has for key, or nil.
func (cs *challenges) openFor(key string) *record.Challenge {
	id, ok := cs.open.get(key)
	if !ok {
		return nil
	}
	return cs.get(id)
}

// suppressed reports whether sender through entity is suppressed at now.
func (cs *challenges) suppressed(sender string, entity uint64, now int64) bool {
	s, ok := cs.suppress.get(suppressKey(sender, entity))
	return ok && now < s.until
}

// withNew returns cs with the new open challenge c, which the open index
// now names for its key.
func (cs *challenges) withNew(c *record.Challenge) *challenges {
	n := *cs
	n.byID = n.byID.with(c.ID, c)
	n.byToken = n.byToken.with(c.TokenHash, c.ID)
	n.open = n.open.with(openKeyOf(c), c.ID)
	return &n
}

// withChanged returns cs with c replacing the challenge of the same ID; a
// challenge leaving the open state leaves the open index.
func (cs *challenges) withChanged(c *record.Challenge) *challenges {
	n := *cs
	n.byID = n.byID.with(c.ID, c)
	if c.State != record.ChallengeOpen {
		if id, _ := n.open.get(openKeyOf(c)); id == c.ID {
			n.open = n.open.without(openKeyOf(c))
		}
	}
	return &n
}

// withSuppression returns cs with sender through entity suppressed until
// at least until.
func (cs *challenges) withSuppression(sender string, entity uint64, until int64) *challenges {
	k := suppressKey(sender, entity)
	if old, ok := cs.suppress.get(k); ok && old.until >= until {
		return cs
	}
	n := *cs
	n.suppress = n.suppress.with(k, suppression{sender: sender, entity: entity, until: until})
	return &n
}

// window returns how many opens key's window holds at now for windows of
// length seconds, and the window to store after counting one more: a
// fixed one (the version-3 rule, unchanged) or a sliding one.
func (cs *challenges) window(key string, now, length int64, sliding bool) (int, rateWindow) {
	start := now - now%length
	if now < 0 && now%length != 0 {
		start -= length
	}
	old, _ := cs.windows.get(key)
	if sliding {
		return slidingWindow(old, key, start, now, length)
	}
	w := old
	if w.key == "" || w.start != start || w.length != length || w.sliding {
		w = rateWindow{key: key, start: start, length: length}
	}
	seen := w.count
	w.count++
	return seen, w
}

// slidingWindow is window for sliding limits: start is the current fixed
// bucket's. The count is the current bucket's plus the previous bucket's
// weighted by the share of it still within length of now, rounded up (a
// limit errs on refusing).
// old may be a fixed window of the same length (written by a version-3
// open), read as the one bucket it is.
func slidingWindow(old rateWindow, key string, start, now, length int64) (int, rateWindow) {
	cur, prev := old.bucket(start, length), old.bucket(start-length, length)
	seen := cur + int((int64(prev)*(length-(now-start))+length-1)/length)
	return seen, rateWindow{key: key, start: start - length, length: 2 * length, count: cur + 1, prev: prev, sliding: true}
}

// countAt is w as the API shows it at now; ok is false when it counts
// nothing then or its key is not a limit's.
func (w rateWindow) countAt(now int64) (rc record.RateCount, ok bool) {
	rc.Window, rc.Sliding = w.length, w.sliding
	if w.sliding {
		rc.Window = w.length / 2
		start := now - now%rc.Window
		if now < 0 && now%rc.Window != 0 {
			start -= rc.Window
		}
		rc.Count, _ = slidingWindow(w, w.key, start, now, rc.Window)
	} else if w.start <= now && now < w.start+w.length {
		rc.Count = w.count
	}
	kind, rest, _ := strings.Cut(w.key, "\x00")
	switch kind {
	case "s":
		rc.Limit, rc.Sender = command.LimitSender, rest
	case "d":
		rc.Limit, rc.Domain = command.LimitDomain, rest
	case "r":
		domain, entity, _ := strings.Cut(rest, "\x00")
		rc.Limit, rc.Domain = command.LimitDomainRelay, domain
		rc.Entity, _ = strconv.ParseUint(entity, 10, 64)
	case "e":
		rc.Limit = command.LimitRelay
		rc.Entity, _ = strconv.ParseUint(rest, 10, 64)
	default:
		return rc, false
	}
	return rc, rc.Count > 0
}

// bucket returns what w counted in the fixed bucket [start, start+length).
func (w rateWindow) bucket(start, length int64) int {
	switch {
	case w.key == "":
		return 0
	case w.sliding && w.length == 2*length && w.start == start:
		return w.prev
	case w.sliding && w.length == 2*length && w.start+length == start:
		return w.count
	case !w.sliding && w.length == length && w.start == start:
		return w.count
	}
	return 0
}

// refunded returns cs with the confirmed challenge c no longer counted by
// the sliding windows of its limits (sender, domain per relay, domain,
// relay) that still hold the bucket it was opened in: a confirmation shows
// a real sender, and limits exist against challenges nobody wanted, so a
// relay whose newcomers confirm never runs out while forged senders, who
// never confirm, keep counting. Fixed windows (version-3 limits) are left
// as they were, so a version-3 replica decides alike; only version-4 opens
// make sliding windows, and a version-3 replica stops at the first.
func (cs *challenges) refunded(c *record.Challenge) *challenges {
	domain := c.Sender[strings.LastIndexByte(c.Sender, '@')+1:]
	var ws []rateWindow
	for _, key := range []string{senderLimitKey(c.Sender), domainRelayLimitKey(domain, c.Entity), domainLimitKey(domain), entityLimitKey(c.Entity)} {
		w, ok := cs.windows.get(key)
		if !ok || !w.sliding {
			continue
		}
		half := w.length / 2
		switch {
		case c.Created >= w.start+half && c.Created < w.start+w.length && w.count > 0:
			w.count--
		case c.Created >= w.start && c.Created < w.start+half && w.prev > 0:
			w.prev--
		default:
			continue
		}
		ws = append(ws, w)
	}
	return cs.withWindows(ws)
}

// withWindows returns cs with the given windows stored.
func (cs *challenges) withWindows(ws []rateWindow) *challenges {
	if len(ws) == 0 {
		return cs
	}
	n := *cs
	for _, w := range ws {
		n.windows = n.windows.with(w.key, w)
	}
	return &n
}

// challengesSwept counts what one cleanup deleted.
type challengesSwept struct {
	challenges, suppressions, windows int
}

// sweep returns cs without the challenges that expired, and were closed if
// at all, before cutoff, the suppressions that ended before it and the
// rate windows that ended by now (the expire command's Time: an ended
// window never counts again). A zero cutoff keeps everything. Each
// decision looks at one entry alone, so the result does not depend on
// iteration order.
func (cs *challenges) sweep(cutoff, now int64) (*challenges, challengesSwept) {
	var out challengesSwept
	if cutoff <= 0 {
		return cs, out
	}
	n := *cs
	gone := map[string]bool{}
	n.byID, out.challenges = n.byID.deleteWhere(func(id string, c *record.Challenge) bool {
		if c.Expires < cutoff && c.Closed < cutoff {
			gone[id] = true
			return true
		}
		return false
	})
	if len(gone) > 0 {
		n.byToken, _ = n.byToken.deleteWhere(func(_ string, id string) bool { return gone[id] })
		n.open, _ = n.open.deleteWhere(func(_ string, id string) bool { return gone[id] })
	}
	n.suppress, out.suppressions = n.suppress.deleteWhere(func(_ string, s suppression) bool { return s.until < cutoff })
	n.windows, out.windows = n.windows.deleteWhere(func(_ string, w rateWindow) bool { return w.start+w.length <= now })
	return &n, out
}
