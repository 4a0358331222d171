package zone

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/activity"
)

// Defaults applied by New to fields left zero.
const (
	DefaultApex        = "wl.example.org"
	DefaultListen      = "127.0.0.1:53"
	DefaultTTL         = 300
	DefaultNegativeTTL = 60
	// DefaultNS is only right for a development server: a real deployment
	// names the servers resolvers can reach, outside the apex so no glue is
	// needed.
	DefaultNS = "localhost."
)

// Config configures the DNS server.
type Config struct {
	// Apex is the whitelist's domain, e.g. "wl.example.org" (default).
	Apex string
	// Listen is host:port for both UDP and TCP, e.g. "192.0.2.53:53" or
	// "[::1]:5300"; port 0 picks a free port (tests). The host must be an
	// IP literal. A wildcard (0.0.0.0:53, [::]:53) serves every local
	// address; on Linux replies leave from the address each query came to
	// (IP_PKTINFO), elsewhere a wildcard is refused. Default 127.0.0.1:53.
	Listen string
	// TLSListen is host:port for DNS over TLS (RFC 7858, normally port
	// 853); empty: off. Queries over TLS get the same answers as over TCP,
	// from the same pool of stream connections.
	TLSListen string
	// TLS is the server's TLS configuration for TLSListen: its certificate
	// (certfile reloads it), TLS 1.2 or later.
	TLS *tls.Config
	// RRL limits the rate of UDP answers per client prefix; its zero value
	// is off.
	RRL RRL
	// NSID identifies this server in answers to queries that ask for it
	// (RFC 5001), so an operator can tell which mirror answered; at most
	// 128 bytes; empty: not sent.
	NSID string
	// CookieSecret is the base secret of DNS server cookies (RFC 7873 and
	// 9018), shared by every mirror; at least 16 bytes; empty: off.
	CookieSecret []byte
	// Readers is the number of UDP reader goroutines, each with its own
	// SO_REUSEPORT socket; 0 means runtime.NumCPU().
	Readers int
	// TTL is the TTL of positive answers, in seconds (default 300).
	TTL uint32
	// NegativeTTL is the SOA minimum and the TTL of negative answers, in
	// seconds (default 60, so a sender who just confirmed passes on the
	// MTA's retry).
	NegativeTTL uint32
	// NS are the fully qualified names of the zone's name servers; the first
	// is the SOA MNAME. A name inside the zone is given with its address,
	// "ns1.wl.example.org=192.0.2.53" (repeat the entry for another
	// address): its A/AAAA records are answered and sent as glue with the
	// NS records; a name inside the zone without one is refused. Default
	// ["localhost."], for development only.
	NS []string
	// Hostmaster is the SOA RNAME, as a mailbox ("hostmaster@wl.example.org")
	// or in DNS form ("hostmaster.wl.example.org."). Default
	// hostmaster@<apex>.
	Hostmaster string
	// Logger receives start-up, shutdown and error messages; query names are
	// never logged. Default: discard.
	Logger *slog.Logger
	// Registerer receives the server's metrics; nil means none.
	Registerer prometheus.Registerer
	// Withdrawn, while it holds true, makes the server answer REFUSED to
	// every well-formed query, so resolvers ask another mirror at once (a
	// node too stale to be trusted). The caller owns and flips it; nil
	// means never withdrawn. It costs one atomic load per query.
	Withdrawn *atomic.Bool
	// Answers counts the positive answers per entity and day (one atomic
	// add each); nil means not counted.
	Answers *activity.Counter
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Apex == "" {
		c.Apex = DefaultApex
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Readers == 0 {
		c.Readers = runtime.NumCPU()
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.NegativeTTL == 0 {
		c.NegativeTTL = DefaultNegativeTTL
	}
	if len(c.NS) == 0 {
		c.NS = []string{DefaultNS}
	}
	if c.Hostmaster == "" {
		c.Hostmaster = "hostmaster@" + c.Apex
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the configuration as New will use it (with defaults for
// zero fields) and says what is wrong.
func (c *Config) Validate() error {
	d := c.withDefaults()
	var errs []error
	if _, err := d.listenAddr(); err != nil {
		errs = append(errs, err)
	}
	if d.TLSListen != "" {
		if _, err := netip.ParseAddrPort(d.TLSListen); err != nil {
			errs = append(errs, fmt.Errorf("dns over tls listen address %q: want ip:port: %w", d.TLSListen, err))
		}
		if d.TLS == nil {
			errs = append(errs, errors.New("dns over tls needs a certificate"))
		}
	}
	if err := d.RRL.validate(); err != nil {
		errs = append(errs, err)
	}
	if d.Readers < 0 || d.Readers > 1024 {
		errs = append(errs, fmt.Errorf("dns readers %d: want 0 (one per CPU) to 1024", d.Readers))
	}
	if _, err := NewResponder(d.responderConfig()); err != nil {
		errs = append(errs, fmt.Errorf("dns zone: %w", err))
	}
	return errors.Join(errs...)
}

func (c Config) listenAddr() (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(c.Listen)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("dns listen address %q: want ip:port: %w", c.Listen, err)
	}
	if ap.Addr().IsUnspecified() && !wildcardSupported {
		return netip.AddrPort{}, fmt.Errorf("dns listen address %q is a wildcard: name the address to serve on "+
			"(replies must come from the address queried; run one server per address)", c.Listen)
	}
	if ap.Addr().Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("dns listen address %q: zoned addresses are not supported", c.Listen)
	}
	return ap, nil
}

func (c Config) responderConfig() ResponderConfig {
	return ResponderConfig{Apex: c.Apex, TTL: c.TTL, NegativeTTL: c.NegativeTTL, NS: c.NS, Hostmaster: c.Hostmaster,
		Withdrawn: c.Withdrawn, NSID: c.NSID, CookieSecret: c.CookieSecret, Answers: c.Answers}
}
