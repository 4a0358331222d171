package admin

import (
	"net/http"

	"github.com/wlns/wlns/index"
)

// Status is the answer of GET /v1/status.
type Status struct {
	// NodeID is this node's Raft ID.
	NodeID string `json:"node_id"`
	// Leader is true when this node is the Raft leader.
	Leader bool `json:"leader"`
	// LeaderID is the leader's Raft ID, when known.
	LeaderID string `json:"leader_id,omitempty"`
	// LeaderAddr is the leader's Raft address, when known.
	LeaderAddr string `json:"leader_addr,omitempty"`
	// Ready is what /readyz says.
	Ready bool `json:"ready"`
	// NotReady says why the node is not ready.
	NotReady string `json:"not_ready,omitempty"`
	// Serial is the Raft index of the last command applied to the index.
	Serial uint64 `json:"serial"`
	// Counts are the records by kind.
	Counts index.Counts `json:"counts"`
	// Spool counts the writes this node took without a quorum (absent
	// when the store has no spool).
	Spool *SpoolCounts `json:"spool,omitempty"`
}

// healthz answers 200 while the process serves HTTP (liveness); the body
// also says why the node is not ready, if it is not (a stale mirror that
// withdrew its DNS is alive and must not be restarted for it).
func (a *API) healthz(w http.ResponseWriter, r *http.Request, _ *caller) error {
	body := map[string]string{"status": "ok"}
	if err := a.ready(r); err != nil {
		body["not_ready"] = err.Error()
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request, _ *caller) error {
	if err := a.ready(r); err != nil {
		return errorf(http.StatusServiceUnavailable, "not ready: %v", err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (a *API) ready(r *http.Request) error {
	if a.cfg.Ready == nil {
		return nil
	}
	return a.cfg.Ready(r.Context())
}

func (a *API) status(w http.ResponseWriter, r *http.Request, _ *caller) error {
	v := a.store.Index().Load()
	s := Status{NodeID: a.cfg.NodeID, Leader: a.store.IsLeader(), Serial: v.Serial(), Counts: v.Counts(), Ready: true, Spool: a.spoolCounts()}
	if a.cfg.Leader != nil {
		s.LeaderID, s.LeaderAddr = a.cfg.Leader()
	}
	if err := a.ready(r); err != nil {
		s.Ready, s.NotReady = false, err.Error()
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}
