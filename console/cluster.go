package console

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// clusterData fills the admin's cluster page.
type clusterData struct {
	NodeID  string
	Members []admin.ClusterMember
	Err     string
	Counts  index.Counts
	Tokens  []*record.Token
	// Spool is this node's writes taken without a quorum, when it has a
	// spool.
	Spool *spoolCounts
	// QPS is each member's query rate over the last hour, this node's
	// from its own sampler, the others' asked over the inter-node port.
	QPS []nodeQPS
}

// nodeQPS is one member's query-rate chart, or why there is none.
type nodeQPS struct {
	ID   string
	Self bool
	Err  string
	// Chart is nil until the node has sampled twice.
	Chart *qpsChart
}

// spoolCounts are the pending and failed spooled writes of this node.
type spoolCounts struct{ Pending, Failed int }

// cluster shows an admin the members as this node sees them, this node's
// spool, the record counts and the tokens (names, roles, scopes: never secrets or hashes).
func (c *Console) cluster(w http.ResponseWriter, r *http.Request, s *session) error {
	if !s.Admin() {
		return failf(http.StatusForbidden, "The cluster page is for admins.")
	}
	d := clusterData{NodeID: c.cfg.NodeID, Counts: c.store.Index().Load().Counts()}
	if c.cfg.Cluster != nil {
		ms, err := c.cfg.Cluster.Members(r.Context())
		if err != nil {
			d.Err = err.Error()
		}
		d.Members = ms
	}
	d.QPS = c.memberQPS(r.Context())
	if sp, ok := c.store.(spooler); ok {
		p, f := sp.SpoolCounts()
		d.Spool = &spoolCounts{Pending: p, Failed: f}
	}
	for _, t := range c.store.Tokens() {
		d.Tokens = append(d.Tokens, &record.Token{Name: t.Name, Role: t.Role, Prefixes: t.Prefixes, Created: t.Created})
	}
	slices.SortFunc(d.Tokens, func(a, b *record.Token) int { return strings.Compare(a.Name, b.Name) })
	c.render(w, http.StatusOK, "cluster", view{Title: "Cluster", Nav: "cluster", S: s, Data: d})
	return nil
}

// memberQPS draws every member's query rate per zone.
func (c *Console) memberQPS(ctx context.Context) []nodeQPS {
	var out []nodeQPS
	for _, n := range c.gather(ctx, statsRequest{QPS: true}) {
		who := n.ID
		if n.Self {
			who += " (this node)"
		}
		out = append(out, nodeQPS{ID: n.ID, Self: n.Self, Err: n.Err, Chart: drawQPS(n.QPS, who)})
	}
	return out
}
