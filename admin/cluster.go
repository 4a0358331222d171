package admin

import (
	"context"
	"errors"
	"net/http"
)

// Cluster is what the API needs to show and change cluster membership.
type Cluster interface {
	// Members lists the members with each one's state as far as this node
	// can learn it.
	Members(ctx context.Context) ([]ClusterMember, error)
	// RemoveMember removes a member (on the leader, or forwarded to it).
	// An unknown ID is an error wrapping ErrNoSuchMember.
	RemoveMember(ctx context.Context, id string) error
}

// ErrNoSuchMember is wrapped by Cluster.RemoveMember for an unknown node ID.
var ErrNoSuchMember = errors.New("no such cluster member")

// ClusterMember is one node in GET /v1/cluster.
type ClusterMember struct {
	// ID and Address are the node's Raft ID and inter-node address.
	ID      string `json:"id"`
	Address string `json:"address"`
	// Voter is false for a non-voting mirror.
	Voter bool `json:"voter"`
	// Leader marks the current leader; Self the node that answered.
	Leader bool `json:"leader"`
	Self   bool `json:"self"`
	// Reachable is false when the member did not answer; Error says why.
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	// State is the member's Raft state.
	State string `json:"state,omitempty"`
	// AppliedIndex is the last log index the member applied; Lag how far
	// that is behind the leader's commit index.
	AppliedIndex uint64 `json:"applied_index"`
	Lag          uint64 `json:"lag"`
	// LastContactSeconds is the time since the member heard from the
	// leader (0 on the leader, -1 never).
	LastContactSeconds float64 `json:"last_contact_seconds"`
}

// ClusterStatus is the answer of GET /v1/cluster.
type ClusterStatus struct {
	// NodeID is the node that answered.
	NodeID string `json:"node_id"`
	// LeaderID is the leader it knows, if any.
	LeaderID string `json:"leader_id,omitempty"`
	// Members are the nodes of the latest Raft configuration.
	Members []ClusterMember `json:"members"`
}

func (a *API) clusterStatus(w http.ResponseWriter, r *http.Request, _ *caller) error {
	if a.cfg.Cluster == nil {
		return errorf(http.StatusNotFound, "this node has no cluster information")
	}
	ms, err := a.cfg.Cluster.Members(r.Context())
	if err != nil {
		return errorf(http.StatusServiceUnavailable, "reading cluster members: %v", err)
	}
	st := ClusterStatus{NodeID: a.cfg.NodeID, Members: ms}
	if a.cfg.Leader != nil {
		st.LeaderID, _ = a.cfg.Leader()
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request, _ *caller) error {
	if a.cfg.Cluster == nil {
		return errorf(http.StatusNotFound, "this node has no cluster information")
	}
	id := r.PathValue("id")
	err := a.cfg.Cluster.RemoveMember(r.Context(), id)
	switch {
	case errors.Is(err, ErrNoSuchMember):
		return errorf(http.StatusNotFound, "%v", err)
	case err != nil:
		return errorf(http.StatusServiceUnavailable, "removing member %s: %v", id, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
