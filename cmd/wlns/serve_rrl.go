package main

import (
	"flag"
	"fmt"
	"net/netip"

	"github.com/wlns/wlns/zone"
)

// rrlConfig holds the response-rate-limiting and NSID flags of serve.
type rrlConfig struct {
	rate, nodata, errors, slip int
	v4, v6, table              int
	exempt                     listFlag
	nsid                       string
}

func (c *rrlConfig) declare(fs *flag.FlagSet) {
	fs.IntVar(&c.rate, "rrl-rate", 0, "response rate limiting: UDP answers per second for one name to one client prefix (0: off; 20-50 suits a public mirror); beyond it answers are dropped, every --rrl-slip-th sent truncated")
	fs.IntVar(&c.nodata, "rrl-nodata-rate", 0, "RRL rate of NXDOMAIN and NODATA answers for one name to one prefix (default --rrl-rate)")
	fs.IntVar(&c.errors, "rrl-error-rate", 0, "RRL rate of REFUSED, FORMERR and NOTIMP answers to one prefix, any name (default --rrl-rate)")
	fs.IntVar(&c.slip, "rrl-slip", zone.DefaultRRLSlip, "send every Nth limited answer truncated, so a real resolver retries over TCP (1: all, -1: none)")
	fs.IntVar(&c.v4, "rrl-ipv4-prefix", 24, "IPv4 prefix length of the clients that share an RRL bucket")
	fs.IntVar(&c.v6, "rrl-ipv6-prefix", 56, "IPv6 prefix length of the clients that share an RRL bucket")
	fs.IntVar(&c.table, "rrl-table", zone.DefaultRRLTable, "RRL buckets kept (24 bytes each)")
	fs.Var(&c.exempt, "rrl-exempt", "prefixes never rate limited (repeat, or separate with commas), e.g. your own resolvers and monitoring")
	fs.StringVar(&c.nsid, "nsid", "", "NSID (RFC 5001) this node answers to queries that ask, so operators can tell which mirror answered (default: the node ID; \"none\": not sent)")
}

func (c *rrlConfig) validate() []error {
	var errs []error
	if _, err := c.exemptPrefixes(); err != nil {
		errs = append(errs, err)
	}
	if c.rate < 0 || c.nodata < 0 || c.errors < 0 {
		errs = append(errs, fmt.Errorf("--rrl-rate, --rrl-nodata-rate and --rrl-error-rate must not be negative"))
	}
	if (c.nodata > 0 || c.errors > 0) && c.rate == 0 {
		errs = append(errs, fmt.Errorf("--rrl-nodata-rate and --rrl-error-rate need --rrl-rate"))
	}
	if len(c.nsid) > 128 {
		errs = append(errs, fmt.Errorf("--nsid of %d bytes: at most 128", len(c.nsid)))
	}
	return errs
}

func (c *rrlConfig) exemptPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.exempt {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("--rrl-exempt %q: want a prefix or an address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// zone returns the DNS server's RRL settings (validated already).
func (c *rrlConfig) zone() zone.RRL {
	exempt, _ := c.exemptPrefixes()
	return zone.RRL{Responses: c.rate, NoData: c.nodata, Errors: c.errors, Slip: c.slip,
		IPv4Prefix: c.v4, IPv6Prefix: c.v6, Exempt: exempt, Table: c.table}
}

// nsidFor is the NSID to send: --nsid, the node ID by default, none for
// "none".
func (c *rrlConfig) nsidFor(nodeID string) string {
	switch c.nsid {
	case "":
		return nodeID
	case "none":
		return ""
	}
	return c.nsid
}
