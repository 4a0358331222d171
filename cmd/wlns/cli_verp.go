package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/record"
)

func verpCommands() []*subcommand {
	return []*subcommand{{
		name: "verp add", args: "DOMAIN IP|ENTITY", nargs: [2]int{2, 2}, client: true,
		summary: "mark the relay of IP as a mailing-list server with VERP return paths at DOMAIN",
		setup: func(fs *flag.FlagSet) runFunc {
			pin := fs.Bool("pin", false, "keep the listing from expiring")
			return func(ctx context.Context, e *invocation) error {
				ip, id := relayRef(e.args[1])
				var vp record.Verp
				if _, err := e.api.do(ctx, "POST", "/v1/verp", admin.VerpRequest{Domain: e.args[0], IP: ip, Entity: id, Pinned: *pin}, &vp); err != nil {
					return err
				}
				return printJSON(e.stdout, &vp)
			}
		},
	}, {
		name: "verp del", args: "DOMAIN IP|ENTITY", nargs: [2]int{2, 2}, client: true,
		summary: "remove a VERP source",
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				ip, id := relayRef(e.args[1])
				_, err := e.api.do(ctx, "DELETE", "/v1/verp"+query("domain", e.args[0], "ip", ip, "entity", idString(id)), nil, nil)
				return err
			}
		},
	}, {
		name: "verp list", nargs: [2]int{0, 0}, client: true,
		summary: "list VERP sources, sorted by entity and domain",
		setup: func(fs *flag.FlagSet) runFunc {
			lf := declareList(fs, "domain")
			return func(ctx context.Context, e *invocation) error {
				var all []*record.Verp
				err := lf.pages(ctx, e, "/v1/verp", func(raw []byte) (string, error) {
					var l admin.VerpList
					err := decodeJSON(raw, &l)
					all = append(all, l.Verp...)
					return l.Next, err
				})
				if err != nil {
					return err
				}
				if lf.json {
					return printJSON(e.stdout, all)
				}
				return printVerps(e.stdout, all)
			}
		},
	}}
}

func printVerps(w io.Writer, vs []*record.Verp) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTITY\tDOMAIN\tBY\tUPDATED\tPINNED")
	for _, v := range vs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%v\n", v.Entity, v.Domain, dash(v.By), date(v.Updated), v.Pinned)
	}
	return tw.Flush()
}
