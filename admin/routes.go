package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// access is what a route requires of its caller.
type access int

const (
	// public routes need no token.
	public access = iota
	// readAccess needs any valid token.
	readAccess
	// writeAccess needs an admin or postmaster token; handlers check a
	// postmaster's prefixes.
	writeAccess
	// adminAccess needs an admin token.
	adminAccess
	// challengeAccess needs an admin or mta token.
	challengeAccess
)

// handler is an API handler: it writes a success response itself and
// returns an error for everything else.
type handler func(w http.ResponseWriter, r *http.Request, c *caller) error

func (a *API) routes() {
	a.handle("GET /healthz", public, a.healthz)
	a.handle("GET /readyz", public, a.readyz)
	a.handleHTTP("GET /metrics", a.metricsHandler())
	a.handle("GET /v1/status", readAccess, a.status)
	a.handle("GET /v1/cluster", readAccess, a.clusterStatus)
	a.handle("DELETE /v1/cluster/members/{id}", adminAccess, a.removeMember)

	a.handle("POST /v1/pairs", writeAccess, a.putPair)
	a.handle("GET /v1/pairs", readAccess, a.listPairs)
	a.handle("DELETE /v1/pairs", writeAccess, a.deletePair)

	a.handle("POST /v1/verp", writeAccess, a.putVerp)
	a.handle("GET /v1/verp", readAccess, a.listVerps)
	a.handle("DELETE /v1/verp", writeAccess, a.deleteVerp)

	a.handle("POST /v1/relays", writeAccess, a.createRelay)
	a.handle("GET /v1/relays", readAccess, a.listRelays)
	a.handle("GET /v1/relays/{id}", readAccess, a.getRelay)
	a.handle("PUT /v1/relays/{id}", writeAccess, a.updateRelay)
	a.handle("DELETE /v1/relays/{id}", writeAccess, a.deleteRelay)

	a.handle("POST /v1/groups", writeAccess, a.createGroup)
	a.handle("GET /v1/groups", readAccess, a.listGroups)
	a.handle("GET /v1/groups/{id}", readAccess, a.getGroup)
	a.handle("PUT /v1/groups/{id}", writeAccess, a.updateGroup)
	a.handle("DELETE /v1/groups/{id}", writeAccess, a.deleteGroup)
	a.handle("POST /v1/groups/{id}/members", writeAccess, a.addMembers)
	a.handle("DELETE /v1/groups/{id}/members", writeAccess, a.removeMembers)

	a.handle("GET /v1/suggestions", writeAccess, a.listSuggestions)
	a.handle("POST /v1/suggestions/{id}/accept", writeAccess, a.acceptSuggestion)
	a.handle("POST /v1/suggestions/{id}/dismiss", writeAccess, a.dismissSuggestion)

	a.handle("GET /v1/expiring", readAccess, a.listExpiring)
	a.handle("GET /v1/spool", readAccess, a.listSpool)

	a.handleStream("POST /v1/import", writeAccess, a.importNDJSON)
	a.handleStream("GET /v1/backup", adminAccess, a.backup)
	a.handleStream("POST /v1/restore", adminAccess, a.restore)

	a.handle("POST /v1/challenges", challengeAccess, a.requestChallenge)
	a.handle("GET /v1/challenges", readAccess, a.listChallenges)
	a.handle("GET /v1/challenges/limits", readAccess, a.listRateCounts)
	a.handle("GET /v1/challenges/{id}", readAccess, a.getChallenge)

	a.handle("POST /v1/zone-records", adminAccess, a.putZoneRecord)
	a.handle("GET /v1/zone-records", readAccess, a.listZoneRecords)
	a.handle("DELETE /v1/zone-records", adminAccess, a.deleteZoneRecords)

	a.handle("POST /v1/delegations", writeAccess, a.putDelegation)
	a.handle("GET /v1/delegations", readAccess, a.listDelegations)
	a.handle("DELETE /v1/delegations", writeAccess, a.deleteDelegation)
	a.handle("GET /v1/delegations/zone", readAccess, a.exportDelegation)

	a.handle("POST /v1/tokens", adminAccess, a.createToken)
	a.handle("GET /v1/tokens", adminAccess, a.listTokens)
	a.handle("DELETE /v1/tokens/{name}", adminAccess, a.deleteToken)
}

// handle registers h for pattern with a bounded request time.
func (a *API) handle(pattern string, acc access, h handler) {
	a.mux.Handle(pattern, a.instrument(pattern, a.bounded(a.guard(acc, a.readMode(pattern, h)))))
}

// handleStream registers h without the request time bound, for streams:
// the handler extends the connection deadlines as it goes.
func (a *API) handleStream(pattern string, acc access, h handler) {
	a.mux.Handle(pattern, a.instrument(pattern, unbounded(a.guard(acc, h))))
}

func (a *API) handleHTTP(pattern string, h http.Handler) {
	a.mux.Handle(pattern, a.instrument(pattern, a.bounded(h)))
}

// unbounded clears connection deadlines an earlier request on the same
// keep-alive connection may have left (the server resets only those it sets).
func unbounded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{}) // not supported by test recorders
		_ = rc.SetWriteDeadline(time.Time{})
		next.ServeHTTP(w, r)
	})
}

// bounded sets the connection deadlines and the context timeout of a request.
func (a *API) bounded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline := time.Now().Add(a.cfg.Timeout)
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(deadline) // not supported by test recorders
		_ = rc.SetWriteDeadline(deadline.Add(min(5*time.Second, a.cfg.Timeout)))
		ctx, cancel := context.WithDeadline(r.Context(), deadline)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// guard authenticates the caller, checks the route's access and turns the
// handler's error into a JSON error response.
func (a *API) guard(acc access, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := a.authorize(r, acc)
		if err == nil {
			err = h(w, r, c)
		}
		if err != nil {
			a.fail(w, r, err)
		}
	})
}

// fail writes err as a JSON error and logs server-side failures.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	if writeSpooled(w, err) {
		return
	}
	status, msg := statusOf(err)
	if status >= 500 {
		a.cfg.Logger.Error("admin request failed", "method", r.Method, "path", r.URL.Path,
			"status", status, "err", err)
	}
	writeError(w, status, msg)
}

// dispatch routes a request. ServeMux answers unknown paths and methods in
// plain text; dispatch answers them in the API's JSON shape.
func (a *API) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r) // sets the path values Handler does not
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(a.cfg.Timeout))
	probe := &statusProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	status := probe.status
	if status == 0 {
		status = http.StatusNotFound
	}
	msg := "no such endpoint: " + r.URL.Path
	if status == http.StatusMethodNotAllowed {
		msg = "method " + r.Method + " not allowed on " + r.URL.Path
	}
	a.metrics.observe("unmatched", strconv.Itoa(status), 0)
	writeError(w, status, msg)
}

// statusProbe records the status and headers of the mux's own 404/405 answer.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(status int)      { p.status = status }
