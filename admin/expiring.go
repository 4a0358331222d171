package admin

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/wlns/wlns/expiry"
)

// MaxExpiringDays bounds ?days= of GET /v1/expiring.
const MaxExpiringDays = 36500

// ExpiringList is the answer of GET /v1/expiring.
type ExpiringList struct {
	// Items are sorted by entity, then kind, then key.
	Items []expiry.Item `json:"items"`
	// Next is the cursor for the following page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// listExpiring answers GET /v1/expiring?days=N[&kind=][&ip=|entity=|prefix=]:
// the records an expiry sweep would delete within N days if nobody queries
// (or pins) them first.
func (a *API) listExpiring(w http.ResponseWriter, r *http.Request, _ *caller) error {
	if a.cfg.Expiring == nil {
		return errorf(http.StatusNotFound, "expiry is not configured on this node")
	}
	q := r.URL.Query()
	days, err := strconv.Atoi(q.Get("days"))
	if err != nil || days < 0 || days > MaxExpiringDays {
		return errorf(http.StatusBadRequest, "invalid days %q: want 0 to %d", q.Get("days"), MaxExpiringDays)
	}
	kind := q.Get("kind")
	if kind != "" && !slices.Contains(expiry.Kinds, kind) {
		return errorf(http.StatusBadRequest, "invalid kind %q: want one of %v", kind, expiry.Kinds)
	}
	v := a.store.Index().Load()
	f, err := parseFilter(v, q)
	if err != nil {
		return err
	}
	pg := newPage(f.limit, f.after, func(it expiry.Item) key { return key{it.Entity, it.Kind + "/" + it.Key} })
	if !f.empty {
		until := a.cfg.Now().Add(time.Duration(days) * 24 * time.Hour)
		a.cfg.Expiring(v, until, kind, func(it expiry.Item) bool {
			if f.entityOK(it.Entity) {
				pg.offer(it)
			}
			return true
		})
	}
	items, next := pg.result()
	writeJSON(w, http.StatusOK, ExpiringList{Items: nonNil(items), Next: next})
	return nil
}
