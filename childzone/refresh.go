package childzone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// minGap is the least time between two refreshes of a zone: a NOTIFY is
// an unauthenticated hint, and a flood of them must not become a flood of
// SOA queries to the primaries.
const minGap = time.Second

// follow refreshes s at its SOA refresh time (capped), sooner when poked
// by a NOTIFY (at most once per minGap), at the retry time after a failure.
func (n *Node) follow(ctx context.Context, s *slot) {
	for {
		start := time.Now()
		wait := n.cfg.Retry
		if err := n.refresh(ctx, s); err != nil {
			n.log.Warn("zone refresh failed", "zone", s.origin, "err", err)
			if d := s.cur.Load(); d != nil {
				wait = n.timer(d.soa.Retry, n.cfg.Retry)
			}
		} else {
			wait = n.timer(s.cur.Load().soa.Refresh, n.cfg.Refresh)
		}
		if wait <= 0 {
			wait = time.Minute
		}
		select {
		case <-ctx.Done():
			return
		case <-s.poke:
			select {
			case <-ctx.Done():
				return
			case <-time.After(minGap - time.Since(start)):
			}
		case <-time.After(wait):
		}
	}
}

// refresh asks the primaries in turn for the SOA and transfers the zone
// when theirs is newer.
func (n *Node) refresh(ctx context.Context, s *slot) error {
	var errs []error
	for _, p := range n.cfg.Primaries {
		err := n.refreshFrom(ctx, s, p)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("primary %s: %w", p, err))
	}
	n.m.transfers.WithLabelValues("failed").Inc()
	return errors.Join(errs...)
}

func (n *Node) refreshFrom(ctx context.Context, s *slot, primary string) error {
	serial, err := n.soaSerial(ctx, s.origin, primary)
	if err != nil {
		return err
	}
	cur := s.cur.Load()
	if cur != nil && !newer(serial, cur.soa.Serial) {
		n.touch(s)
		n.m.transfers.WithLabelValues("current").Inc()
		return nil
	}
	start := n.now()
	rrs, err := n.axfr(ctx, s.origin, primary)
	if err != nil {
		return err
	}
	d, err := newData(s.origin, rrs)
	if err != nil {
		return err
	}
	if err := n.save(s, d); err != nil {
		return err
	}
	s.cur.Store(d)
	n.touch(s)
	n.m.transfers.WithLabelValues("ok").Inc()
	n.log.Info("zone transferred", "zone", s.origin, "serial", d.soa.Serial, "names", len(d.owners), "primary", primary, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// newer is RFC 1982 serial arithmetic: a is after b.
func newer(a, b uint32) bool { return a != b && a-b < 1<<31 }

// sign adds the TSIG key to m and returns its provider, nil when no key
// is configured.
func (n *Node) sign(m *dns.Msg) *keyProvider {
	if n.cfg.KeyName == "" {
		return nil
	}
	m.SetTsig(n.cfg.KeyName, dns.HmacSHA256, 300, time.Now().Unix())
	return &keyProvider{name: n.cfg.KeyName, secret: n.cfg.KeySecret}
}

// errUnsigned refuses a primary's answer without the key's signature.
var errUnsigned = errors.New("answer not signed with the key")

// soaSerial asks a primary for the zone's SOA.
func (n *Node) soaSerial(ctx context.Context, origin, primary string) (uint32, error) {
	m := new(dns.Msg)
	m.SetQuestion(origin, dns.TypeSOA)
	c := &dns.Client{Net: "tcp", Timeout: n.cfg.Timeout}
	key := n.sign(m)
	if key != nil {
		c.TsigProvider = key
	}
	r, _, err := c.ExchangeContext(ctx, m, primary)
	if err != nil {
		return 0, fmt.Errorf("SOA query: %w", err)
	}
	if key != nil && (r.IsTsig() == nil || key.verified.Load() == 0) {
		return 0, fmt.Errorf("SOA query: %w", errUnsigned)
	}
	if r.Rcode != dns.RcodeSuccess {
		return 0, fmt.Errorf("SOA query: %s", dns.RcodeToString[r.Rcode])
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, nil
		}
	}
	return 0, errors.New("SOA query: no SOA in the answer")
}

// axfr transfers the zone from a primary.
func (n *Node) axfr(ctx context.Context, origin, primary string) ([]dns.RR, error) {
	m := new(dns.Msg)
	m.SetAxfr(origin)
	tr := &dns.Transfer{DialTimeout: n.cfg.Timeout, ReadTimeout: n.cfg.Timeout}
	key := n.sign(m)
	if key != nil {
		tr.TsigProvider = key
	}
	ch, err := tr.In(m, primary)
	if err != nil {
		return nil, fmt.Errorf("AXFR: %w", err)
	}
	var out []dns.RR
	for env := range ch {
		if env.Error != nil {
			return nil, fmt.Errorf("AXFR: %w", env.Error)
		}
		out = append(out, env.RR...)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if key != nil && key.verified.Load() == 0 {
		return nil, fmt.Errorf("AXFR: %w", errUnsigned)
	}
	return out, nil
}
