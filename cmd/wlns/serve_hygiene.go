package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/wlns/wlns/zone"
)

// hygieneConfig holds the flags of what operators expect of an
// authoritative server on the open internet: response rate limiting, NSID
// and DNS cookies.
type hygieneConfig struct {
	rate, nodata, errors, slip int
	v4, v6, table              int
	exempt                     listFlag
	nsid                       string
	// cookieFile holds the cookie base secret; "" for <data>/cookie.secret.
	cookieFile string
}

func (c *hygieneConfig) declare(fs *flag.FlagSet) {
	fs.IntVar(&c.rate, "rrl-rate", 0, "response rate limiting: UDP answers per second for one name to one client prefix (0: off; 20-50 suits a public mirror); beyond it answers are dropped, every --rrl-slip-th sent truncated")
	fs.IntVar(&c.nodata, "rrl-nodata-rate", 0, "RRL rate of NXDOMAIN and NODATA answers for one name to one prefix (default --rrl-rate)")
	fs.IntVar(&c.errors, "rrl-error-rate", 0, "RRL rate of REFUSED, FORMERR and NOTIMP answers to one prefix, any name (default --rrl-rate)")
	fs.IntVar(&c.slip, "rrl-slip", zone.DefaultRRLSlip, "send every Nth limited answer truncated, so a real resolver retries over TCP (1: all, -1: none)")
	fs.IntVar(&c.v4, "rrl-ipv4-prefix", 24, "IPv4 prefix length of the clients that share an RRL bucket")
	fs.IntVar(&c.v6, "rrl-ipv6-prefix", 56, "IPv6 prefix length of the clients that share an RRL bucket")
	fs.IntVar(&c.table, "rrl-table", zone.DefaultRRLTable, "RRL buckets kept (24 bytes each)")
	fs.Var(&c.exempt, "rrl-exempt", "prefixes never rate limited (repeat, or separate with commas), e.g. your own resolvers and monitoring")
	fs.StringVar(&c.cookieFile, "cookie-secret-file", "", "file holding the DNS cookie secret (RFC 7873/9018; at least 16 bytes); give every mirror the same file so each accepts the others' cookies (default: <data>/cookie.secret, made on first start; \"none\": cookies off)")
	fs.StringVar(&c.nsid, "nsid", "", "NSID (RFC 5001) this node answers to queries that ask, so operators can tell which mirror answered (default: the node ID; \"none\": not sent)")
}

func (c *hygieneConfig) validate() []error {
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

func (c *hygieneConfig) exemptPrefixes() ([]netip.Prefix, error) {
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
func (c *hygieneConfig) zone() zone.RRL {
	exempt, _ := c.exemptPrefixes()
	return zone.RRL{Responses: c.rate, NoData: c.nodata, Errors: c.errors, Slip: c.slip,
		IPv4Prefix: c.v4, IPv6Prefix: c.v6, Exempt: exempt, Table: c.table}
}

// nsidFor is the NSID to send: --nsid, the node ID by default, none for
// "none".
func (c *hygieneConfig) nsidFor(nodeID string) string {
	switch c.nsid {
	case "":
		return nodeID
	case "none":
		return ""
	}
	return c.nsid
}

// cookieSecret reads the DNS cookie base secret: --cookie-secret-file, or
// <data>/cookie.secret, made with 32 random bytes on first start. nil
// with "none".
func (c *hygieneConfig) cookieSecret(dataDir string) ([]byte, error) {
	path := c.cookieFile
	switch path {
	case "none":
		return nil, nil
	case "":
		path = filepath.Join(dataDir, "cookie.secret")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			var b [32]byte
			if _, err := rand.Read(b[:]); err != nil {
				return nil, fmt.Errorf("making the DNS cookie secret: %w", err)
			}
			if err := writeFileAtomic(path, []byte(hex.EncodeToString(b[:])+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("making the DNS cookie secret: %w", err)
			}
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the DNS cookie secret: %w", err)
	}
	secret := bytes.TrimSpace(b)
	if len(secret) < 16 {
		return nil, fmt.Errorf("DNS cookie secret %s: %d bytes, at least 16 needed", path, len(secret))
	}
	return secret, nil
}
