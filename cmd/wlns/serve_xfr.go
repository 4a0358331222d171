package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/zone"
)

// xfrConfig holds the zone transfer flags (docs/operations.md,
// "Secondaries").
type xfrConfig struct {
	listen     string
	allow      listFlag
	keysFile   string
	notify     listFlag
	notifyCuts listFlag
	zones      listFlag
	interval   time.Duration
	maxRecords int
	maxMember  int
}

func (c *xfrConfig) declare(fs *flag.FlagSet) {
	fs.StringVar(&c.listen, "xfr", "", "zone transfer listen address, UDP and TCP (AXFR, IXFR and the secondaries' SOA queries), e.g. 192.0.2.53:5353 (default off)")
	fs.Var(&c.allow, "xfr-allow", "prefixes that may transfer the zones (repeat, or separate with commas); everyone else is REFUSED; required with --xfr")
	fs.StringVar(&c.keysFile, "xfr-tsig-keys", "", "`FILE` of TSIG keys, one \"name hmac-sha256 base64-secret [prefix ...]\" a line: every transfer request must be signed with one of them, and NOTIFYs are signed with the first by name without prefixes; a key with prefixes is a postmaster's: it transfers only the cut zones of the delegations inside them (docs/delegation.md)")
	fs.Var(&c.notifyCuts, "xfr-notify-delegation", "`PREFIX=HOST:PORT`: a postmaster's server told of every new serial of the cut zones of the delegations inside PREFIX (repeat, or separate with commas)")
	fs.Var(&c.zones, "xfr-zones", "zones offered for transfer (repeat, or separate with commas): relay, verp, sender, or @ for the apex with all three (default relay,verp; the sender zone can be large, see docs/operations.md)")
	fs.Var(&c.notify, "xfr-notify", "secondaries (host:port) to send a NOTIFY for every new serial (repeat, or separate with commas)")
	fs.DurationVar(&c.interval, "xfr-interval", time.Second, "least time between two written-out versions of the zones: changes within it share one NOTIFY (writing out also waits as long as the last write took)")
	fs.IntVar(&c.maxRecords, "xfr-max-names", 20_000_000, "most owner names a transferable zone may have; a larger zone is REFUSED (and logged)")
	fs.IntVar(&c.maxMember, "xfr-max-member", 256, "most addresses one CIDR member may expand to in the sender and VERP zones, whose names carry a full address; an entity with a larger member makes those zones REFUSED")
}

func (c *xfrConfig) validate() []error {
	if c.listen == "" {
		return nil
	}
	var errs []error
	if _, err := netip.ParseAddrPort(c.listen); err != nil {
		errs = append(errs, fmt.Errorf("--xfr %q: want ip:port", c.listen))
	}
	if len(c.allow) == 0 {
		errs = append(errs, fmt.Errorf("--xfr needs --xfr-allow: the addresses of your secondaries"))
	}
	if _, err := c.prefixes(); err != nil {
		errs = append(errs, err)
	}
	for _, n := range c.notify {
		if _, err := netip.ParseAddrPort(n); err != nil {
			errs = append(errs, fmt.Errorf("--xfr-notify %q: want ip:port", n))
		}
	}
	if c.interval <= 0 {
		errs = append(errs, fmt.Errorf("--xfr-interval must be positive"))
	}
	if _, err := c.cutNotifies(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

func (c *xfrConfig) prefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.allow {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("--xfr-allow %q: want a prefix or an address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// cutNotifies reads --xfr-notify-delegation.
func (c *xfrConfig) cutNotifies() ([]zone.CutNotify, error) {
	var out []zone.CutNotify
	for _, s := range c.notifyCuts {
		p, target, _ := strings.Cut(s, "=")
		prefix, err := netip.ParsePrefix(p)
		if _, aerr := netip.ParseAddrPort(target); err != nil || aerr != nil {
			return nil, fmt.Errorf("--xfr-notify-delegation %q: want prefix=ip:port", s)
		}
		out = append(out, zone.CutNotify{Prefix: prefix.Masked(), Target: target})
	}
	return out, nil
}

// readTSIGKeys reads "name algorithm secret [prefix ...]" lines (# starts
// a comment): the keys, and the prefixes of the scoped ones.
func readTSIGKeys(path string) (map[string]string, map[string][]netip.Prefix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading TSIG keys: %w", err)
	}
	defer f.Close()
	keys, scopes := map[string]string{}, map[string][]netip.Prefix{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 3 || !strings.EqualFold(strings.TrimSuffix(fields[1], "."), "hmac-sha256") {
			return nil, nil, fmt.Errorf("%s line %d: want \"name hmac-sha256 base64-secret [prefix ...]\"", path, n)
		}
		name := dns.CanonicalName(fields[0])
		if _, dup := keys[name]; dup {
			return nil, nil, fmt.Errorf("%s line %d: key %s given twice: one line a key, its prefixes on that line", path, n, name)
		}
		keys[name] = fields[2]
		for _, s := range fields[3:] {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, nil, fmt.Errorf("%s line %d: scope %q: want a prefix", path, n, s)
			}
			scopes[name] = append(scopes[name], p.Masked())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading TSIG keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("%s holds no TSIG key", path)
	}
	return keys, scopes, nil
}

// startXFR starts zone transfer out when --xfr is set and returns its
// address ("" when off).
func (n *node) startXFR(ctx context.Context, cfg *serveConfig, srv *zone.Server) (string, error) {
	c := &cfg.xfr
	if c.listen == "" {
		return "", nil
	}
	allow, err := c.prefixes()
	if err != nil {
		return "", err
	}
	var keys map[string]string
	var scopes map[string][]netip.Prefix
	if c.keysFile != "" {
		if keys, scopes, err = readTSIGKeys(c.keysFile); err != nil {
			return "", err
		}
	}
	cuts, err := c.cutNotifies()
	if err != nil {
		return "", err
	}
	x, err := srv.NewXFR(zone.XFRConfig{Listen: c.listen, Allow: allow, Keys: keys, Scopes: scopes, NotifyCuts: cuts, Zones: c.zones, Notify: c.notify,
		Interval: c.interval, MaxRecords: c.maxRecords, MaxMember: c.maxMember, Logger: n.log})
	if err != nil {
		return "", fmt.Errorf("zone transfer: %w", err)
	}
	if err := x.Start(ctx); err != nil {
		return "", err
	}
	n.onStop(func(ctx context.Context) error {
		if err := x.Shutdown(ctx); err != nil {
			return fmt.Errorf("shutting down zone transfer: %w", err)
		}
		return nil
	})
	return x.Addr().String(), nil
}
