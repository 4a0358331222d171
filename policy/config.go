package policy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/wlns/wlns/record"
)

// Config is the policy service's configuration. Zero fields take the
// defaults named on each; Validate checks the result.
type Config struct {
	// Apex is the whitelist zone, for example "wl.example.org". Required.
	Apex string
	// DNSServer is the wlns DNS server, host:port. Required.
	DNSServer string
	// DNSTimeout bounds each DNS attempt. Default 2s.
	DNSTimeout time.Duration
	// DNSAttempts is how many times a query is sent over UDP when no reply
	// comes. Default 2.
	DNSAttempts int
	// CacheSize is the most answers kept. Default 10000; negative disables
	// the cache.
	CacheSize int
	// CacheMaxTTL caps how long an answer is kept, below its DNS TTL.
	// Default 5m.
	CacheMaxTTL time.Duration
	// Listed is the action for a listed sender or VERP list server: "DUNNO"
	// (default: let the other restrictions decide), "OK" (accept) or
	// "PREPEND" (add an X-Wlns header and let the others decide).
	Listed string
	// WhyURL, when set, is appended to the deferral text ("; see <URL>").
	// "{sender}" and "{client}" in it are replaced by the URL-escaped
	// sender address and client IP.
	WhyURL string
	// ReportOnly never defers: what would be deferred is logged, counted as
	// would_defer and answered DUNNO.
	ReportOnly bool
	// FailClosed answers "451 4.3.0 whitelist temporarily unavailable" when
	// the whitelist cannot be asked; the default (false) answers DUNNO.
	FailClosed bool
	// PassNetworks are client networks that pass without a lookup.
	PassNetworks []netip.Prefix
	// Limits bounds request sizes.
	Limits Limits
	// IdleTimeout closes a connection with no request for this long.
	// Default 10m (Postfix's smtpd_policy_service_max_idle is 300s).
	IdleTimeout time.Duration
	// MaxConns bounds concurrent connections; more are closed at once.
	// Default 512.
	MaxConns int
	// Challenger is told about each deferral (an APIChallenger asks wlns
	// to challenge the sender); default: nobody, no challenge is asked for.
	Challenger Challenger
}

// Actions for a listed sender.
const (
	ListedDunno   = "DUNNO"
	ListedOK      = "OK"
	ListedPrepend = "PREPEND"
)

// Fixed replies.
const (
	// DeferText is the deferral for a sender that is not listed.
	DeferText = "451 4.7.1 sender not yet validated in global whitelist"
	// RejectText starts the reply for a sender no whitelist entry can hold;
	// the reason follows.
	RejectText = "550 5.1.7 sender address cannot be whitelisted"
	// UnavailableText is the fail-closed reply when the whitelist cannot
	// be asked.
	UnavailableText = "451 4.3.0 whitelist temporarily unavailable"
	// HeaderName is the header PREPEND adds.
	HeaderName = "X-Wlns"
)

// WithDefaults returns a copy of c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.DNSTimeout <= 0 {
		c.DNSTimeout = 2 * time.Second
	}
	if c.DNSAttempts <= 0 {
		c.DNSAttempts = 2
	}
	if c.CacheSize == 0 {
		c.CacheSize = 10000
	}
	if c.CacheMaxTTL <= 0 {
		c.CacheMaxTTL = 5 * time.Minute
	}
	if c.Listed == "" {
		c.Listed = ListedDunno
	}
	c.Listed = strings.ToUpper(c.Listed)
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 10 * time.Minute
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 512
	}
	if c.Challenger == nil {
		c.Challenger = noChallenges{}
	}
	c.Limits = c.Limits.withDefaults()
	return c
}

// Validate reports what is wrong with a configuration (after WithDefaults).
func (c *Config) Validate() error {
	var errs []error
	if strings.Trim(c.Apex, ".") == "" {
		errs = append(errs, errors.New("the whitelist apex is required"))
	}
	if _, _, err := net.SplitHostPort(c.DNSServer); err != nil {
		errs = append(errs, fmt.Errorf("DNS server %q: want host:port: %w", c.DNSServer, err))
	}
	switch c.Listed {
	case ListedDunno, ListedOK, ListedPrepend:
	default:
		errs = append(errs, fmt.Errorf("listed action %q: want DUNNO, OK or PREPEND", c.Listed))
	}
	if strings.ContainsAny(c.WhyURL, " \r\n\t") {
		errs = append(errs, fmt.Errorf("why URL %q must not contain spaces or line breaks", c.WhyURL))
	}
	if len(DeferText)+len(c.WhyURL)+len("; see ") > 200 {
		errs = append(errs, fmt.Errorf("why URL is %d bytes: keep it short, Postfix prepends its own text", len(c.WhyURL)))
	}
	return errors.Join(errs...)
}

// ParseNetworks reads a comma- or space-separated list of addresses and
// CIDR prefixes ("127.0.0.0/8, ::1/128, 192.0.2.4").
func ParseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := record.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("reading pass networks: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}
