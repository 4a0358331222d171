package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/wlns/wlns/admin"
)

// spoolCommand is `wlns spool`: the writes a node took while it could not
// reach a quorum (GET /v1/spool).
func spoolCommand() *subcommand {
	return &subcommand{
		name: "spool", nargs: [2]int{0, 0}, client: true,
		summary: "list the writes this node spooled without a quorum: pending, and rejected when replayed",
		setup: func(fs *flag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print the API's JSON answer")
			return func(ctx context.Context, e *invocation) error {
				var l admin.SpoolList
				if _, err := e.api.do(ctx, "GET", "/v1/spool", nil, &l); err != nil {
					return err
				}
				if *asJSON {
					return printJSON(e.stdout, &l)
				}
				return printSpool(e.stdout, &l)
			}
		},
	}
}

// printSpool prints the pending entries, then the failed ones.
func printSpool(w io.Writer, l *admin.SpoolList) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tTYPE\tREQUEST ID\tSPOOLED\tWHAT\tERROR")
	for _, group := range []struct {
		state string
		es    []admin.SpoolEntry
	}{{"pending", l.Pending}, {"failed", l.Failed}} {
		for _, e := range group.es {
			msg := e.Error
			if e.Code != "" {
				msg = string(e.Code) + ": " + msg
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", group.state, e.Type, e.RequestID,
				e.Spooled.UTC().Format(time.RFC3339), e.Summary, dash(msg))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d pending, %d failed\n", l.PendingTotal, l.FailedTotal)
	return err
}
