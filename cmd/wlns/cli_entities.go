package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/record"
)

func relayCommands() []*subcommand {
	return []*subcommand{{
		name: "relay add", args: "IP --contact ADDRESS", nargs: [2]int{1, 1}, client: true,
		summary: "register a relay address with its contact",
		setup: func(fs *flag.FlagSet) runFunc {
			contact := fs.String("contact", "", "accountable e-mail address (required)")
			ptr := fs.String("ptr", "", "forward-confirmed reverse DNS name of the relay")
			pin := fs.Bool("pin", false, "keep the relay from expiring")
			return func(ctx context.Context, e *invocation) error {
				req := admin.RelayRequest{IP: e.args[0], Contact: *contact, PTR: *ptr, Pinned: *pin}
				return e.showEntity(ctx, "POST", "/v1/relays", req)
			}
		},
	}, {
		name: "relay del", args: "IP|ID", nargs: [2]int{1, 1}, client: true,
		summary: "delete a relay with its pairs and VERP sources",
		setup:   deleteRunner("/v1/relays/"),
	}, {
		name: "relay show", args: "IP|ID", nargs: [2]int{1, 1}, client: true,
		summary: "show a relay",
		setup:   showRunner("/v1/relays/"),
	}, {
		name: "relay list", nargs: [2]int{0, 0}, client: true,
		summary: "list lone relay addresses, sorted by ID",
		setup:   listEntitiesRunner("/v1/relays", "registered"),
	}}
}

func groupCommands() []*subcommand {
	return []*subcommand{{
		name: "group create", args: "NAME --member PREFIX...", nargs: [2]int{1, 1}, client: true,
		summary: "create a relay group of member addresses and prefixes",
		setup: func(fs *flag.FlagSet) runFunc {
			var members listFlag
			fs.Var(&members, "member", "member address or CIDR prefix (repeat, or separate with commas)")
			contact := fs.String("contact", "", "accountable e-mail address (required with --registered)")
			ptr := fs.String("ptr", "", "forward-confirmed reverse DNS name")
			registered := fs.Bool("registered", false, "register the group: its addresses answer in the relay zone")
			pin := fs.Bool("pin", false, "keep the group from expiring")
			return func(ctx context.Context, e *invocation) error {
				req := admin.GroupRequest{Name: e.args[0], Members: members, Contact: *contact, PTR: *ptr,
					Registered: *registered, Pinned: *pin}
				return e.showEntity(ctx, "POST", "/v1/groups", req)
			}
		},
	}, {
		name: "group add-member", args: "NAME PREFIX...", nargs: [2]int{2, -1}, client: true,
		summary: "add member addresses or prefixes to a group",
		setup:   membersRunner("POST"),
	}, {
		name: "group remove-member", args: "NAME PREFIX...", nargs: [2]int{2, -1}, client: true,
		summary: "remove member addresses or prefixes from a group",
		setup:   membersRunner("DELETE"),
	}, {
		name: "group del", args: "NAME|ID", nargs: [2]int{1, 1}, client: true,
		summary: "delete a group with its pairs and VERP sources",
		setup:   deleteRunner("/v1/groups/"),
	}, {
		name: "group show", args: "NAME|ID", nargs: [2]int{1, 1}, client: true,
		summary: "show a group",
		setup:   showRunner("/v1/groups/"),
	}, {
		name: "group list", nargs: [2]int{0, 0}, client: true,
		summary: "list relay groups, sorted by ID",
		setup:   listEntitiesRunner("/v1/groups", "registered"),
	}}
}

// showEntity sends a request whose answer is an entity and prints it.
func (e *invocation) showEntity(ctx context.Context, method, path string, body any) error {
	var ent record.Entity
	if _, err := e.api.do(ctx, method, path, body, &ent); err != nil {
		return err
	}
	return printJSON(e.stdout, &ent)
}

func membersRunner(method string) func(*flag.FlagSet) runFunc {
	return func(*flag.FlagSet) runFunc {
		return func(ctx context.Context, e *invocation) error {
			path := "/v1/groups/" + url.PathEscape(e.args[0]) + "/members"
			return e.showEntity(ctx, method, path, admin.MembersRequest{Prefixes: e.args[1:]})
		}
	}
}

func deleteRunner(base string) func(*flag.FlagSet) runFunc {
	return func(*flag.FlagSet) runFunc {
		return func(ctx context.Context, e *invocation) error {
			_, err := e.api.do(ctx, "DELETE", base+url.PathEscape(e.args[0]), nil, nil)
			return err
		}
	}
}

func showRunner(base string) func(*flag.FlagSet) runFunc {
	return func(*flag.FlagSet) runFunc {
		return func(ctx context.Context, e *invocation) error {
			return e.showEntity(ctx, "GET", base+url.PathEscape(e.args[0]), nil)
		}
	}
}

func listEntitiesRunner(path string, extra ...string) func(*flag.FlagSet) runFunc {
	return func(fs *flag.FlagSet) runFunc {
		lf := declareList(fs, extra...)
		return func(ctx context.Context, e *invocation) error {
			var all []*record.Entity
			err := lf.pages(ctx, e, path, func(raw []byte) (string, error) {
				var l admin.EntityList
				err := decodeJSON(raw, &l)
				all = append(all, l.Entities...)
				return l.Next, err
			})
			if err != nil {
				return err
			}
			if lf.json {
				return printJSON(e.stdout, all)
			}
			return printEntities(e.stdout, all)
		}
	}
}

func printEntities(w io.Writer, es []*record.Entity) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tMEMBERS\tREGISTERED\tCONTACT\tPTR")
	for _, e := range es {
		ms := make([]string, len(e.Prefixes))
		for i, p := range e.Prefixes {
			ms[i] = p.String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\t%s\n", e.ID, e.Label(), strings.Join(ms, ","), e.Registered, dash(e.Contact), dash(e.PTR))
	}
	return tw.Flush()
}
