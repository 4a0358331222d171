package admin

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/wlns/wlns/record"
)

// rateCounter is the rate-limit read side of the store
// (raftstore.Store); a store without it answers 404.
type rateCounter interface {
	RateCounts(now int64, fn func(record.RateCount) bool)
}

// RateCountList is the answer of GET /v1/challenges/limits.
type RateCountList struct {
	// Limits are the busiest first (by count, then limit, domain, sender,
	// entity), at most ?limit of them.
	Limits []record.RateCount `json:"limits"`
}

// rateLimitNames are the values of ?kind.
var rateLimitNames = []string{"sender", "domain_relay", "domain", "relay"}

// listRateCounts answers GET /v1/challenges/limits: what each challenge
// rate limit counts now, so an operator sees which one refuses (a count at
// the configured limit) and for whom. ?kind= keeps one limit, ?min= the
// counts of at least min, ?limit= the number shown.
func (a *API) listRateCounts(w http.ResponseWriter, r *http.Request, _ *caller) error {
	rc, ok := a.store.(rateCounter)
	if !ok {
		return errorf(http.StatusNotFound, "this node's store keeps no rate limits")
	}
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind != "" && !slices.Contains(rateLimitNames, kind) {
		return errorf(http.StatusBadRequest, "invalid kind %q: want %s", kind, strings.Join(rateLimitNames, ", "))
	}
	minCount, err := intParam(q.Get("min"), 1, 1, 1<<30)
	if err != nil {
		return errorf(http.StatusBadRequest, "invalid min %q: want a positive count", q.Get("min"))
	}
	limit, err := intParam(q.Get("limit"), DefaultLimit, 1, MaxLimit)
	if err != nil {
		return errorf(http.StatusBadRequest, "invalid limit %q: want 1 to %d", q.Get("limit"), MaxLimit)
	}
	list := RateCountList{Limits: []record.RateCount{}}
	rc.RateCounts(a.cfg.Now().Unix(), func(c record.RateCount) bool {
		if (kind == "" || c.Limit == kind) && c.Count >= minCount {
			list.Limits = append(list.Limits, c)
		}
		return true
	})
	slices.SortFunc(list.Limits, func(x, y record.RateCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), strings.Compare(x.Limit, y.Limit), strings.Compare(x.Domain, y.Domain),
			strings.Compare(x.Sender, y.Sender), cmp.Compare(x.Entity, y.Entity))
	})
	list.Limits = list.Limits[:min(len(list.Limits), limit)]
	writeJSON(w, http.StatusOK, list)
	return nil
}

// intParam parses an optional integer parameter within [lo, hi].
func intParam(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, "out of range")
	}
	return n, nil
}
