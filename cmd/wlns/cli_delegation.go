package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/delegcheck"
	"github.com/wlns/wlns/record"
)

// nsFlag collects --ns NAME[=ADDR,ADDR] values.
type nsFlag []record.NameServer

func (f *nsFlag) String() string { return "" }

// Set reads one name server with its optional glue addresses.
func (f *nsFlag) Set(s string) error {
	name, addrs, _ := strings.Cut(s, "=")
	ns := record.NameServer{Name: name}
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		ip, err := netip.ParseAddr(a)
		if err != nil {
			return fmt.Errorf("name server %s: %w", name, err)
		}
		ns.Addrs = append(ns.Addrs, ip)
	}
	*f = append(*f, ns)
	return nil
}

func delegationCommands() []*subcommand {
	return []*subcommand{{
		name: "delegation add", args: "PREFIX", nargs: [2]int{1, 1}, client: true,
		summary: "delegate PREFIX's relay, sender and VERP names to your own name servers (POST /v1/delegations)",
		setup: func(fs *flag.FlagSet) runFunc {
			var ns nsFlag
			fs.Var(&ns, "ns", "a name server as `NAME[=ADDR,...]` (repeat); give addresses for names inside the wlns zone")
			return func(ctx context.Context, e *invocation) error {
				var d admin.DelegationInfo
				if _, err := e.api.do(ctx, "POST", "/v1/delegations", admin.DelegationRequest{Prefix: e.args[0], NS: ns}, &d); err != nil {
					return err
				}
				return printDelegations(e.stdout, []admin.DelegationInfo{d})
			}
		},
	}, {
		name: "delegation del", args: "PREFIX", nargs: [2]int{1, 1}, client: true,
		summary: "end the delegation of PREFIX: wlns answers its names again",
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				_, err := e.api.do(ctx, "DELETE", "/v1/delegations"+query("prefix", e.args[0]), nil, nil)
				return err
			}
		},
	}, {
		name: "delegation list", nargs: [2]int{0, 0}, client: true,
		summary: "list delegations with this node's latest lame-delegation check",
		setup: func(fs *flag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print JSON")
			return func(ctx context.Context, e *invocation) error {
				var l admin.DelegationList
				if _, err := e.api.do(ctx, "GET", "/v1/delegations", nil, &l); err != nil {
					return err
				}
				if *asJSON {
					return printJSON(e.stdout, l.Delegations)
				}
				return printDelegations(e.stdout, l.Delegations)
			}
		},
	}, {
		name: "delegation export", args: "PREFIX", nargs: [2]int{1, 1}, client: true,
		summary: "write the zone file of one tree of a delegated prefix, for BIND, NSD or Knot (GET /v1/delegations/zone)",
		setup: func(fs *flag.FlagSet) runFunc {
			tree := fs.String("tree", "relay", "tree to export: relay, sender or verp")
			hostmaster := fs.String("hostmaster", "", "SOA responsible mailbox (default hostmaster@<apex>)")
			out := fs.String("o", "", "file to write (default standard output)")
			return func(ctx context.Context, e *invocation) error {
				return exportDelegation(ctx, e, "/v1/delegations/zone"+query("prefix", e.args[0], "tree", *tree, "hostmaster", *hostmaster), *out)
			}
		},
	}}
}

// exportDelegation downloads a zone file to out (standard output if empty).
func exportDelegation(ctx context.Context, e *invocation, path, out string) error {
	ctx, cancel := context.WithTimeout(ctx, e.api.timeout)
	defer cancel()
	resp, err := e.api.request(ctx, "GET", path, "", nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return e.api.answerError(resp.StatusCode, raw)
	}
	if out == "" {
		_, err := io.Copy(e.stdout, resp.Body)
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("creating %s: %w", out, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return f.Close()
}

func printDelegations(w io.Writer, ds []admin.DelegationInfo) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PREFIX\tNAME SERVERS\tLAME\tCHECKED\tBY\tUPDATED")
	for _, d := range ds {
		var names []string
		for _, ns := range d.NS {
			names = append(names, ns.Name)
		}
		lame, checked := "-", "-"
		if d.Check != nil {
			lame, checked = "no", date(d.Check.Checked)
			if d.Lame {
				lame = "yes: " + firstProblem(d.Check)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Prefix, strings.Join(names, ","), lame, checked, dash(d.By), date(d.Updated))
	}
	return tw.Flush()
}

// firstProblem names the first server a check found lame and why.
func firstProblem(r *delegcheck.Result) string {
	for _, s := range r.Servers {
		if s.Problem != "" {
			return s.Name + " " + s.Addr + ": " + s.Problem
		}
	}
	return ""
}
