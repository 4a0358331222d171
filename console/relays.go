package console

import (
	"net/http"
	"strconv"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// relayPage is how many relays and groups one page lists.
const relayPage = 100

// relayRow is one relay or group on the relays page.
type relayRow struct {
	*record.Entity
	Records int
}

// relaysData fills the relays page.
type relaysData struct {
	Rows []relayRow
	Next string
}

// relays lists the session's relays and groups by ID, with their members.
func (c *Console) relays(w http.ResponseWriter, r *http.Request, s *session) error {
	after, err := strconv.ParseUint(r.FormValue("after"), 10, 64)
	if err != nil && r.FormValue("after") != "" {
		return failf(http.StatusBadRequest, "The page link is damaged: go back to the first page.")
	}
	v := c.store.Index().Load()
	var d relaysData
	v.EachEntity(func(e index.EntityRef) bool {
		if e.ID() <= after || !s.seesRef(e) {
			return true
		}
		if len(d.Rows) == relayPage {
			d.Next = strconv.FormatUint(d.Rows[len(d.Rows)-1].ID, 10)
			return false
		}
		d.Rows = append(d.Rows, relayRow{Entity: e.Entity(), Records: v.RecordsOf(e.ID())})
		return true
	})
	c.render(w, http.StatusOK, "relays", view{Title: "Relays and groups", Nav: "relays", S: s, Notice: notice(r), Data: d})
	return nil
}

// visible returns the session's entities, at most limit (0: all); nil
// for an admin, who sees every one.
func visible(v *index.View, s *session, limit int) []*record.Entity {
	var out []*record.Entity
	v.EachEntity(func(e index.EntityRef) bool {
		if s.seesRef(e) {
			out = append(out, e.Entity())
		}
		return limit == 0 || len(out) < limit
	})
	return out
}

// entityParam is the entity a form or query names by ID, when the session
// may see it; anything else is the same "no such relay", so that guessing
// IDs tells nothing about other postmasters' relays.
func entityParam(v *index.View, s *session, val string) (*record.Entity, error) {
	id, err := strconv.ParseUint(val, 10, 64)
	if err != nil {
		return nil, failf(http.StatusBadRequest, "Choose one of your relays.")
	}
	e := v.Entity(id)
	if !s.sees(e) {
		return nil, failf(http.StatusNotFound, "There is no relay %d among yours.", id)
	}
	return e, nil
}
