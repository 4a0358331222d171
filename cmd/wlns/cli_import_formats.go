package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/rbldnsd"
)

// importFormatCommands are the imports that convert another format into
// relay and group records and send them as `wlns import` does (they come
// before "import" in the table, which would take "rbldnsd" for a file).
func importFormatCommands() []*subcommand {
	return []*subcommand{{
		name: "import rbldnsd", args: "FILE...", nargs: [2]int{1, -1}, client: true,
		summary: "import the addresses of rbldnsd datasets (ip4set, ip4trie, ip6trie, ...) as registered relays, or as one group",
		setup: func(fs *flag.FlagSet) runFunc {
			o := declareConvert(fs)
			group := fs.String("group", "", "put every entry in this registered group (needed for entries wider than one address)")
			return func(ctx context.Context, e *invocation) error {
				c := newConverter(o.contact, *group)
				for _, name := range e.args {
					if err := c.readFile(e, name, c.rbldnsd); err != nil {
						return err
					}
				}
				return o.run(ctx, e, c)
			}
		},
	}, {
		name: "import csv", args: "FILE|-", nargs: [2]int{1, 1}, client: true,
		summary: "import relays and groups from CSV with a header row: ip (address or CIDR), contact, ptr, group",
		setup: func(fs *flag.FlagSet) runFunc {
			o := declareConvert(fs)
			return func(ctx context.Context, e *invocation) error {
				c := newConverter(o.contact, "")
				if err := c.readFile(e, e.args[0], c.csv); err != nil {
					return err
				}
				return o.run(ctx, e, c)
			}
		},
	}}
}

// convertOpts are the flags the converting imports share.
type convertOpts struct {
	contact  string
	batch    *int
	key      *string
	progress *time.Duration
}

func declareConvert(fs *flag.FlagSet) *convertOpts {
	o := &convertOpts{}
	fs.StringVar(&o.contact, "contact", "", "contact address of the relays and groups whose own data names none (required unless every CSV row has one)")
	o.batch = fs.Int("batch", cliImportBatch, "records per all-or-nothing batch (1 to 10000)")
	o.key = fs.String("key", "", "idempotency key, as for the NDJSON import (its --key)")
	o.progress = declareProgress(fs)
	return o
}

// run sends what c read as NDJSON records.
func (o *convertOpts) run(ctx context.Context, e *invocation, c *converter) error {
	var b bytes.Buffer
	sources, err := c.records(&b)
	if err != nil {
		return err
	}
	if len(sources) == 0 {
		return errors.New("nothing to import: no address entries")
	}
	return importRecords(ctx, e, &b, *o.batch, *o.key, func(n int) string {
		if n < 1 || n > len(sources) {
			return "?"
		}
		return sources[n-1]
	}, newImportMeter(e, *o.progress, len(sources)))
}

// converter collects relays and groups from the input files; every
// problem stops the import before anything is sent.
type converter struct {
	contact, group string
	relays         []admin.ImportLine
	relayAt        []string // where each relay came from
	groups         map[string]*admin.ImportLine
	groupAt        map[string]string
	order          []string // group names in first-seen order
}

func newConverter(contact, group string) *converter {
	return &converter{contact: contact, group: group, groups: map[string]*admin.ImportLine{}, groupAt: map[string]string{}}
}

// readFile opens name ("-": stdin) and reads it with read.
func (c *converter) readFile(e *invocation, name string, read func(io.Reader, string) error) error {
	in, closeIn, err := openInput(e, name)
	if err != nil {
		return err
	}
	defer closeIn()
	return read(in, name)
}

// rbldnsd reads one dataset's address entries.
func (c *converter) rbldnsd(in io.Reader, name string) error {
	err := rbldnsd.Parse(in, func(en rbldnsd.Entry) error {
		at := fmt.Sprintf("%s:%d", name, en.Line)
		for _, p := range en.Prefixes {
			if err := c.add(p, c.group, c.contact, "", at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// csv reads rows under a header naming the columns ip, contact, ptr and
// group (ip required, the others optional, in any order).
func (c *converter) csv(in io.Reader, name string) error {
	r := csv.NewReader(in)
	r.FieldsPerRecord, r.TrimLeadingSpace = -1, true
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: reading the header row: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		if h != "ip" && h != "contact" && h != "ptr" && h != "group" {
			return fmt.Errorf("%s: header column %q: want ip, contact, ptr or group", name, h)
		}
		col[h] = i
	}
	if _, ok := col["ip"]; !ok {
		return fmt.Errorf("%s: the header row has no ip column", name)
	}
	for {
		row, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		at := fmt.Sprintf("%s:%d", name, line)
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(row) {
				return strings.TrimSpace(row[i])
			}
			return ""
		}
		p, err := parsePrefixOrAddr(get("ip"))
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		contact := get("contact")
		if contact == "" {
			contact = c.contact
		}
		if err := c.add(p, get("group"), contact, get("ptr"), at); err != nil {
			return err
		}
	}
}

// parsePrefixOrAddr reads an address or a masked CIDR.
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("ip %q: want an address or a CIDR without host bits", s)
	}
	return p, nil
}

// add files one prefix: a group member, or a lone relay.
func (c *converter) add(p netip.Prefix, group, contact, ptr, at string) error {
	if contact == "" {
		return fmt.Errorf("%s: no contact: give --contact (registered relays and groups need one)", at)
	}
	if group == "" {
		if !p.IsSingleIP() {
			return fmt.Errorf("%s: %s is wider than one address: a relay is one address; put it in a group (--group NAME, or a group column)", at, p)
		}
		c.relays = append(c.relays, admin.ImportLine{Kind: "relay", IP: p.Addr().String(), Contact: contact, PTR: ptr})
		c.relayAt = append(c.relayAt, at)
		return nil
	}
	g := c.groups[group]
	if g == nil {
		g = &admin.ImportLine{Kind: "group", Name: group, Contact: contact, PTR: ptr, Registered: true}
		c.groups[group], c.groupAt[group] = g, at
		c.order = append(c.order, group)
	}
	g.Members = append(g.Members, p.String())
	return nil
}

// records writes the NDJSON records (relays, then one line per group with
// all its members) and returns where each came from.
func (c *converter) records(w io.Writer) ([]string, error) {
	enc := json.NewEncoder(w)
	sources := append([]string(nil), c.relayAt...)
	for _, l := range c.relays {
		if err := enc.Encode(l); err != nil {
			return nil, err
		}
	}
	for _, name := range c.order {
		if err := enc.Encode(c.groups[name]); err != nil {
			return nil, err
		}
		sources = append(sources, fmt.Sprintf("group %s, first member at %s", name, c.groupAt[name]))
	}
	return sources, nil
}
