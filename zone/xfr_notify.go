package zone

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// NOTIFY (RFC 1996): after each new version, every configured secondary is
// told of every transferable zone, over UDP, signed with the first unscoped TSIG key
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
	// sent is the serial last notified per postmaster's server and cut
	// zone ("target origin") of the current delegations; only the running
	// round touches it.
	sent map[string]uint32
}

func newNotifier(x *XFR) *notifier { return &notifier{x: x} }

// all notifies every secondary of every zone at the current serial.
func (n *notifier) all(ctx context.Context) {
	if len(n.x.cfg.Notify) == 0 && len(n.x.cfg.NotifyCuts) == 0 {
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
	for _, s := range xfrParts() {
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
	key := n.firstKey()
	for _, target := range x.cfg.Notify {
		for _, origin := range origins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.send(ctx, target, origin, serial, key)
			}()
		}
	}
	n.cutRound(ctx, &wg)
	wg.Wait()
}

// cutRound notifies the postmasters' servers of the cut zones of the
// delegations inside their prefixes whose serial moved since the last
// NOTIFY (a cut zone's serial moves only when its records change), each
// signed with the key scoped to the server's prefix (keyFor: their server
// knows only its own key). The serials of cuts no delegation has any
// more are forgotten.
func (n *notifier) cutRound(ctx context.Context, wg *sync.WaitGroup) {
	if len(n.x.cfg.NotifyCuts) == 0 {
		return
	}
	if n.sent == nil {
		n.sent = map[string]uint32{}
	}
	live := make(map[string]bool, len(n.sent))
	defer func() {
		for k := range n.sent {
			if !live[k] {
				delete(n.sent, k)
			}
		}
	}()
	v := n.x.ix.Load()
	for _, d := range v.Delegations() {
		for _, cn := range n.x.cfg.NotifyCuts {
			if cn.Prefix.Bits() > d.Prefix.Bits() || !cn.Prefix.Contains(d.Prefix.Addr()) {
				continue
			}
			key := n.keyFor(cn.Prefix)
			for _, tree := range record.Trees() {
				origin, err := qname.Cut(d.Prefix, tree, n.x.apex)
				if err != nil {
					continue
				}
				k := cn.Target + " " + origin
				live[k] = true
				c, err := n.x.cuts.get(ctx, n.x, v, d, tree, origin, true)
				if err != nil || n.sent[k] == c.serial {
					continue
				}
				n.sent[k] = c.serial
				wg.Add(1)
				go func() {
					defer wg.Done()
					n.send(ctx, cn.Target, origin, c.serial, key)
				}()
			}
		}
	}
}

// firstKey is the first TSIG key by name that is not a postmaster's
// (scoped), "" without such keys.
func (n *notifier) firstKey() string {
	names := make([]string, 0, len(n.x.cfg.Keys))
	for k := range n.x.cfg.Keys {
		if _, scoped := n.x.cfg.Scopes[k]; !scoped {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// keyFor is the key of the postmaster's server told of the cut zones
// inside target: the key scoped most narrowly to a prefix holding all of
// target (first by name among equals), the one that server shares with
// the cluster; "" (unsigned) when no scoped key holds it. Neither another
// postmaster's key nor the operator's ever signs a message to a
// postmaster's server.
func (n *notifier) keyFor(target netip.Prefix) string {
	best, bits := "", -1
	for k, scope := range n.x.cfg.Scopes {
		for _, p := range scope {
			if p.Bits() > target.Bits() || !p.Contains(target.Addr()) {
				continue
			}
			if p.Bits() > bits || p.Bits() == bits && k < best {
				best, bits = k, p.Bits()
			}
		}
	}
	return best
}

// send notifies one secondary of one zone, signed with key unless "".
func (n *notifier) send(ctx context.Context, target, origin string, serial uint32, key string) {
	x := n.x
	m := new(dns.Msg)
	m.SetNotify(origin)
	m.Answer = []dns.RR{x.soa(origin, serial)}
	c := &dns.Client{Net: "udp", Timeout: notifyTimeout}
	if key != "" {
		c.TsigSecret = map[string]string{key: x.cfg.Keys[key]}
		m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
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
		if key != "" {
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
