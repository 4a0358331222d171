package console

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// limiter allows n events per window per key (a fixed window, reset when
// it has passed); it forgets keys whose window has passed once it holds
// many, so a flood of sources cannot grow it without bound.
type limiter struct {
	n      int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	seen map[netip.Prefix]*bucket
}

type bucket struct {
	start time.Time
	count int
}

// maxKeys is where the limiter starts dropping passed windows.
const maxKeys = 100_000

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{n: n, window: window, now: time.Now, seen: map[netip.Prefix]*bucket{}}
}

// allow counts one event for key and reports whether it is within the limit.
func (l *limiter) allow(key netip.Prefix) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.seen[key]
	if b == nil || now.Sub(b.start) >= l.window {
		if len(l.seen) >= maxKeys {
			l.prune(now)
		}
		b = &bucket{start: now}
		l.seen[key] = b
	}
	b.count++
	return b.count <= l.n
}

func (l *limiter) prune(now time.Time) {
	for k, b := range l.seen {
		if now.Sub(b.start) >= l.window {
			delete(l.seen, k)
		}
	}
	if len(l.seen) >= maxKeys {
		clear(l.seen) // all live: a flood; start over rather than grow
	}
}

// clientNet is the client's network, /24 for IPv4 and /48 for IPv6: one
// host with many addresses still counts once. Behind a proxy every client
// shares the proxy's network (the console does not trust forwarded-for
// headers, which anyone can send).
func clientNet(r *http.Request) netip.Prefix {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p
}
