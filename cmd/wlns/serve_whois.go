package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/whois"
)

// whoisConfig holds the WHOIS flags.
type whoisConfig struct {
	// addr is the WHOIS listen address; "" keeps WHOIS off (the default).
	addr string
	// contact is the privacy setting: full, domain or none.
	contact  string
	maxConns int
	// perClient bounds one client address's concurrent connections.
	perClient int
}

func (c *whoisConfig) declare(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "whois", "", "answer RFC 3912 WHOIS queries about the relay registry on this address (production :43; default off)")
	fs.StringVar(&c.contact, "whois-contact", whois.ContactNone, "how much of a relay's registered contact WHOIS shows: none (that one is registered), domain (its domain only) or full")
	fs.IntVar(&c.maxConns, "whois-max-conns", whois.DefaultMaxConns, "concurrent WHOIS connections (more are told to come back later)")
	fs.IntVar(&c.perClient, "whois-max-conns-per-client", whois.DefaultMaxConnsPerClient, "concurrent WHOIS connections from one client address (more are told to come back later)")
}

func (c *whoisConfig) validate() []error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.addr); c.addr != "" && err != nil {
		errs = append(errs, fmt.Errorf("--whois %q: want host:port", c.addr))
	}
	switch c.contact {
	case whois.ContactFull, whois.ContactDomain, whois.ContactNone:
	default:
		errs = append(errs, fmt.Errorf("--whois-contact %q: want none, domain or full", c.contact))
	}
	if c.maxConns < 1 || c.perClient < 1 {
		errs = append(errs, errors.New("--whois-max-conns and --whois-max-conns-per-client must be at least 1"))
	}
	return errs
}

// startWhois serves WHOIS from idx when --whois is set and returns the
// bound address ("" when off).
func (n *node) startWhois(cfg *whoisConfig, idx index.Reader, reg prometheus.Registerer) (string, error) {
	if cfg.addr == "" {
		return "", nil
	}
	srv, err := whois.New(idx, whois.Config{Contact: cfg.contact, MaxConns: cfg.maxConns, MaxConnsPerClient: cfg.perClient,
		Logger: n.log.With("subsystem", "whois"), Registerer: reg})
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return "", fmt.Errorf("WHOIS listener: %w", err)
	}
	n.runUntilStop("WHOIS", func(ctx context.Context) {
		if err := srv.Serve(ctx, ln); err != nil {
			n.log.Error("WHOIS stopped", "err", err)
		}
	})
	n.log.Info("WHOIS listening", "addr", ln.Addr().String(), "contact", cfg.contact)
	return ln.Addr().String(), nil
}
