package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/clustertls"
)

func clusterCommands() []*subcommand {
	return []*subcommand{{
		name: "cluster status", nargs: [2]int{0, 0}, client: true,
		summary: "list cluster members: role, leader, applied index, lag, last contact",
		setup: func(fs *flag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print JSON instead of a table")
			return func(ctx context.Context, e *invocation) error {
				var st admin.ClusterStatus
				if _, err := e.api.do(ctx, "GET", "/v1/cluster", nil, &st); err != nil {
					return err
				}
				if *asJSON {
					return printJSON(e.stdout, &st)
				}
				return printCluster(e.stdout, &st)
			}
		},
	}, {
		name: "cluster remove", args: "NODE-ID", nargs: [2]int{1, 1}, client: true,
		summary: "remove a dead or retiring node from the cluster",
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				id := e.args[0]
				if _, err := e.api.do(ctx, "DELETE", "/v1/cluster/members/"+url.PathEscape(id), nil, nil); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "removed %s from the cluster", id)
				var st admin.ClusterStatus
				if _, err := e.api.do(ctx, "GET", "/v1/cluster", nil, &st); err == nil {
					fmt.Fprintf(e.stdout, "; %s remain", memberSummary(st.Members))
				}
				fmt.Fprintf(e.stdout, ".\nDo not restart %s on its data folder: to bring it back, delete that folder and join it again.\n", id)
				return nil
			}
		},
	}}
}

// memberSummary says how many members and voters there are, and which.
func memberSummary(ms []admin.ClusterMember) string {
	var voters, others []string
	for _, m := range ms {
		if m.Voter {
			voters = append(voters, m.ID)
		} else {
			others = append(others, m.ID)
		}
	}
	out := fmt.Sprintf("%d voters (%s)", len(voters), strings.Join(voters, ", "))
	if len(others) > 0 {
		out += fmt.Sprintf(" and %d non-voters (%s)", len(others), strings.Join(others, ", "))
	}
	return out
}

func printCluster(w io.Writer, st *admin.ClusterStatus) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tADDRESS\tROLE\tSTATE\tAPPLIED\tLAG\tLAST CONTACT")
	for _, m := range st.Members {
		role := "voter"
		if !m.Voter {
			role = "non-voter"
		}
		if m.Self {
			role += " (this node)"
		}
		if !m.Reachable {
			fmt.Fprintf(tw, "%s\t%s\t%s\tunreachable\t-\t-\t-\n", m.ID, m.Address, role)
			continue
		}
		contact := "-"
		if m.LastContactSeconds >= 0 {
			contact = (time.Duration(m.LastContactSeconds*1e3) * time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", m.ID, m.Address, role, m.State, m.AppliedIndex, m.Lag, contact)
	}
	return tw.Flush()
}

func caCommands() []*subcommand {
	return []*subcommand{{
		name: "ca init", nargs: [2]int{0, 0},
		summary: "create a cluster CA (ECDSA P-256, 10 years): ca.crt and ca.key (0600)",
		setup: func(fs *flag.FlagSet) runFunc {
			dir := fs.String("dir", "", "folder for the CA files (required)")
			name := fs.String("name", "wlns cluster CA", "CA certificate common name")
			return func(_ context.Context, e *invocation) error {
				if *dir == "" {
					return usageErrorf("--dir is required")
				}
				if err := clustertls.InitCA(*dir, *name, time.Now()); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "created %s and %s\n", filepath.Join(*dir, clustertls.CACertFile), filepath.Join(*dir, clustertls.CAKeyFile))
				return nil
			}
		},
	}, {
		name: "ca issue", nargs: [2]int{0, 0},
		summary: "issue a node certificate (node ID as URI SAN, plus IP/DNS SANs) signed by the cluster CA",
		setup: func(fs *flag.FlagSet) runFunc {
			caDir := fs.String("ca", "", "`DIR` of the CA made by wlns ca init (required)")
			nodeID := fs.String("node-id", "", "the node's ID (required; also its Raft server ID)")
			out := fs.String("out", "", "folder for node.crt, node.key (0600) and a copy of ca.crt (required)")
			validity := fs.Duration("validity", clustertls.NodeValidity, "certificate lifetime")
			var addrs listFlag
			fs.Var(&addrs, "addr", "address peers dial the node at, host or host:port (repeat, or separate with commas; at least one)")
			return func(_ context.Context, e *invocation) error {
				if *caDir == "" || *nodeID == "" || *out == "" {
					return usageErrorf("--ca, --node-id, --out and --addr are required")
				}
				if len(addrs) == 0 {
					return errors.New("a node certificate needs at least one --addr")
				}
				req := clustertls.NodeRequest{NodeID: *nodeID, Hosts: addrs, Validity: *validity}
				if err := clustertls.IssueNode(*caDir, *out, req, time.Now()); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "issued %s for node %s (%s)\n", filepath.Join(*out, clustertls.NodeCertFile), *nodeID, addrs.String())
				return nil
			}
		},
	}}
}
