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
)

// zoneRecordCommands manage the zone's own names (docs/operations.md, "The
// zone's own names"). DATA may be one quoted argument or several: they are
// joined with spaces, so `10 mx` and "10 mx" are the same.
func zoneRecordCommands() []*subcommand {
	return []*subcommand{{
		name: "zone-record add", args: "NAME TYPE DATA...", nargs: [2]int{3, -1}, client: true,
		summary: "publish a record at or under the apex (NAME relative to it, @ for the apex; admin token)",
		setup: func(fs *flag.FlagSet) runFunc {
			ttl := fs.Uint("ttl", 0, "TTL in seconds for the record's whole RRset (default: the zone's --ttl)")
			return func(ctx context.Context, e *invocation) error {
				req := admin.ZoneRecordRequest{Name: e.args[0], Type: e.args[1], TTL: uint32(*ttl), Data: strings.Join(e.args[2:], " ")}
				var zr record.ZoneRecord
				if _, err := e.api.do(ctx, "POST", "/v1/zone-records", req, &zr); err != nil {
					return err
				}
				return printZoneRecords(e.stdout, []record.ZoneRecord{zr})
			}
		},
	}, {
		name: "zone-record del", args: "NAME [TYPE [DATA...]]", nargs: [2]int{1, -1}, client: true,
		summary: "delete the records of a name, of one type at it, or one record",
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, e *invocation) error {
				typ, data := "", ""
				if len(e.args) > 1 {
					typ, data = e.args[1], strings.Join(e.args[2:], " ")
				}
				_, err := e.api.do(ctx, "DELETE", "/v1/zone-records"+query("name", e.args[0], "type", typ, "data", data), nil, nil)
				return err
			}
		},
	}, {
		name: "zone-record list", args: "[NAME]", nargs: [2]int{0, 1}, client: true,
		summary: "list the zone's own records, sorted by name, type and data",
		setup: func(fs *flag.FlagSet) runFunc {
			asJSON := fs.Bool("json", false, "print JSON instead of a table")
			return func(ctx context.Context, e *invocation) error {
				name := ""
				if len(e.args) == 1 {
					name = e.args[0]
				}
				var l admin.ZoneRecordList
				if _, err := e.api.do(ctx, "GET", "/v1/zone-records"+query("name", name), nil, &l); err != nil {
					return err
				}
				if *asJSON {
					return printJSON(e.stdout, l.Records)
				}
				return printZoneRecords(e.stdout, l.Records)
			}
		},
	}}
}

func printZoneRecords(w io.Writer, zs []record.ZoneRecord) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTTL\tTYPE\tDATA\tUPDATED")
	for _, z := range zs {
		ttl := "-"
		if z.TTL > 0 {
			ttl = fmt.Sprint(z.TTL)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", z.Name, ttl, z.Type, z.Data, date(z.Updated))
	}
	return tw.Flush()
}
