package console

import (
	"fmt"
	"net/http"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// activityData fills the activity page.
type activityData struct {
	Answers, Challenges chart
	// Nodes is how many members were asked; Missing are those that gave
	// no counts.
	Nodes   int
	Missing []nodeStats
}

// activity draws the DNS answers and the challenges per day through the
// session's relays and groups over chartDays: answers summed over every
// member that answered (each counts its own), challenges from the
// replicated store.
func (c *Console) activity(w http.ResponseWriter, r *http.Request, s *session) error {
	v := c.store.Index().Load()
	now := c.cfg.Now()
	req := statsRequest{Day: now.Unix() / 86400, All: s.Admin()}
	if !req.All {
		v.EachEntity(func(e index.EntityRef) bool {
			if s.seesRef(e) {
				req.Entities = append(req.Entities, e.ID())
			}
			return true
		})
	}
	var d activityData
	if req.All || len(req.Entities) > 0 {
		nodes := c.gather(r.Context(), req)
		d.Nodes = len(nodes)
		for _, n := range nodes {
			if n.Err != "" || n.Answers == nil {
				d.Missing = append(d.Missing, n)
			}
		}
		answers, counted := answersPerDay(nodes)
		d.Answers = layoutBars(req.Day, [chartDays]int{}, answers)
		d.Answers.Summary = fmt.Sprintf("%d DNS queries answered through your relays and groups in the last %d days, counted by %d of %d nodes; at most %d on one day.",
			sum(answers), chartDays, counted, len(nodes), maxOf(answers))
	}
	days := newDayCounts(now)
	c.store.Challenges(func(ch *record.Challenge) bool {
		if s.seesRef(v.EntityRef(ch.Entity)) {
			days.add(ch.Created, ch.State == record.ChallengeConfirmed)
		}
		return true
	})
	d.Challenges = days.chart()
	c.render(w, http.StatusOK, "activity", view{Title: "Activity", Nav: "activity", S: s, Data: d})
	return nil
}

func sum(days [chartDays]int) int {
	n := 0
	for _, v := range days {
		n += v
	}
	return n
}

func maxOf(days [chartDays]int) int {
	n := 0
	for _, v := range days {
		n = max(n, v)
	}
	return n
}
