package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
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

func importCommand() *subcommand {
	return &subcommand{
		name: "import", args: "FILE|-", nargs: [2]int{1, 1}, client: true,
		summary: "import NDJSON records (pair, verp, relay, group lines) from a file or stdin",
		setup: func(fs *flag.FlagSet) runFunc {
			batch := fs.Int("batch", admin.DefaultImportBatch, "records per all-or-nothing batch")
			return func(ctx context.Context, e *invocation) error {
				return runImport(ctx, e, e.args[0], *batch)
			}
		},
	}
}

// runImport streams a file to /v1/import and prints the report. It fails
// (exit 1) when any batch was rejected.
func runImport(ctx context.Context, e *invocation, name string, batch int) error {
	var in io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("opening import file: %w", err)
		}
		defer f.Close()
		in = f
	}
	var rep admin.ImportReport
	path := "/v1/import?batch=" + strconv.Itoa(batch)
	if _, err := e.api.send(ctx, "POST", path, "application/x-ndjson", in, &rep); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "records %d, applied %d, rejected %d, batches %d\n", rep.Lines, rep.Applied, rep.Rejected, len(rep.Batches))
	for _, le := range rep.Errors {
		fmt.Fprintf(e.stdout, "line %d: %s\n", le.Line, le.Error)
	}
	if rep.ErrorsTruncated {
		fmt.Fprintln(e.stdout, "(more errors not listed)")
	}
	switch {
	case rep.Stopped != "":
		return &exitError{code: exitFailure, err: fmt.Errorf("import stopped: %s", rep.Stopped)}
	case rep.Rejected > 0:
		return &exitError{code: exitFailure, err: fmt.Errorf("%d records in rejected batches", rep.Rejected)}
	}
	return nil
}
