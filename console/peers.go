package console

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wlns/wlns/activity"
	"github.com/wlns/wlns/admin"
)

// Peers asks another node for its statistics over the cluster's mutually
// authenticated inter-node port (nodenet.Net.Stats); the node answers
// with ServeStats.
type Peers interface {
	Stats(ctx context.Context, addr string, req json.RawMessage) (json.RawMessage, error)
}

// peerTimeout bounds one node's answer: a page waits at most this long for
// a slow or unreachable member.
const peerTimeout = 3 * time.Second

// maxStatsEntities bounds the entity IDs one statistics request names (8
// MB of JSON at most): summing costs a look-up per ID and closed day under
// the counter's lock, and the inter-node port would otherwise carry up to
// 32 MB of them. A session that sees more reads each member's refusal on
// its activity page.
const maxStatsEntities = 1 << 20

// statsRequest is what a console asks each node for.
type statsRequest struct {
	// Day is the asking node's today (Unix day): the answers' days line up
	// with it.
	Day int64 `json:"day"`
	// Entities are the entities whose answers are summed; All sums every
	// entity's.
	Entities []uint64 `json:"entities,omitempty"`
	All      bool     `json:"all,omitempty"`
	// QPS asks for the node's query rate samples.
	QPS bool `json:"qps,omitempty"`
}

// statsAnswer is one node's statistics.
type statsAnswer struct {
	NodeID string `json:"node_id"`
	// Answers are the node's positive DNS answers per day through the
	// requested entities, the last on the request's Day; none when the
	// node does not count them.
	Answers []uint64 `json:"answers,omitempty"`
	// QPS is the node's query rate, a point a minute over the last hour.
	QPS []qpsPoint `json:"qps,omitempty"`
}

// nodeStats is one member's answer, or why there is none.
type nodeStats struct {
	ID   string
	Self bool
	Err  string
	statsAnswer
}

// ServeStats answers another node's statistics request (install it with
// nodenet.Net.SetStats). The peer is a cluster member: the inter-node
// port admits only nodes with a certificate of the cluster's CA.
func (c *Console) ServeStats(_ context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var req statsRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, fmt.Errorf("decoding a statistics request: %w", err)
	}
	if len(req.Entities) > maxStatsEntities {
		return nil, fmt.Errorf("a statistics request names %d entities, more than %d", len(req.Entities), maxStatsEntities)
	}
	return json.Marshal(c.localStats(&req))
}

// localStats is this node's answer to req.
func (c *Console) localStats(req *statsRequest) statsAnswer {
	a := statsAnswer{NodeID: c.cfg.NodeID}
	if c.cfg.Answers != nil && (req.All || len(req.Entities) > 0) {
		days := c.cfg.Answers.Sum(time.Unix(req.Day*86400, 0), req.Entities, req.All)
		a.Answers = days[:]
	}
	if req.QPS && c.qps != nil {
		a.QPS = c.qps.samples()
	}
	return a
}

// gather asks every member for its statistics, at once, each bounded by
// peerTimeout; this node answers itself. Members are in the cluster's
// order; without a cluster view (or Peers) only this node answers.
func (c *Console) gather(ctx context.Context, req statsRequest) []nodeStats {
	var members []admin.ClusterMember
	if c.cfg.Cluster != nil && c.cfg.Peers != nil {
		members, _ = c.cfg.Cluster.Members(ctx)
	}
	if !slices.ContainsFunc(members, func(m admin.ClusterMember) bool { return m.Self }) {
		members = append(members, admin.ClusterMember{ID: c.cfg.NodeID, Self: true})
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return nil
	}
	out := make([]nodeStats, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		out[i] = nodeStats{ID: m.ID, Self: m.Self}
		if m.Self {
			out[i].statsAnswer = c.localStats(&req)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].statsAnswer, out[i].Err = c.askPeer(ctx, m.Address, raw)
		}()
	}
	wg.Wait()
	return out
}

// askPeer asks the member at addr.
func (c *Console) askPeer(ctx context.Context, addr string, raw json.RawMessage) (statsAnswer, string) {
	ctx, cancel := context.WithTimeout(ctx, peerTimeout)
	defer cancel()
	b, err := c.cfg.Peers.Stats(ctx, addr, raw)
	if err != nil {
		return statsAnswer{}, err.Error()
	}
	var a statsAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return statsAnswer{}, fmt.Sprintf("decoding its answer: %v", err)
	}
	return a, ""
}

// answersPerDay sums the members' answers per day; counted says how many
// members answered with counts.
func answersPerDay(ns []nodeStats) (days [chartDays]int, counted int) {
	for _, n := range ns {
		if n.Err != "" || len(n.Answers) != activity.Days {
			continue
		}
		counted++
		for i, v := range n.Answers[activity.Days-chartDays:] {
			days[i] += int(v)
		}
	}
	return days, counted
}
