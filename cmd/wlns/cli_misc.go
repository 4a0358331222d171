package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/record"
)

func tokenCommands() []*subcommand {
	return []*subcommand{{
		name: "token create", args: "NAME --role ROLE", nargs: [2]int{1, 1}, client: true,
		summary: "create an API token and print its secret (shown once)",
		setup: func(fs *flag.FlagSet) runFunc {
			role := fs.String("role", "", "admin, postmaster or read (required)")
			var prefixes listFlag
			fs.Var(&prefixes, "prefix", "prefix a postmaster token may write for (repeat, or separate with commas)")
			asJSON := fs.Bool("json", false, "print the token as JSON instead of the bare secret")
			return func(ctx context.Context, e *invocation) error {
				var info admin.TokenInfo
				req := admin.TokenRequest{Name: e.args[0], Role: record.Role(*role), Prefixes: prefixes}
				if _, err := e.api.do(ctx, "POST", "/v1/tokens", req, &info); err != nil {
					return err
				}
				if *asJSON {
					return printJSON(e.stdout, &info)
				}
				_, err := fmt.Fprintln(e.stdout, info.Secret)
				return err
			}
		},
	}, {
		name: "token list", nargs: [2]int{0, 0}, client: true,
		summary: "list API tokens (names and roles, never secrets)",
		setup: func(fs *flag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print JSON instead of a table")
			return func(ctx context.Context, e *invocation) error {
				var l admin.TokenList
				if _, err := e.api.do(ctx, "GET", "/v1/tokens", nil, &l); err != nil {
					return err
				}
				if *asJSON {
					return printJSON(e.stdout, l.Tokens)
				}
				return printTokens(e.stdout, l.Tokens)
			}
		},
	}, {
		name: "token del", args: "NAME", nargs: [2]int{1, 1}, client: true,
		summary: "revoke an API token",
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				_, err := e.api.do(ctx, "DELETE", "/v1/tokens/"+url.PathEscape(e.args[0]), nil, nil)
				return err
			}
		},
	}}
}

func printTokens(w io.Writer, ts []admin.TokenInfo) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tPREFIXES\tCREATED")
	for _, t := range ts {
		ps := "-"
		if len(t.Prefixes) > 0 {
			ps = fmt.Sprint(t.Prefixes)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Role, ps, date(t.Created))
	}
	return tw.Flush()
}

func statusCommand() *subcommand {
	return &subcommand{
		name: "status", nargs: [2]int{0, 0}, client: true,
		summary: "show the node's ID, leadership, serial and record counts",
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				var st admin.Status
				if _, err := e.api.do(ctx, "GET", "/v1/status", nil, &st); err != nil {
					return err
				}
				return printJSON(e.stdout, &st)
			}
		},
	}
}
