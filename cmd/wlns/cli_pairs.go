package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/record"
)

// relayRef fills the ip or entity field of a request from an argument that
// is an IP address or an entity ID.
func relayRef(arg string) (ip string, entity uint64) {
	if id, err := strconv.ParseUint(arg, 10, 64); err == nil {
		return "", id
	}
	return arg, 0
}

func pairCommands() []*subcommand {
	return []*subcommand{{
		name: "pair add", args: "SENDER IP|ENTITY", nargs: [2]int{2, 2}, client: true,
		summary: "whitelist SENDER (an address, or a domain) through the relay of IP",
		setup: func(fs *flag.FlagSet) runFunc {
			pin := fs.Bool("pin", false, "keep the pair from expiring")
			return func(ctx context.Context, e *invocation) error {
				ip, id := relayRef(e.args[1])
				var p record.Pair
				if _, err := e.api.do(ctx, "POST", "/v1/pairs", admin.PairRequest{Sender: e.args[0], IP: ip, Entity: id, Pinned: *pin}, &p); err != nil {
					return err
				}
				return printJSON(e.stdout, &p)
			}
		},
	}, {
		name: "pair del", args: "SENDER IP|ENTITY", nargs: [2]int{2, 2}, client: true,
		summary: "remove the pair of SENDER and the relay of IP",
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				ip, id := relayRef(e.args[1])
				_, err := e.api.do(ctx, "DELETE", "/v1/pairs"+query("sender", e.args[0], "ip", ip, "entity", idString(id)), nil, nil)
				return err
			}
		},
	}, {
		name: "pair list", nargs: [2]int{0, 0}, client: true,
		summary: "list pairs, sorted by entity and sender",
		setup: func(fs *flag.FlagSet) runFunc {
			lf := declareList(fs, "sender", "domain")
			return func(ctx context.Context, e *invocation) error {
				var all []*record.Pair
				err := lf.pages(ctx, e, "/v1/pairs", func(raw []byte) (string, error) {
					var l admin.PairList
					err := decodeJSON(raw, &l)
					all = append(all, l.Pairs...)
					return l.Next, err
				})
				if err != nil {
					return err
				}
				if lf.json {
					return printJSON(e.stdout, all)
				}
				return printPairs(e.stdout, all)
			}
		},
	}}
}

func idString(id uint64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatUint(id, 10)
}

func printPairs(w io.Writer, ps []*record.Pair) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTITY\tSENDER\tBY\tMETHOD\tUPDATED\tPINNED")
	for _, p := range ps {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%v\n", p.Entity, p.Sender, dash(p.By), dash(p.Method), date(p.Updated), p.Pinned)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func date(unix int64) string {
	if unix == 0 {
		return "-"
	}
	return time.Unix(unix, 0).UTC().Format(time.RFC3339)
}
