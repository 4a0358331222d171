package admin

import (
	"context"
	"net/http"
	"strings"
)

// ConsistentReader is the optional part of Store behind leader-consistent
// reads (raftstore.Store.ConsistentRead): it returns once this node's index
// holds every write the leader had acknowledged.
type ConsistentReader interface {
	ConsistentRead(ctx context.Context) error
}

// Read consistency levels, from ?consistent= or the X-Wlns-Consistency
// header. Local is the default: reads are served from this node's copy.
const (
	consistencyHeader = "X-Wlns-Consistency"
	consistentLocal   = "local"
	consistentLeader  = "leader"
)

// readMode wraps the handler of a GET route: with consistent=leader it
// first waits until this node has caught up with the leader (503 when no
// leader is reachable), then reads locally as usual.
func (a *API) readMode(pattern string, h handler) handler {
	if !strings.HasPrefix(pattern, "GET ") {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		mode := r.URL.Query().Get("consistent")
		if mode == "" {
			mode = r.Header.Get(consistencyHeader)
		}
		switch strings.ToLower(mode) {
		case "", consistentLocal:
			return h(w, r, c)
		case consistentLeader:
		default:
			return errorf(http.StatusBadRequest, "consistency %q: want %q or %q", mode, consistentLocal, consistentLeader)
		}
		cr, ok := a.store.(ConsistentReader)
		if !ok {
			return errorf(http.StatusNotImplemented, "this node cannot serve leader-consistent reads")
		}
		if err := cr.ConsistentRead(r.Context()); err != nil {
			return errorf(http.StatusServiceUnavailable, "cannot read consistently with the leader now: %v", err)
		}
		w.Header().Set(consistencyHeader, consistentLeader)
		return h(w, r, c)
	}
}
