package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/rbldnsd"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/zone"
)

// The dataset files `wlns export rbldnsd` writes into its folder.
const (
	rbldnsdIP4File = "relay.ip4set"
	rbldnsdIP6File = "relay.ip6trie"
)

func exportCommand() *subcommand {
	return &subcommand{
		name: "export rbldnsd", args: "DIR", nargs: [2]int{1, 1}, client: true,
		summary: "write the relay zone as rbldnsd datasets (relay.ip4set, relay.ip6trie) that answer as wlns does",
		setup: func(fs *flag.FlagSet) runFunc {
			ttl := fs.Uint("ttl", zone.DefaultTTL, "$TTL of the datasets: the node's --ttl, so rbldnsd's answers carry the same TTL")
			return func(ctx context.Context, e *invocation) error {
				return runExportRbldnsd(ctx, e, e.args[0], uint32(*ttl))
			}
		},
	}
}

// runExportRbldnsd reads the relay entities that decide relay-zone answers
// and writes both datasets, each replaced whole (rbldnsd reloads a file
// when it changes, and must never read half of one).
func runExportRbldnsd(ctx context.Context, e *invocation, dir string, ttl uint32) error {
	members, err := relayZoneMembers(ctx, e.api)
	if err != nil {
		return err
	}
	var four, six []rbldnsd.Member
	for _, m := range rbldnsd.Flatten(members) {
		if m.Prefix.Addr().Is4() {
			four = append(four, m)
		} else {
			six = append(six, m)
		}
	}
	for _, d := range []struct {
		file string
		ds   rbldnsd.Dataset
	}{
		{rbldnsdIP4File, rbldnsd.Dataset{Type: "ip4set", A: zone.RelayCode, TTL: ttl, Entries: four}},
		{rbldnsdIP6File, rbldnsd.Dataset{Type: "ip6trie", A: zone.RelayCode, TTL: ttl, Entries: six}},
	} {
		if err := writeDataset(filepath.Join(dir, d.file), d.ds); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%s: %d entries\n%s: %d entries\nserve with: rbldnsd ... -w %s relay.<apex>:ip4set:%s relay.<apex>:ip6trie:%s\n",
		rbldnsdIP4File, len(four), rbldnsdIP6File, len(six), dir, rbldnsdIP4File, rbldnsdIP6File)
	return nil
}

// writeDataset writes ds to a temporary file beside path and renames it
// into place.
func writeDataset(path string, ds rbldnsd.Dataset) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".wlns-export-*")
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	err = rbldnsd.Write(f, ds)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644) // rbldnsd reads it as its own user
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// relayZoneMembers lists what decides the relay zone's answers: every
// registered relay and group, the unregistered entities inside their
// prefixes (which hide those addresses, by longest-prefix match), and the
// RFC 5782 entries last (127.0.0.2 listed as the test entry, 127.0.0.1
// never), as the responder answers them.
func relayZoneMembers(ctx context.Context, api *apiClient) ([]rbldnsd.Member, error) {
	var out []rbldnsd.Member
	add := func(e *record.Entity) {
		text := ""
		if e.Registered {
			text = zone.RelayText(e)
		}
		for _, p := range e.Prefixes {
			out = append(out, rbldnsd.Member{Prefix: p.Masked(), Listed: e.Registered, Text: text})
		}
	}
	var wide []netip.Prefix
	for _, path := range []string{"/v1/relays", "/v1/groups"} {
		err := listEntities(ctx, api, path, url.Values{"registered": {"true"}}, func(e *record.Entity) {
			add(e)
			for _, p := range e.Prefixes {
				if !p.IsSingleIP() {
					wide = append(wide, p)
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	for _, p := range wide {
		for _, path := range []string{"/v1/relays", "/v1/groups"} {
			if err := listEntities(ctx, api, path, url.Values{"registered": {"false"}, "prefix": {p.String()}}, add); err != nil {
				return nil, err
			}
		}
	}
	test := zone.RelayText(zone.TestEntity())
	for _, p := range []string{"127.0.0.2/32", "::ffff:127.0.0.2/128"} { // wlns reads an IPv4-mapped name as the IPv4 address
		out = append(out, rbldnsd.Member{Prefix: netip.MustParsePrefix(p), Listed: true, Text: test})
	}
	return append(out, rbldnsd.Member{Prefix: netip.MustParsePrefix("127.0.0.1/32")}), nil
}

// listEntities calls fn for every entity a listing path gives with the
// query q, page by page.
func listEntities(ctx context.Context, api *apiClient, path string, q url.Values, fn func(*record.Entity)) error {
	q.Set("limit", "1000")
	for {
		var page admin.EntityList
		if _, err := api.do(ctx, "GET", path+"?"+q.Encode(), nil, &page); err != nil {
			return fmt.Errorf("listing %s: %w", path, err)
		}
		for _, e := range page.Entities {
			fn(e)
		}
		if page.Next == "" {
			return nil
		}
		q.Set("after", page.Next)
	}
}
