package console

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/activity"
	"github.com/wlns/wlns/admin"
)

// threeNodes is a cluster view of this node (n1) and two members: n2
// answers with its counts and query rate, n3 does not answer.
type threeNodes struct{}

func (threeNodes) Members(context.Context) ([]admin.ClusterMember, error) {
	return []admin.ClusterMember{{ID: "n1", Address: "10.0.0.1:7000", Self: true, Leader: true},
		{ID: "n2", Address: "10.0.0.2:7000"}, {ID: "n3", Address: "10.0.0.3:7000"}}, nil
}
func (threeNodes) RemoveMember(context.Context, string) error { return nil }

// fakePeers answers for n2 and records what each request asked.
type fakePeers struct {
	mu     sync.Mutex
	asked  []statsRequest
	answer statsAnswer
}

func (p *fakePeers) Stats(_ context.Context, addr string, raw json.RawMessage) (json.RawMessage, error) {
	var req statsRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.asked = append(p.asked, req)
	p.mu.Unlock()
	if addr != "10.0.0.2:7000" {
		return nil, errors.New("dial tcp 10.0.0.3:7000: connection refused")
	}
	return json.Marshal(p.answer)
}

// clusterRig is newRig with the console built over a three-node view:
// this node counted 3 answers through relay A (entity 1) and 2 through
// group B today, n2 says 5 today and 4 yesterday.
func clusterRig(t *testing.T) (*rig, *fakePeers) {
	r := newRig(t)
	now := r.clock()
	ctr := activity.New(now, 16)
	for _, id := range []uint64{1, 1, 1, 2, 2} {
		ctr.Count(id)
	}
	answers := make([]uint64, activity.Days)
	answers[activity.Days-1], answers[activity.Days-2] = 5, 4
	at := now.Truncate(time.Minute)
	peers := &fakePeers{answer: statsAnswer{NodeID: "n2", Answers: answers,
		QPS: []qpsPoint{{At: at.Add(-time.Minute), ByZone: map[string]float64{"relay": 12}}, {At: at, ByZone: map[string]float64{"relay": 20, "sender": 3}}}}}
	reg := prometheus.NewRegistry()
	c, err := New(Config{NodeID: "n1", Cluster: threeNodes{}, Peers: peers, Answers: ctr, Gatherer: reg,
		Logger: slog.New(slog.DiscardHandler), Now: r.clock}, r.st)
	if err != nil {
		t.Fatal(err)
	}
	r.c = c
	return r, peers
}

func TestActivity_AnswersSummedOverTheClusterForTheSessionsEntities(t *testing.T) {
	r, peers := clusterRig(t)
	pm, _ := r.postmaster("pm-a", "192.0.2.0/24")
	page := r.do("GET", "/console/activity", pm, nil).Body.String()
	for _, want := range []string{
		"12 DNS queries answered through your relays and groups in the last 30 days, counted by 2 of 3 nodes; at most 8 on one day.",
		"No counts from node n3: dial tcp 10.0.0.3:7000: connection refused",
		`<rect class="answers"`, "Challenges per day", `aria-current="page">Activity</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the postmaster's activity page lacks %q:\n%s", want, page)
		}
	}
	for _, req := range peers.asked {
		if req.All || !slices.Equal(req.Entities, []uint64{1}) || req.Day != r.clock().Unix()/86400 {
			t.Errorf("a peer was asked %+v, want relay A's entity 1 only, for today", req)
		}
	}

	admin, _ := r.signIn(adminSecret)
	page = r.do("GET", "/console/activity", admin, nil).Body.String()
	if !strings.Contains(page, "14 DNS queries answered") || !strings.Contains(page, "4 answered</title>") {
		t.Errorf("the admin's activity page should sum every entity (3+2 here, 4+5 on n2):\n%s", page)
	}
}

func TestCluster_EveryMembersQueryRate(t *testing.T) {
	r, _ := clusterRig(t)
	admin, _ := r.signIn(adminSecret)
	page := r.do("GET", "/console/cluster", admin, nil).Body.String()
	for _, want := range []string{
		`<h3 id="qps-0">n1 (this node)</h3>`, "The query rate is sampled once a minute",
		`<h3 id="qps-1">n2</h3>`, "DNS queries per second on n2 from", "relay 20.0, sender 3.0",
		`<h3 id="qps-2">n3</h3>`, "No answer from n3: dial tcp 10.0.0.3:7000: connection refused",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the cluster page lacks %q:\n%s", want, page)
		}
	}
}

// A peer's statistics request naming more entity IDs than a session can
// ask for is refused before any counting (a member could otherwise hold
// the counter's lock for seconds with 32 MB of IDs); one within the bound
// is answered.
func TestServeStats_RefusesAnOverlongEntityList(t *testing.T) {
	r, _ := clusterRig(t)
	day := r.clock().Unix() / 86400
	for _, tc := range []struct {
		n  int
		ok bool
	}{{2, true}, {maxStatsEntities + 1, false}} {
		ids := make([]uint64, tc.n)
		for i := range ids {
			ids[i] = uint64(i + 1)
		}
		raw, err := json.Marshal(statsRequest{Day: day, Entities: ids})
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.c.ServeStats(context.Background(), raw)
		if (err == nil) != tc.ok {
			t.Errorf("%d entities: answer %.60s, error %v; want answered %v", tc.n, b, err, tc.ok)
		}
	}
}
