package childzone

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Config says which cuts a node serves and where it pulls them from.
type Config struct {
	// Apex is the whitelist zone's apex (wl.example.org).
	Apex string
	// Prefixes are the delegated prefixes served: each gives its cut in the
	// relay, sender and VERP trees.
	Prefixes []netip.Prefix
	// Primaries are the cluster's transfer ports (host:port), tried in order.
	Primaries []string
	// KeyName and KeySecret are the postmaster's TSIG key (hmac-sha256);
	// empty name: unsigned requests.
	KeyName, KeySecret string
	// Dir holds the zone copies (one file per cut zone).
	Dir string
	// Refresh, Retry and Expire cap the SOA's timers (0: the SOA's own).
	Refresh, Retry, Expire time.Duration
	// Timeout bounds one SOA query or transfer; default 30 s.
	Timeout time.Duration
	// Logger receives refresh and NOTIFY events; default: discard.
	Logger *slog.Logger
	// Registerer takes the metrics; nil: none.
	Registerer prometheus.Registerer
	// Now is the clock that ages the zones; default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	c.Apex = strings.ToLower(dns.Fqdn(c.Apex))
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.KeyName != "" {
		c.KeyName = dns.CanonicalName(c.KeyName)
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if len(c.Prefixes) == 0 {
		errs = append(errs, errors.New("no prefix to serve"))
	}
	if len(c.Primaries) == 0 {
		errs = append(errs, errors.New("no primary (the cluster's transfer port) to pull the zones from"))
	}
	for _, p := range c.Primaries {
		if _, err := netip.ParseAddrPort(p); err != nil {
			errs = append(errs, fmt.Errorf("primary %q: want ip:port", p))
		}
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("no folder for the zone copies"))
	}
	return errors.Join(errs...)
}
