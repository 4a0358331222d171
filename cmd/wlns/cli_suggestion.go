package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/suggest"
)

func suggestionCommands() []*subcommand {
	return []*subcommand{{
		name: "suggestion list", nargs: [2]int{0, 0}, client: true,
		summary: "list suggested groups: relays that share many verified senders (GET /v1/suggestions)",
		setup: func(fs *flag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print JSON")
			return func(ctx context.Context, e *invocation) error {
				var l admin.SuggestionList
				if _, err := e.api.do(ctx, "GET", "/v1/suggestions", nil, &l); err != nil {
					return err
				}
				if *asJSON {
					return printJSON(e.stdout, l.Suggestions)
				}
				return printSuggestions(e.stdout, l.Suggestions)
			}
		},
	}, {
		name: "suggestion accept", args: "ID", nargs: [2]int{1, 1}, client: true,
		summary: "group a suggestion's relays (POST /v1/suggestions/ID/accept)",
		setup: func(fs *flag.FlagSet) runFunc {
			name := fs.String("name", "", "the new group's name (a suggestion that extends a group needs none)")
			contact := fs.String("contact", "", "the new group's contact (default the first registered relay's)")
			return func(ctx context.Context, e *invocation) error {
				var g record.Entity
				if _, err := e.api.do(ctx, "POST", "/v1/suggestions/"+e.args[0]+"/accept", admin.AcceptRequest{Name: *name, Contact: *contact}, &g); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "grouped into %s (entity %d)\n", g.Label(), g.ID)
				return err
			}
		},
	}, {
		name: "suggestion dismiss", args: "ID", nargs: [2]int{1, 1}, client: true,
		summary: "decline a suggestion: not listed again until its shared senders double (POST /v1/suggestions/ID/dismiss)",
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				var d admin.DismissResponse
				if _, err := e.api.do(ctx, "POST", "/v1/suggestions/"+e.args[0]+"/dismiss", nil, &d); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "dismissed %s at %d shared senders\n", d.ID, d.Dismissal.Shared)
				return err
			}
		},
	}}
}

func printSuggestions(w io.Writer, ss []suggest.Suggestion) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tGROUP\tRELAYS\tSHARED\tOVERLAP\tDISMISSED")
	for _, s := range ss {
		var relays []string
		group := "-"
		for _, r := range s.Relays {
			switch {
			case r.ID == s.Group:
				group = r.Name
			case len(r.Prefixes) > 0:
				relays = append(relays, r.Prefixes[0].String())
			}
		}
		dismissed := "-"
		if s.Dismissed != nil {
			dismissed = fmt.Sprintf("%s at %d", date(s.Dismissed.Time), s.Dismissed.Shared)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.0f%%\t%s\n", s.ID, group, strings.Join(relays, ","), s.Links[0].Shared, 100*s.Links[0].Overlap, dismissed)
	}
	return tw.Flush()
}
