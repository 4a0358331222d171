package policy

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/wlns/wlns/qname"
)

// ErrProbe means the whitelist answered the RFC 5782 test entries wrongly:
// 127.0.0.2 must be listed in the relay zone and 127.0.0.1 must not. A
// resolver that refuses (RD unset, no access), a wrong apex or a server
// that lists everything all fail it; a policy service behind such an answer
// would pass or defer every sender whatever the whitelist holds.
var ErrProbe = errors.New("whitelist test entries answered wrongly")

// Test entries of RFC 5782 §5 in the relay zone.
var (
	probeListed   = netip.MustParseAddr("127.0.0.2")
	probeUnlisted = netip.MustParseAddr("127.0.0.1")
)

// Probe asks the RFC 5782 test entries of the relay zone, bypassing the
// cache, records the outcome in wlns_policy_probe_ok and returns why it
// failed, if it did.
func (s *Server) Probe(ctx context.Context) error {
	err := s.probe(ctx)
	ok := 0.0
	if err == nil {
		ok = 1
	}
	s.m.probeOK.Set(ok)
	return err
}

func (s *Server) probe(ctx context.Context) error {
	r := s.dec.res
	for _, tc := range []struct {
		ip     netip.Addr
		listed bool
	}{{probeListed, true}, {probeUnlisted, false}} {
		name := qname.Relay(tc.ip, s.cfg.Apex)
		resp, err := r.exchange(ctx, name)
		if err != nil {
			return fmt.Errorf("probing %s: %w", name, err)
		}
		ans, _, err := readAnswer(resp, name)
		if err != nil {
			return fmt.Errorf("probing %s: %w", name, err)
		}
		if ans.Listed != tc.listed {
			return fmt.Errorf("%w: %s listed=%t, want listed=%t (is %s the whitelist, or a resolver that sends %s to it?)",
				ErrProbe, name, ans.Listed, tc.listed, s.cfg.DNSServer, s.cfg.Apex)
		}
	}
	return nil
}

// WatchProbe probes every interval until ctx ends, keeping
// wlns_policy_probe_ok current, and logs each change: a failure at ERROR
// (mail is then passed or deferred on a whitelist that is not answering),
// the recovery at INFO. An interval of 0 or less does nothing.
func (s *Server) WatchProbe(ctx context.Context, interval time.Duration, lastOK bool) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for ok := lastOK; ; {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ok = s.reprobe(ctx, ok)
		}
	}
}

// reprobe probes once and logs a change from wasOK.
func (s *Server) reprobe(ctx context.Context, wasOK bool) bool {
	err := s.Probe(ctx)
	switch {
	case ctx.Err() != nil:
	case err != nil && wasOK:
		s.log.Error("whitelist probe failed: the policy service is not checking senders against the whitelist", "err", err)
	case err == nil && !wasOK:
		s.log.Info("whitelist probe passed again", "dns", s.cfg.DNSServer)
	}
	return err == nil
}
