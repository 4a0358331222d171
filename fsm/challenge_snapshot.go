package fsm

import (
	"cmp"
	"errors"
	"slices"
	"strings"

	"github.com/wlns/wlns/record"
)

// Snapshot records of the verification state (format version 2; sliding
// windows since format 3). They follow the tokens: challenges by ID,
// suppressions by (sender, entity), rate windows by key, a fixed window as
// tagRateWindow, a sliding one as tagSlidingWindow.
const (
	tagChallenge byte = iota + tagDedup + 1
	tagSuppression
	tagRateWindow
	tagSlidingWindow
)

// challengeOpenIndexed flags a challenge the open index names for its key.
const challengeOpenIndexed = 1

// sortedChallenges returns the state's records in snapshot order.
func (cs *challenges) sorted() ([]*record.Challenge, []suppression, []rateWindow) {
	chs := make([]*record.Challenge, 0, cs.byID.len())
	cs.byID.each(func(_ string, c *record.Challenge) bool { chs = append(chs, c); return true })
	slices.SortFunc(chs, func(a, b *record.Challenge) int { return strings.Compare(a.ID, b.ID) })
	sups := make([]suppression, 0, cs.suppress.len())
	cs.suppress.each(func(_ string, s suppression) bool { sups = append(sups, s); return true })
	slices.SortFunc(sups, func(a, b suppression) int {
		return cmp.Or(strings.Compare(a.sender, b.sender), cmp.Compare(a.entity, b.entity))
	})
	wins := make([]rateWindow, 0, cs.windows.len())
	cs.windows.each(func(_ string, w rateWindow) bool { wins = append(wins, w); return true })
	slices.SortFunc(wins, func(a, b rateWindow) int { return strings.Compare(a.key, b.key) })
	return chs, sups, wins
}

// challengeRecords writes the verification state.
func (sw *snapWriter) challengeRecords(cs *challenges, chs []*record.Challenge, sups []suppression, wins []rateWindow) {
	e := &sw.e
	for _, c := range chs {
		var flags byte
		if id, _ := cs.open.get(openKeyOf(c)); id == c.ID {
			flags |= challengeOpenIndexed
		}
		e.byte(flags)
		for _, s := range []string{c.ID, string(c.Kind), c.Sender, c.Domain} {
			e.str(s)
		}
		e.uvarint(c.Entity)
		for _, s := range []string{c.IP, c.TokenHash, string(c.State)} {
			e.str(s)
		}
		for _, t := range []int64{c.Created, c.Expires, c.Sent, c.Closed} {
			e.varint(t)
		}
		for _, s := range []string{c.SendError, c.Method, c.By, c.ClosedBy} {
			e.str(s)
		}
		sw.record(tagChallenge)
	}
	for _, s := range sups {
		e.str(s.sender)
		e.uvarint(s.entity)
		e.varint(s.until)
		sw.record(tagSuppression)
	}
	for _, w := range wins {
		e.str(w.key)
		e.varint(w.start)
		e.varint(w.length)
		e.uvarint(uint64(w.count))
		if !w.sliding {
			sw.record(tagRateWindow)
			continue
		}
		e.uvarint(uint64(w.prev))
		sw.record(tagSlidingWindow)
	}
}

// restoreChallenge decodes one challenge into the state being built.
func (rs *restored) restoreChallenge(d *dec, intern map[string]string) error {
	flags := d.byte()
	c := &record.Challenge{ID: d.str(), Kind: record.ChallengeKind(internStr(intern, d.str())), Sender: d.str(), Domain: d.str()}
	c.Entity = d.uvarint()
	c.IP, c.TokenHash, c.State = d.str(), d.str(), record.ChallengeState(internStr(intern, d.str()))
	c.Created, c.Expires, c.Sent, c.Closed = d.varint(), d.varint(), d.varint(), d.varint()
	c.SendError, c.Method, c.By, c.ClosedBy = d.str(), internStr(intern, d.str()), internStr(intern, d.str()), internStr(intern, d.str())
	if err := d.end(); err != nil {
		return err
	}
	cs := rs.st.ch
	if _, dup := cs.byID.get(c.ID); dup {
		return errors.New("challenge ID twice")
	}
	if _, dup := cs.byToken.get(c.TokenHash); dup {
		return errors.New("challenge token hash twice")
	}
	cs.byID.set(c.ID, c)
	cs.byToken.set(c.TokenHash, c.ID)
	if flags&challengeOpenIndexed != 0 {
		cs.open.set(openKeyOf(c), c.ID)
	}
	rs.n.challenges++
	return nil
}

// restoreSuppression decodes one suppression.
func (rs *restored) restoreSuppression(d *dec) error {
	s := suppression{sender: d.str(), entity: d.uvarint(), until: d.varint()}
	if err := d.end(); err != nil {
		return err
	}
	rs.st.ch.suppress.set(suppressKey(s.sender, s.entity), s)
	rs.n.suppressions++
	return nil
}

// restoreRateWindow decodes one rate window, fixed or sliding.
func (rs *restored) restoreRateWindow(d *dec, sliding bool) error {
	w := rateWindow{key: d.str(), start: d.varint(), length: d.varint(), count: int(d.uvarint()), sliding: sliding}
	if sliding {
		w.prev = int(d.uvarint())
	}
	if err := d.end(); err != nil {
		return err
	}
	if w.length <= 0 || sliding && w.length%2 != 0 {
		return errors.New("rate window without a length")
	}
	rs.st.ch.windows.set(w.key, w)
	rs.n.windows++
	return nil
}

// restoreChallengeState decodes one record of the verification state.
func (rs *restored) restoreChallengeState(tag byte, d *dec, intern map[string]string) error {
	switch tag {
	case tagChallenge:
		return rs.restoreChallenge(d, intern)
	case tagSuppression:
		return rs.restoreSuppression(d)
	default:
		return rs.restoreRateWindow(d, tag == tagSlidingWindow)
	}
}
