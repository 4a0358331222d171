package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"text/tabwriter"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/record"
)

// expiryCommands are `wlns expiring` and pin/unpin of pairs and VERP
// sources (relays and groups: `relay update`/`group update --pin`).
func expiryCommands() []*subcommand {
	return []*subcommand{{
		name: "expiring", nargs: [2]int{0, 0}, client: true,
		summary: "list what expiry will delete within --days unless it is queried or pinned",
		setup: func(fs *flag.FlagSet) runFunc {
			lf := declareList(fs, "days", "kind")
			*lf.filters["days"] = "30"
			return func(ctx context.Context, e *invocation) error {
				var all admin.ExpiringList
				err := lf.pages(ctx, e, "/v1/expiring", func(raw []byte) (string, error) {
					var l admin.ExpiringList
					err := decodeJSON(raw, &l)
					all.Items = append(all.Items, l.Items...)
					return l.Next, err
				})
				if err != nil {
					return err
				}
				if lf.json {
					return printJSON(e.stdout, all.Items)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ENTITY\tKIND\tKEY\tLAST ACTIVE\tEXPIRES")
				for _, it := range all.Items {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", it.Entity, it.Kind, dash(it.Key), date(it.LastActive), date(it.Expires))
				}
				return tw.Flush()
			}
		},
	}, pinCommand("pair", true), pinCommand("pair", false), pinCommand("verp", true), pinCommand("verp", false),
		entityPinCommand("relay", true), entityPinCommand("relay", false), entityPinCommand("group", true), entityPinCommand("group", false)}
}

// entityPinCommand is `wlns relay|group pin|unpin REF`: it reads the relay
// or group and writes it back (PUT) with the pinned flag changed.
func entityPinCommand(kind string, pin bool) *subcommand {
	verb, what := "unpin", "let it expire again once it has no pairs or VERP sources"
	if pin {
		verb, what = "pin", "keep it from expiring"
	}
	arg, path := "IP|ID", "/v1/relays/"
	if kind == "group" {
		arg, path = "NAME|ID", "/v1/groups/"
	}
	return &subcommand{
		name: kind + " " + verb, args: arg, nargs: [2]int{1, 1}, client: true,
		summary: fmt.Sprintf("%s a %s: %s", verb, kind, what),
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				var cur record.Entity
				if _, err := e.api.do(ctx, "GET", path+url.PathEscape(e.args[0]), nil, &cur); err != nil {
					return err
				}
				var req any = admin.RelayUpdate{Contact: cur.Contact, PTR: cur.PTR, Registered: &cur.Registered, Pinned: pin}
				if kind == "group" {
					members := make([]string, len(cur.Prefixes))
					for i, p := range cur.Prefixes {
						members[i] = p.String()
					}
					req = admin.GroupRequest{Name: cur.Name, Members: members, Contact: cur.Contact, PTR: cur.PTR, Registered: cur.Registered, Pinned: pin}
				}
				var out record.Entity
				if _, err := e.api.do(ctx, "PUT", path+strconv.FormatUint(cur.ID, 10), req, &out); err != nil {
					return err
				}
				return printJSON(e.stdout, &out)
			}
		},
	}
}

// errNoRecord: pin and unpin change existing records only.
var errNoRecord = errors.New("no such record: pin and unpin change existing records only (add it with --pin)")

// pinCommand is `wlns pair|verp pin|unpin KEY IP|ENTITY`: it re-sends an
// existing record with its pinned flag set or cleared.
func pinCommand(kind string, pin bool) *subcommand {
	verb, what := "unpin", "let it expire again"
	if pin {
		verb, what = "pin", "keep it from expiring"
	}
	arg := "SENDER"
	if kind == "verp" {
		arg = "DOMAIN"
	}
	return &subcommand{
		name: kind + " " + verb, args: arg + " IP|ENTITY", nargs: [2]int{2, 2}, client: true,
		summary: fmt.Sprintf("%s an existing %s: %s", verb, kind, what),
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				ip, id := relayRef(e.args[1])
				if kind == "pair" {
					var l admin.PairList
					if _, err := e.api.do(ctx, "GET", "/v1/pairs"+query("sender", e.args[0], "ip", ip, "entity", idString(id)), nil, &l); err != nil {
						return err
					}
					if len(l.Pairs) == 0 {
						return errNoRecord
					}
					var p record.Pair
					if _, err := e.api.do(ctx, "POST", "/v1/pairs", admin.PairRequest{Sender: l.Pairs[0].Sender, Entity: l.Pairs[0].Entity, Pinned: pin}, &p); err != nil {
						return err
					}
					return printJSON(e.stdout, &p)
				}
				var l admin.VerpList
				if _, err := e.api.do(ctx, "GET", "/v1/verp"+query("domain", e.args[0], "ip", ip, "entity", idString(id)), nil, &l); err != nil {
					return err
				}
				if len(l.Verp) == 0 {
					return errNoRecord
				}
				var vp record.Verp
				if _, err := e.api.do(ctx, "POST", "/v1/verp", admin.VerpRequest{Domain: l.Verp[0].Domain, Entity: l.Verp[0].Entity, Pinned: pin}, &vp); err != nil {
					return err
				}
				return printJSON(e.stdout, &vp)
			}
		},
	}
}
