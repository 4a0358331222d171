package policy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// Answer is what the whitelist said about one query name.
type Answer struct {
	// Listed is true when the name has an A record inside 127.0.0.0/8.
	Listed bool
	// Code is the first such A record (for example 127.0.2.2), when listed.
	Code netip.Addr
	// Cached is true when the answer came from the cache.
	Cached bool
}

// ErrLookup wraps every failure to get an answer from the whitelist:
// timeouts, refused connections, SERVFAIL, REFUSED and malformed replies.
var ErrLookup = errors.New("whitelist lookup failed")

// loopback8 is where DNSBL-style list answers live (RFC 5782 §2.3).
var loopback8 = netip.MustParsePrefix("127.0.0.0/8")

// resolver asks the whitelist server A questions, over UDP with a bounded
// number of attempts and over TCP when a reply is truncated, and caches the
// answers within their TTLs.
type resolver struct {
	server   string
	timeout  time.Duration
	attempts int
	maxTTL   time.Duration
	udp, tcp *dns.Client
	cache    *cache
	now      func() time.Time
	m        *metrics
}

func newResolver(cfg *Config, m *metrics) *resolver {
	return &resolver{
		server:   cfg.DNSServer,
		timeout:  cfg.DNSTimeout,
		attempts: cfg.DNSAttempts,
		maxTTL:   cfg.CacheMaxTTL,
		udp:      &dns.Client{Net: "udp", Timeout: cfg.DNSTimeout, UDPSize: 1232},
		tcp:      &dns.Client{Net: "tcp", Timeout: cfg.DNSTimeout},
		cache:    newCache(cfg.CacheSize),
		now:      time.Now,
		m:        m,
	}
}

// lookup answers whether name is listed, from the cache when it can.
func (r *resolver) lookup(ctx context.Context, name string) (Answer, error) {
	name = dns.CanonicalName(name)
	if ans, ok := r.cache.get(name, r.now()); ok {
		r.m.cacheHits.Inc()
		ans.Cached = true
		return ans, nil
	}
	resp, err := r.exchange(ctx, name)
	if err != nil {
		r.m.lookups.WithLabelValues("error").Inc()
		return Answer{}, err
	}
	ans, ttl, err := readAnswer(resp, name)
	if err != nil {
		r.m.lookups.WithLabelValues("error").Inc()
		return Answer{}, err
	}
	r.m.lookups.WithLabelValues(outcome(ans)).Inc()
	r.cache.put(name, ans, min(ttl, r.maxTTL), r.now())
	return ans, nil
}

func outcome(a Answer) string {
	if a.Listed {
		return "listed"
	}
	return "not_listed"
}

// exchange sends the question over UDP, up to attempts times on timeouts,
// and again over TCP when the reply is truncated.
func (r *resolver) exchange(ctx context.Context, name string) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	// RD set: a recursive resolver in front of wlns (to share its cache)
	// answers only questions that ask for recursion, and REFUSED to the
	// rest; wlns itself ignores the bit.
	q.RecursionDesired = true
	q.SetEdns0(1232, false)
	var lastErr error
	for i := 0; i < r.attempts; i++ {
		resp, err := r.once(ctx, r.udp, q)
		if err == nil && resp.Truncated {
			resp, err = r.once(ctx, r.tcp, q)
		}
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if ctx.Err() != nil || !isTimeout(err) {
			break
		}
	}
	return nil, fmt.Errorf("%w: asking %s for %s: %w", ErrLookup, r.server, name, lastErr)
}

// once makes one exchange bounded by the per-attempt timeout.
func (r *resolver) once(ctx context.Context, c *dns.Client, q *dns.Msg) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	q.Id = dns.Id()
	resp, _, err := c.ExchangeContext(ctx, q, r.server)
	return resp, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// readAnswer interprets a reply: listed with the smallest A TTL, or not
// listed with the negative TTL (RFC 2308: the smaller of the SOA's TTL and
// its MINIMUM; no SOA, no caching).
func readAnswer(resp *dns.Msg, name string) (Answer, time.Duration, error) {
	switch resp.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	default:
		return Answer{}, 0, fmt.Errorf("%w: %s for %s", ErrLookup, dns.RcodeToString[resp.Rcode], name)
	}
	if isReferral(resp) {
		return Answer{}, 0, fmt.Errorf("%w: %s is delegated (a referral, not an answer): point --dns at a recursive resolver", ErrLookup, name)
	}
	var ans Answer
	var ttl uint32
	for _, rr := range resp.Answer {
		a, ok := rr.(*dns.A)
		if !ok || !sameName(a.Hdr.Name, name) {
			continue
		}
		ip, ok := netip.AddrFromSlice(a.A.To4())
		if !ok || !loopback8.Contains(ip) {
			continue
		}
		if !ans.Listed || a.Hdr.Ttl < ttl {
			ttl = a.Hdr.Ttl
		}
		if !ans.Listed {
			ans.Listed, ans.Code = true, ip
		}
	}
	if ans.Listed {
		return ans, time.Duration(ttl) * time.Second, nil
	}
	return ans, negativeTTL(resp), nil
}

// sameName compares two names as DNS does (RFC 4343): label by label in
// wire form, ASCII letters case-insensitively, every other octet exactly.
// Comparing presentation text is wrong: miekg/dns writes an answer's owner
// name with its own escapes (o\'brien, \ for a space, $ bare) which need
// not be the ones the question was written with.
func sameName(a, b string) bool {
	var wa, wb [256]byte
	na, errA := dns.PackDomainName(dns.Fqdn(a), wa[:], 0, nil, false)
	nb, errB := dns.PackDomainName(dns.Fqdn(b), wb[:], 0, nil, false)
	if errA != nil || errB != nil || na != nb {
		return false
	}
	for i := 0; i < na; i++ {
		if lowerASCII(wa[i]) != lowerASCII(wb[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func negativeTTL(resp *dns.Msg) time.Duration {
	for _, rr := range resp.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
		}
	}
	return 0
}

// isReferral reports whether resp hands the question to other servers (a
// prefix delegated to its postmaster's name servers, docs/delegation.md):
// no answer, not authoritative, NS records in the authority section. It
// says nothing about the sender, so it is a lookup failure, not "not
// listed".
func isReferral(resp *dns.Msg) bool {
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) > 0 || resp.Authoritative {
		return false
	}
	for _, rr := range resp.Ns {
		if rr.Header().Rrtype == dns.TypeNS {
			return true
		}
	}
	return false
}
