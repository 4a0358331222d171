package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/bench/internal/kit"
)

// sample is one record a node must answer, and how.
type sample struct {
	kind  string // relay, group, pair, domain, verp or unlisted
	qname string
	code  string // the A code; "" means NXDOMAIN
}

// samples picks k records of every kind, spread over the whole dataset
// (the last one imported of each kind included), and k/4 unlisted relay
// addresses that must stay NXDOMAIN.
func (d *dataset) samples(k int) []sample {
	var out []sample
	spread := func(n int, fn func(i int)) {
		for j := range min(k, n) {
			fn(n - 1 - j*n/min(k, n))
		}
	}
	spread(len(d.relays), func(i int) {
		out = append(out, sample{"relay", d.relays[i].Rev() + ".relay." + d.c.apex, codeRelay})
	})
	spread(len(d.groups), func(g int) {
		ms := d.groups[g]
		a := ms[g%len(ms)].addr(g)
		out = append(out, sample{"group", a.Rev() + ".relay." + d.c.apex, codeRelay})
	})
	// Pairs: walk them in a stride coprime with their number until k of
	// each sort are found, so the domain pairs (a few percent) are
	// sampled as widely as the address pairs.
	step := 1_000_003
	for d.c.pairs%step == 0 {
		step += 2
	}
	var addrs, doms int
	for j := 0; j < d.c.pairs && (addrs < k || doms < k); j++ {
		i := (d.c.pairs - 1 + j*step) % d.c.pairs
		p := d.pair(i)
		switch {
		case p.domain && doms < k:
			doms++
			out = append(out, sample{"domain", d.senderQName(p, i), codeDomain})
		case !p.domain && addrs < k:
			addrs++
			out = append(out, sample{"pair", d.senderQName(p, i), codeSender})
		}
	}
	spread(d.c.verps, func(v int) {
		dom, a := d.verp(v)
		out = append(out, sample{"verp", dom + "." + a.Rev() + ".verp." + d.c.apex, codeVerp})
	})
	spread(min(len(d.unlisted), max(k/4, 1)), func(i int) {
		out = append(out, sample{"unlisted", d.unlisted[i].Rev() + ".relay." + d.c.apex, ""})
	})
	return out
}

// checkServer asks the server at c.check for the samples of c's dataset
// (of the kinds in c.kinds) until every one answers right, and prints how
// long that took from the start of the check: a node started just before
// it times its restart, one loaded by an import cut short is checked on
// what it holds.
func checkServer(ctx context.Context, c config, out io.Writer) error {
	var ss []sample
	for _, s := range newDataset(c).samples(c.samples) {
		if len(c.kinds) == 0 || slices.Contains(c.kinds, s.kind) {
			ss = append(ss, s)
		}
	}
	took, err := serveAll(ctx, c.check, ss, time.Now(), c.startLimit, nil)
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, s := range ss {
		count[s.kind]++
	}
	fmt.Fprintf(out, "%s: every one of %d samples %v answers right after %.1f s\n", c.check, len(ss), count, took.Seconds())
	return nil
}

// check asks addr for s and says what was wrong, or "" when the answer is
// right.
func (s sample) check(addr string) string {
	return s.judge(kit.Ask(addr, s.qname))
}

// judge says what is wrong with the answer m (or the error asking), or ""
// when it is right.
func (s sample) judge(m *dns.Msg, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case s.code == "" && m.Rcode == dns.RcodeNameError:
		return ""
	case s.code != "" && kit.HasA(m, s.code):
		return ""
	}
	return fmt.Sprintf("%s %s: want %s, got %s %v", s.kind, s.qname, want(s), dns.RcodeToString[m.Rcode], m.Answer)
}

func want(s sample) string {
	if s.code == "" {
		return "NXDOMAIN"
	}
	return "A " + s.code
}

// serveAll polls addr until every sample answers right, re-asking only
// the ones still wrong, bounded by limit. It returns the time since
// started at which the last one answered right.
func serveAll(ctx context.Context, addr string, ss []sample, started time.Time, limit time.Duration, done <-chan struct{}) (time.Duration, error) {
	deadline := time.Now().Add(limit)
	left := ss
	for {
		var still []sample
		last := ""
		for _, s := range left {
			if why := s.check(addr); why != "" {
				still, last = append(still, s), why
				if len(still) == 1 && len(left) == len(ss) {
					// Nothing answers yet: do not ask the rest this round.
					still = append(still, left[1:]...)
					break
				}
			}
		}
		if len(still) == 0 {
			return time.Since(started), nil
		}
		left = still
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%d of %d samples still wrong after %v, e.g. %s", len(left), len(ss), limit, last)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-done:
			return 0, fmt.Errorf("the server exited while %d samples were still wrong (%s)", len(left), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
