package admin

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
)

// fakeCluster is a membership list in memory.
type fakeCluster struct{ members []ClusterMember }

func (f *fakeCluster) Members(context.Context) ([]ClusterMember, error) { return f.members, nil }

func (f *fakeCluster) RemoveMember(_ context.Context, id string) error {
	for i, m := range f.members {
		if m.ID == id {
			f.members = append(f.members[:i], f.members[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrNoSuchMember, id)
}

// withCluster rebuilds e's API with a cluster.
func (e *testEnv) withCluster(c Cluster) {
	e.t.Helper()
	api, err := New(Config{NodeID: "node1", Cluster: c, Leader: func() (string, string) { return "node1", "127.0.0.1:1" },
		Logger: slog.New(slog.DiscardHandler)}, e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	e.api = api
}

func TestCluster_StatusAndRemove(t *testing.T) {
	e := newTestEnv(t)
	c := &fakeCluster{members: []ClusterMember{
		{ID: "node1", Address: "127.0.0.1:1", Voter: true, Leader: true, Self: true, Reachable: true, AppliedIndex: 10},
		{ID: "node2", Address: "127.0.0.1:2", Voter: true, Reachable: true, AppliedIndex: 8, Lag: 2},
	}}
	e.withCluster(c)
	var st ClusterStatus
	e.must(http.StatusOK, "GET", "/v1/cluster", readSecret, "").json(t, &st)
	if st.LeaderID != "node1" || len(st.Members) != 2 || st.Members[1].Lag != 2 {
		t.Fatalf("cluster status %+v", st)
	}
	e.must(http.StatusForbidden, "DELETE", "/v1/cluster/members/node2", postmasterSecret, "")
	e.must(http.StatusNoContent, "DELETE", "/v1/cluster/members/node2", adminSecret, "")
	e.must(http.StatusNotFound, "DELETE", "/v1/cluster/members/node2", adminSecret, "")
	if len(c.members) != 1 {
		t.Fatalf("members after removal: %+v", c.members)
	}
}

func TestCluster_WithoutClusterIs404(t *testing.T) {
	e := newTestEnv(t)
	e.must(http.StatusNotFound, "GET", "/v1/cluster", readSecret, "")
}
