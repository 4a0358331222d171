package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/wlns/wlns/command"
)

// Spooler is the optional part of Store behind writes without a quorum: a
// store that has it takes registrations and confirmations into a durable
// local spool when no quorum is reachable (raftstore.Store.ApplyOrSpool),
// and the API answers 202 with a SpoolAccepted. Stores without it (test
// fakes) answer 503 as before.
type Spooler interface {
	// ApplyOrSpool applies e, or spools it when no quorum is reachable and
	// its type may be spooled (spooled true).
	ApplyOrSpool(ctx context.Context, e *command.Envelope) (res command.Result, spooled bool, err error)
	// SpoolCounts returns how many spooled writes are pending and failed.
	SpoolCounts() (pending, failed int)
	// EachSpooled calls fn for the pending entries in replay order, then
	// the failed ones, until fn returns false.
	EachSpooled(fn func(failed bool, e *command.Envelope, spooled time.Time, lastErr string, rej *command.Rejection) bool) error
}

// SpoolAccepted is the 202 answer to a write that was spooled.
type SpoolAccepted struct {
	// Spooled is always true.
	Spooled bool `json:"spooled"`
	// RequestID is the write's request ID (the Idempotency-Key, or one
	// the server chose); repeating it never applies the write twice.
	RequestID string `json:"request_id"`
	// Type is the command spooled, e.g. "pair.put".
	Type command.Type `json:"type"`
	// Pending is how many spooled writes this node holds now.
	Pending int `json:"pending"`
	// Spool is where to follow them: GET /v1/spool.
	Spool string `json:"spool"`
	// Message says what happens next.
	Message string `json:"message"`
}

// SpoolEntry is one write in GET /v1/spool.
type SpoolEntry struct {
	// Type is the command, e.g. "pair.put".
	Type command.Type `json:"type"`
	// RequestID is its request ID.
	RequestID string `json:"request_id"`
	// Time is the write's command time (Unix seconds): the time it was
	// accepted, which it keeps when committed later.
	Time int64 `json:"time"`
	// Spooled is when this node spooled it.
	Spooled time.Time `json:"spooled"`
	// Summary says what the write is about.
	Summary string `json:"summary"`
	// Error is the last reason it is not committed yet (pending), or why
	// the cluster rejected it (failed).
	Error string `json:"error,omitempty"`
	// Code is the rejection code of a failed entry.
	Code command.Code `json:"code,omitempty"`
}

// SpoolList is the answer of GET /v1/spool.
type SpoolList struct {
	// Pending writes wait for a quorum, in the order they will commit (the
	// first ?limit of them).
	Pending []SpoolEntry `json:"pending"`
	// Failed writes were rejected by the cluster when replayed (oldest
	// first, the last 1000 kept; the first ?limit of them).
	Failed []SpoolEntry `json:"failed"`
	// PendingTotal and FailedTotal count all of them.
	PendingTotal int `json:"pending_total"`
	FailedTotal  int `json:"failed_total"`
}

// spooledError carries a spooled write from propose to the 202 answer:
// handlers return it like any error and never read the index for a write
// that is not there yet.
type spooledError struct{ SpoolAccepted }

func (e *spooledError) Error() string {
	return fmt.Sprintf("%s spooled as %s", e.Type, e.RequestID)
}

// applyOrSpool applies env through the spool when the store has one.
func (a *API) applyOrSpool(ctx context.Context, env *command.Envelope) (command.Result, error) {
	sp, ok := a.store.(Spooler)
	if !ok {
		return a.apply(ctx, env)
	}
	res, spooled, err := sp.ApplyOrSpool(ctx, env)
	switch {
	case spooled:
		pending, _ := sp.SpoolCounts()
		return res, &spooledError{SpoolAccepted{Spooled: true, RequestID: env.ReqID, Type: env.Type, Pending: pending,
			Spool: "/v1/spool", Message: "no quorum reachable: the write is stored on this node and commits when the cluster is back"}}
	case err != nil:
		return res, unavailable(err)
	}
	if rj := rejection(res); rj != nil {
		return res, rj
	}
	return res, nil
}

// writeSpooled answers 202 when err is a spooled write.
func writeSpooled(w http.ResponseWriter, err error) bool {
	var sp *spooledError
	if !errors.As(err, &sp) {
		return false
	}
	w.Header().Set("Location", sp.Spool)
	writeJSON(w, http.StatusAccepted, sp.SpoolAccepted)
	return true
}

// listSpool serves GET /v1/spool[?limit=N] (default and most: MaxLimit
// entries of each list).
func (a *API) listSpool(w http.ResponseWriter, r *http.Request, _ *caller) error {
	limit := MaxLimit
	if q := r.URL.Query().Get("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > MaxLimit {
			return errorf(http.StatusBadRequest, "limit %q: want 1 to %d", q, MaxLimit)
		}
		limit = n
	}
	out := SpoolList{Pending: []SpoolEntry{}, Failed: []SpoolEntry{}}
	if sp, ok := a.store.(Spooler); ok {
		err := sp.EachSpooled(func(failed bool, e *command.Envelope, spooled time.Time, lastErr string, rej *command.Rejection) bool {
			list, total := &out.Pending, &out.PendingTotal
			if failed {
				list, total = &out.Failed, &out.FailedTotal
			}
			if *total++; len(*list) >= limit {
				return true
			}
			en := SpoolEntry{Type: e.Type, RequestID: e.ReqID, Time: e.Time, Spooled: spooled, Summary: command.Summary(e), Error: lastErr}
			if rej != nil {
				en.Error, en.Code = rej.Message, rej.Code
			}
			*list = append(*list, en)
			return true
		})
		if err != nil {
			return errorf(http.StatusInternalServerError, "reading the write spool: %v", err)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// SpoolCounts is the spool part of GET /v1/status.
type SpoolCounts struct {
	// Pending writes wait for a quorum on this node.
	Pending int `json:"pending"`
	// Failed writes were rejected when replayed (see GET /v1/spool).
	Failed int `json:"failed"`
}

// spoolCounts returns the store's spool counts, nil without a spool.
func (a *API) spoolCounts() *SpoolCounts {
	sp, ok := a.store.(Spooler)
	if !ok {
		return nil
	}
	p, f := sp.SpoolCounts()
	return &SpoolCounts{Pending: p, Failed: f}
}
