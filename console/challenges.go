package console

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/wlns/wlns/record"
)

// challengesShown is how many of the latest challenges the page lists.
const challengesShown = 100

// outcome is one challenge state with its count.
type outcome struct {
	State record.ChallengeState
	Count int
}

// challengeRow is one challenge on the page.
type challengeRow struct {
	*record.Challenge
	Label  string
	Status record.ChallengeState
}

// challengesData fills the challenges page.
type challengesData struct {
	Outcomes []outcome
	Total    int
	Rows     []challengeRow
	Chart    chart
}

// challengeStates are the outcome columns, in the order a challenge
// moves through them.
var challengeStates = []record.ChallengeState{record.ChallengeOpen, record.ChallengeConfirmed, record.ChallengeExpired,
	record.ChallengeForged, record.ChallengeList, record.ChallengeSuperseded}

// challenges shows how the challenges through the session's relays
// ended, and the latest ones.
func (c *Console) challenges(w http.ResponseWriter, r *http.Request, s *session) error {
	v := c.store.Index().Load()
	now := c.cfg.Now().Unix()
	counts := map[record.ChallengeState]int{}
	var d challengesData
	var latest []*record.Challenge
	days := newDayCounts(c.cfg.Now())
	c.store.Challenges(func(ch *record.Challenge) bool {
		if !s.sees(v.Entity(ch.Entity)) {
			return true
		}
		days.add(ch.Created, ch.State == record.ChallengeConfirmed)
		counts[ch.Status(now)]++
		d.Total++
		latest = append(latest, ch)
		if len(latest) >= 8*challengesShown {
			latest = newest(latest)
		}
		return true
	})
	d.Chart = days.chart()
	for _, st := range challengeStates {
		d.Outcomes = append(d.Outcomes, outcome{State: st, Count: counts[st]})
	}
	for _, ch := range newest(latest) {
		label := "deleted relay"
		if e := v.Entity(ch.Entity); e != nil {
			label = e.Label()
		}
		d.Rows = append(d.Rows, challengeRow{Challenge: ch, Label: label, Status: ch.Status(now)})
	}
	c.render(w, http.StatusOK, "challenges", view{Title: "Challenges", Nav: "challenges", S: s, Data: d})
	return nil
}

// newest sorts challenges newest first and keeps challengesShown.
func newest(cs []*record.Challenge) []*record.Challenge {
	slices.SortFunc(cs, func(a, b *record.Challenge) int {
		if c := cmp.Compare(b.Created, a.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return cs[:min(len(cs), challengesShown)]
}
