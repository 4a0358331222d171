package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/raftstore"
	"github.com/wlns/wlns/verify"
)

// defaultSMTP is where the inbound SMTP service listens when verification
// is configured and --smtp is not given. Production uses :25, with an MX
// record for the mail domain naming every mirror.
const defaultSMTP = "127.0.0.1:2525"

// verifyConfig is the verification part of serveConfig: the challenge
// mail, the confirmation pages and the inbound SMTP service.
type verifyConfig struct {
	baseURL, mailDomain, from                      string
	relay, relayTLS, relayUser, relayPasswordFile  string
	relayCA                                        string
	ttl, suppress                                  durationFlag
	requireRegistered                              bool
	perSender, perDomainRelay, perDomain, perRelay int
	neverChallenge, postmaster                     string
	smtp                                           string
	smtpMaxConns                                   int
}

func (c *verifyConfig) declare(fs *flag.FlagSet) {
	c.ttl.d, c.suppress.d = verify.DefaultTTL, verify.DefaultSuppressFor
	fs.StringVar(&c.baseURL, "verify-url", "", "public base URL of the confirmation pages (/verify/... on the HTTP port, e.g. https://wl.example.org); with --verify-mail-domain and --verify-relay turns verification on")
	fs.StringVar(&c.mailDomain, "verify-mail-domain", "", "domain of the reply addresses confirm-TOKEN@DOMAIN; its MX records name every mirror")
	fs.StringVar(&c.from, "verify-from", "", "From header of challenge mail (default: wlns verification <noreply@MAIL-DOMAIN>)")
	fs.StringVar(&c.relay, "verify-relay", "", "SMTP relay (host:port) that challenge mail is handed to")
	fs.StringVar(&c.relayTLS, "verify-relay-tls", "", "relay TLS: none, starttls or tls (default starttls; none for a loopback relay)")
	fs.StringVar(&c.relayUser, "verify-relay-user", "", "AUTH PLAIN user name at the relay")
	fs.StringVar(&c.relayPasswordFile, "verify-relay-password-file", "", "file holding the relay password (with --verify-relay-user)")
	fs.StringVar(&c.relayCA, "verify-relay-ca", "", "PEM file of the CA that signs the relay's certificate (default: system roots)")
	fs.Var(&c.ttl, "verify-ttl", "how long a challenge token stays valid (e.g. 7d, 48h)")
	fs.Var(&c.suppress, "verify-suppress", "how long an \"I did not send this\" report stops new challenges for the sender and relay")
	fs.BoolVar(&c.requireRegistered, "verify-require-registered", true, "challenge only for registered relays and groups (false: any address in an entity)")
	fs.StringVar(&c.postmaster, "verify-postmaster", "", "`ADDRESS` that mail to postmaster@MAIL-DOMAIN is forwarded to through --verify-relay (RFC 5321 §4.5.1; unset: refused with 550)")
	fs.StringVar(&c.neverChallenge, "verify-never-challenge", strings.Join(verify.DefaultNeverChallenge, ","),
		"comma-separated role local parts never challenged, besides postmaster, abuse, noreply-like, list and bounce addresses (empty: none)")
	fs.IntVar(&c.perSender, "verify-limit-sender", verify.DefaultPerSender, "challenges per sender address through all relays in any 24 hours (-1: no limit)")
	fs.IntVar(&c.perDomainRelay, "verify-limit-domain-relay", verify.DefaultPerDomainRelay, "challenges per sender domain through one relay entity in any 24 hours (-1: no limit)")
	fs.IntVar(&c.perDomain, "verify-limit-domain", verify.DefaultPerDomain, "challenges per sender domain through all relays in any 24 hours, a ceiling far above --verify-limit-domain-relay (-1: no limit)")
	fs.IntVar(&c.perRelay, "verify-limit-relay", verify.DefaultPerEntity, "challenges per relay entity in any 24 hours (-1: no limit)")
	fs.StringVar(&c.smtp, "smtp", "", "inbound SMTP listen address for replies to challenges (default "+defaultSMTP+" when verification is on, else off; \"off\" turns it off; production: :25)")
	fs.IntVar(&c.smtpMaxConns, "smtp-max-conns", verify.DefaultInboundMaxConns, "concurrent inbound SMTP connections")
}

// configured reports whether any of the three required flags is set.
func (c *verifyConfig) configured() bool {
	return c.baseURL != "" || c.mailDomain != "" || c.relay != ""
}

// validate reports everything wrong with the verification flags.
func (c *verifyConfig) validate() []error {
	var errs []error
	if !c.configured() {
		for _, f := range []struct{ name, v string }{{"verify-from", c.from}, {"verify-relay-tls", c.relayTLS},
			{"verify-relay-user", c.relayUser}, {"verify-relay-password-file", c.relayPasswordFile}, {"verify-relay-ca", c.relayCA}} {
			if f.v != "" {
				errs = append(errs, fmt.Errorf("--%s needs --verify-url, --verify-mail-domain and --verify-relay", f.name))
			}
		}
		if c.smtp != "" && c.smtp != "off" {
			errs = append(errs, errors.New("--smtp needs verification (--verify-url, --verify-mail-domain and --verify-relay): the inbound SMTP service only takes replies to challenges"))
		}
		return errs
	}
	for _, f := range []struct{ name, v string }{{"verify-url", c.baseURL}, {"verify-mail-domain", c.mailDomain}, {"verify-relay", c.relay}} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("--%s is required with verification on (--verify-url, --verify-mail-domain and --verify-relay go together)", f.name))
		}
	}
	if u, err := url.Parse(c.baseURL); c.baseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Errorf("--verify-url %q: want an absolute http:// or https:// URL", c.baseURL))
	}
	if _, _, err := net.SplitHostPort(c.relay); c.relay != "" && err != nil {
		errs = append(errs, fmt.Errorf("--verify-relay %q: want host:port", c.relay))
	}
	switch c.relayTLS {
	case "", verify.TLSNone, verify.TLSStartTLS, verify.TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("--verify-relay-tls %q: want none, starttls or tls", c.relayTLS))
	}
	if (c.relayUser == "") != (c.relayPasswordFile == "") {
		errs = append(errs, errors.New("--verify-relay-user and --verify-relay-password-file go together"))
	}
	if c.ttl.d < time.Minute || c.suppress.d < 0 {
		errs = append(errs, errors.New("--verify-ttl must be at least 1m and --verify-suppress not negative"))
	}
	if _, _, err := net.SplitHostPort(c.smtpAddr()); c.smtpAddr() != "" && err != nil {
		errs = append(errs, fmt.Errorf("--smtp %q: want host:port or off", c.smtp))
	}
	if c.smtpMaxConns < 1 {
		errs = append(errs, errors.New("--smtp-max-conns must be at least 1"))
	}
	return errs
}

// smtpAddr is the inbound SMTP listen address, "" when it is off.
func (c *verifyConfig) smtpAddr() string {
	switch {
	case !c.configured() || c.smtp == "off":
		return ""
	case c.smtp == "":
		return defaultSMTP
	}
	return c.smtp
}

// serviceConfig builds the verification service's configuration, reading
// the relay password file.
func (c *verifyConfig) serviceConfig() (verify.Config, error) {
	cfg := verify.Config{
		BaseURL: c.baseURL, MailDomain: c.mailDomain, From: c.from, TTL: c.ttl.d, SuppressFor: c.suppress.d,
		AllowUnregistered: !c.requireRegistered,
		Limits:            verify.Limits{PerSender: c.perSender, PerDomainRelay: c.perDomainRelay, PerDomain: c.perDomain, PerEntity: c.perRelay},
		NeverChallenge:    splitList(c.neverChallenge),
		Postmaster:        c.postmaster,
		Relay:             verify.Relay{Addr: c.relay, TLS: c.relayTLS, Username: c.relayUser, CAFile: c.relayCA},
	}
	if c.relayPasswordFile != "" {
		b, err := os.ReadFile(c.relayPasswordFile)
		if err != nil {
			return verify.Config{}, fmt.Errorf("reading the relay password: %w", err)
		}
		cfg.Relay.Password = strings.TrimRight(string(b), "\r\n")
	}
	return cfg, nil
}

// verifier is a node's verification service and its inbound SMTP
// listener; a nil *verifier means verification is off.
type verifier struct {
	svc *verify.Service
	in  *verify.Inbound
	ln  net.Listener
}

// newVerify builds the verification service when the flags turn it on and
// opens the inbound SMTP port (served once the store is ready: before that
// a valid token would look unknown).
func (n *node) newVerify(cfg *serveConfig, store *raftstore.Store, reg prometheus.Registerer) error {
	if !cfg.verify.configured() {
		return nil
	}
	vc, err := cfg.verify.serviceConfig()
	if err != nil {
		return err
	}
	vc.Logger, vc.Registerer = n.log.With("subsystem", "verify"), reg
	svc, err := verify.New(vc, store)
	if err != nil {
		return fmt.Errorf("setting up verification: %w", err)
	}
	v := &verifier{svc: svc}
	if addr := cfg.verify.smtpAddr(); addr != "" {
		v.in, err = verify.NewInbound(verify.InboundConfig{MaxConns: cfg.verify.smtpMaxConns,
			Logger: n.log.With("subsystem", "smtp"), Registerer: reg}, svc)
		if err != nil {
			return fmt.Errorf("setting up inbound SMTP: %w", err)
		}
		if v.ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("listening for inbound SMTP: %w", err)
		}
		n.onStop(func(context.Context) error {
			err := v.in.Close()
			_ = v.ln.Close() // Serve may never have run; closing twice is harmless
			return err
		})
	}
	n.verify = v
	return nil
}

// mount serves the confirmation pages at /verify/ beside the API.
func (v *verifier) mount(api http.Handler) http.Handler {
	if v == nil {
		return api
	}
	mux := http.NewServeMux()
	mux.Handle("/verify/", v.svc.Handler())
	mux.Handle(verify.WhyPath, v.svc.WhyHandler())
	mux.Handle("/", api)
	return mux
}

// serveInbound starts taking replies; the node's stop closes it.
func (n *node) serveInbound() {
	v := n.verify
	if v == nil || v.in == nil {
		return
	}
	go func() {
		if err := v.in.Serve(context.Background(), v.ln); err != nil {
			n.log.Error("inbound SMTP stopped", "err", err)
		}
	}()
	_, domain, _ := strings.Cut(v.svc.ReplyAddress("TOKEN"), "@")
	n.log.Info("inbound SMTP listening", "addr", v.ln.Addr().String(), "reply_domain", domain)
	if _, forwarded := v.svc.Postmaster("postmaster@" + domain); !forwarded {
		n.log.Warn("postmaster@ the verification mail domain is refused: RFC 5321 §4.5.1 wants it deliverable; set --verify-postmaster", "mail_domain", domain)
	}
}

// smtpAddr is the bound inbound SMTP address, or "" when there is none.
func (v *verifier) smtpAddr() string {
	if v == nil || v.ln == nil {
		return ""
	}
	return v.ln.Addr().String()
}

// api is the service for POST /v1/challenges: nil (not a nil
// *verify.Service) when verification is off, so the API answers 503.
func (v *verifier) api() admin.Verifier {
	if v == nil {
		return nil
	}
	return v.svc
}

// splitList is a comma-separated flag value as a list without empty
// items; never nil, so an empty value means "none", not "the default".
func splitList(v string) []string {
	out := []string{}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
