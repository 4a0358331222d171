package verify

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// Defaults of Config.
const (
	// DefaultTTL is how long a challenge token stays valid.
	DefaultTTL = 7 * 24 * time.Hour
	// DefaultSuppressFor is how long a forgery report stops new challenges
	// for the same sender and relay entity.
	DefaultSuppressFor = 30 * 24 * time.Hour
	// DefaultRelayTimeout bounds one delivery to the relay.
	DefaultRelayTimeout = 20 * time.Second
	// DefaultPerSender, DefaultPerDomainRelay, DefaultPerDomain and
	// DefaultPerEntity are the challenges that may be opened in any
	// LimitWindow: to one address through all relays, to one domain
	// through one relay entity, to one domain through all relays (a
	// ceiling 100 relays' worth above the per-relay limit, so one relay
	// flooding a domain with forged senders locks out nobody at that
	// domain through other relays), and through one relay entity.
	DefaultPerSender      = 3
	DefaultPerDomainRelay = 50
	DefaultPerDomain      = 5000
	DefaultPerEntity      = 500
	// LimitWindow is the sliding window the limits count in.
	LimitWindow = 24 * time.Hour
	// ResendAfter is how long after a failed send a later Request for the
	// same pair may try again on the node that opened the challenge.
	ResendAfter = time.Hour
	// MaxTTL and MaxSuppressFor are the longest the commands carry.
	MaxTTL         = command.MaxChallengeTTL * time.Second
	MaxSuppressFor = command.MaxSuppressFor * time.Second
)

// TLS modes of Relay.
const (
	// TLSNone speaks plain SMTP.
	TLSNone = "none"
	// TLSStartTLS upgrades with STARTTLS and fails if the relay cannot.
	TLSStartTLS = "starttls"
	// TLSImplicit connects with TLS from the first byte (port 465).
	TLSImplicit = "tls"
)

// ErrNotConfigured means the node has no verification configuration:
// BaseURL, MailDomain and Relay.Addr are all empty.
var ErrNotConfigured = errors.New("verification is not configured on this node")

// Relay is the SMTP server challenge mail is handed to.
type Relay struct {
	// Addr is host:port of the relay; required.
	Addr string
	// TLS is "none", "starttls" or "tls" (implicit); default "starttls"
	// unless the host is a loopback address, then "none".
	TLS string
	// InsecureSkipVerify skips the relay's certificate check (test relays).
	InsecureSkipVerify bool
	// CAFile is a PEM bundle that signs the relay's certificate, instead of
	// the system roots.
	CAFile string
	// Username and Password authenticate with AUTH PLAIN; only over TLS,
	// unless the relay is on a loopback address.
	Username, Password string
	// HELO is the name this node greets with; default the host name.
	HELO string
	// Timeout bounds one delivery, from dial to the reply to the final dot;
	// default 20s.
	Timeout time.Duration
}

// Limits are how many challenges may be opened in any 24 hours (a sliding
// window); zero takes the default, a negative value means no limit.
type Limits struct {
	// PerSender caps challenges to one address, through all relays
	// (default 3).
	PerSender int
	// PerDomainRelay caps challenges to one sender domain through one
	// relay entity (default 50).
	PerDomainRelay int
	// PerDomain caps challenges to one sender domain through all relays
	// (default 5000).
	PerDomain int
	// PerEntity caps challenges requested through one relay entity
	// (default 500).
	PerEntity int
}

// Config configures a Service. Zero values take the documented defaults.
type Config struct {
	// BaseURL is the public base of the confirmation pages, e.g.
	// https://wl.example.org; links are BaseURL+"/verify/...". Required.
	BaseURL string
	// MailDomain is the domain of the reply addresses
	// (confirm-TOKEN@MailDomain); required.
	MailDomain string
	// From is the header From of challenge mail; default
	// "wlns verification <noreply@MailDomain>".
	From string
	// Relay is where challenge mail is sent; Relay.Addr is required.
	Relay Relay
	// TTL is how long a token stays valid; default 7 days.
	TTL time.Duration
	// Limits are the rate limits.
	Limits Limits
	// Postmaster is where mail to postmaster@MailDomain (RFC 5321
	// §4.5.1: every mail domain has one) received by the inbound SMTP
	// service is forwarded, through Relay; empty: the inbound service
	// refuses it (550) and start-up warns.
	Postmaster string
	// NeverChallenge are role local parts (before any +extension, any
	// case) never challenged, besides the built-in rules (postmaster,
	// abuse, noreply-like, list and bounce addresses...); nil takes
	// DefaultNeverChallenge, an empty non-nil slice none.
	NeverChallenge []string
	// AllowUnregistered lets relays that are neither registered nor a
	// group request challenges. Off by default: only registered relays
	// and groups may (no backscatter from random hosts).
	AllowUnregistered bool
	// SuppressFor is how long a forgery report stops new challenges for
	// the pair; default 30 days.
	SuppressFor time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics; nil: none.
	Registerer prometheus.Registerer
}

// Configured reports whether any of the required settings is given: a node
// with none of them has verification off.
func (c *Config) Configured() bool {
	return c.BaseURL != "" || c.MailDomain != "" || c.Relay.Addr != ""
}

func (c *Config) setDefaults() {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.MailDomain = strings.TrimSuffix(strings.ToLower(c.MailDomain), ".")
	if c.From == "" {
		c.From = "wlns verification <noreply@" + c.MailDomain + ">"
	}
	if c.NeverChallenge == nil {
		c.NeverChallenge = DefaultNeverChallenge
	}
	c.TTL = orDuration(c.TTL, DefaultTTL)
	c.SuppressFor = orDuration(c.SuppressFor, DefaultSuppressFor)
	c.Relay.Timeout = orDuration(c.Relay.Timeout, DefaultRelayTimeout)
	c.Limits.PerSender = orLimit(c.Limits.PerSender, DefaultPerSender)
	c.Limits.PerDomainRelay = orLimit(c.Limits.PerDomainRelay, DefaultPerDomainRelay)
	c.Limits.PerDomain = orLimit(c.Limits.PerDomain, DefaultPerDomain)
	c.Limits.PerEntity = orLimit(c.Limits.PerEntity, DefaultPerEntity)
	if c.Relay.TLS == "" {
		c.Relay.TLS = TLSStartTLS
		if loopbackHost(c.Relay.Addr) {
			c.Relay.TLS = TLSNone
		}
	}
	if c.Relay.HELO == "" {
		c.Relay.HELO, _ = os.Hostname() // empty: go-smtp greets as localhost
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func orLimit(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0 // the command's "no limit"
	}
	return n
}

// validate checks a defaulted Config.
func (c *Config) validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("invalid base URL %q: want an absolute http(s) URL without query", c.BaseURL)
	}
	if d, err := record.NormalizeDomain(c.MailDomain); err != nil || !strings.Contains(d, ".") {
		return fmt.Errorf("invalid mail domain %q: want a domain name such as wl.example.org", c.MailDomain)
	}
	if c.TTL > MaxTTL {
		return fmt.Errorf("token TTL %s is longer than %s", c.TTL, MaxTTL)
	}
	if c.SuppressFor > MaxSuppressFor {
		return fmt.Errorf("forgery suppression %s is longer than %s", c.SuppressFor, MaxSuppressFor)
	}
	if c.Postmaster != "" {
		pm, err := record.NormalizeSender(c.Postmaster)
		switch {
		case err != nil || !strings.Contains(pm, "@"):
			return fmt.Errorf("invalid postmaster address %q: want user@domain", c.Postmaster)
		case strings.HasSuffix(pm, "@"+c.MailDomain):
			return fmt.Errorf("postmaster address %s is at the mail domain %s itself: it would loop", c.Postmaster, c.MailDomain)
		}
	}
	if err := headerSafe("From", c.From); err != nil {
		return err
	}
	return c.Relay.validate()
}

func (r *Relay) validate() error {
	host, port, err := net.SplitHostPort(r.Addr)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("invalid relay address %q: want host:port", r.Addr)
	}
	switch r.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return fmt.Errorf("invalid relay TLS mode %q: want none, starttls or tls", r.TLS)
	}
	if r.Username != "" && r.TLS == TLSNone && !loopbackHost(r.Addr) {
		return fmt.Errorf("relay %s: AUTH needs TLS (starttls or tls) unless the relay is on loopback", r.Addr)
	}
	if strings.ContainsAny(r.HELO, " \r\n") {
		return fmt.Errorf("invalid HELO name %q", r.HELO)
	}
	return nil
}

// loopbackHost reports whether addr's host is a loopback address or
// "localhost".
func loopbackHost(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// headerSafe refuses a header value that could inject header lines.
func headerSafe(name, v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("invalid %s %q: contains a line break", name, v)
	}
	return nil
}
