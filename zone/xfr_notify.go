package zone

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// NOTIFY (RFC 1996): after each new version, every configured secondary is
// told of every transferable zone, over UDP, signed with the first TSIG key
// when keys are set; each message is retried up to notifyTries times.
const (
	notifyTries   = 5
	notifyTimeout = 2 * time.Second
)

// notifier sends NOTIFYs. A version written while the previous round is
// still being sent coalesces into the round after it.
type notifier struct {
	x       *XFR
	mu      sync.Mutex
	running bool
	again   bool
	wg      sync.WaitGroup
}

func newNotifier(x *XFR) *notifier { return &notifier{x: x} }

// all notifies every secondary of every zone at the current serial.
func (n *notifier) all(ctx context.Context) {
	if len(n.x.cfg.Notify) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.running {
		n.again = true
		return
	}
	n.running = true
	n.wg.Add(1)
	go n.rounds(ctx)
}

func (n *notifier) rounds(ctx context.Context) {
	defer n.wg.Done()
	for {
		n.round(ctx)
		n.mu.Lock()
		if !n.again || ctx.Err() != nil {
			n.running = false
			n.mu.Unlock()
			return
		}
		n.again = false
		n.mu.Unlock()
	}
}

// round sends one NOTIFY per secondary and zone, in parallel.
func (n *notifier) round(ctx context.Context) {
	x := n.x
	x.mu.RLock()
	serial := x.cur.serial
	x.mu.RUnlock()
	var origins []string
	for _, s := range xfrParts {
		if !x.offered[s] {
			continue
		}
		if s == "" {
			origins = append(origins, x.apex)
		} else {
			origins = append(origins, s+"."+x.apex)
		}
	}
	var wg sync.WaitGroup
	for _, target := range x.cfg.Notify {
		for _, origin := range origins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.send(ctx, target, origin, serial)
			}()
		}
	}
	wg.Wait()
}

// send notifies one secondary of one zone.
func (n *notifier) send(ctx context.Context, target, origin string, serial uint32) {
	x := n.x
	m := new(dns.Msg)
	m.SetNotify(origin)
	m.Answer = []dns.RR{x.soa(origin, serial)}
	c := &dns.Client{Net: "udp", Timeout: notifyTimeout}
	if len(x.cfg.Keys) > 0 {
		names := make([]string, 0, len(x.cfg.Keys))
		for k := range x.cfg.Keys {
			names = append(names, k)
		}
		slices.Sort(names)
		c.TsigSecret = map[string]string{names[0]: x.cfg.Keys[names[0]]}
		m.SetTsig(names[0], dns.HmacSHA256, 300, time.Now().Unix())
	}
	for try := 0; try < notifyTries && ctx.Err() == nil; try++ {
		r, _, err := c.ExchangeContext(ctx, m, target)
		if err == nil && r.Rcode == dns.RcodeSuccess {
			x.m.notifies.WithLabelValues("ok").Inc()
			return
		}
		if err == nil {
			// The secondary answered: it does not serve this zone, or refuses us.
			x.log.Debug("NOTIFY answered with an error", "secondary", target, "zone", origin, "rcode", dns.RcodeToString[r.Rcode])
			break
		}
		m.Id = dns.Id()
		if len(x.cfg.Keys) > 0 {
			m.Extra = nil
			t := c.TsigSecret
			for name := range t {
				m.SetTsig(name, dns.HmacSHA256, 300, time.Now().Unix())
			}
		}
	}
	x.m.notifies.WithLabelValues("failed").Inc()
}

// wait returns when no round is running.
func (n *notifier) wait() { n.wg.Wait() }
