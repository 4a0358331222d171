package console

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// limiter allows n events per window per key (a fixed window, reset when
// it has passed). It holds at most max keys: a new key past that evicts
// the least recently seen one, never the others, so a flood of sources
// cannot grow it without bound nor reset everyone's count. Only the
// evicted key starts afresh, and that key was idle while max others were
// seen: an attacker who sprays max networks to free their own key spends
// max requests to win back n.
type limiter struct {
	n      int
	window time.Duration
	max    int
	now    func() time.Time

	mu   sync.Mutex
	seen map[netip.Prefix]*list.Element // of *bucket
	lru  list.List                      // front: most recently seen
}

type bucket struct {
	key   netip.Prefix
	start time.Time
	count int
}

// defaultMaxKeys is how many keys a limiter holds: about 10 MB.
const defaultMaxKeys = 100_000

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{n: n, window: window, max: defaultMaxKeys, now: time.Now, seen: map[netip.Prefix]*list.Element{}}
}

// allow counts one event for key and reports whether it is within the limit.
func (l *limiter) allow(key netip.Prefix) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	el := l.seen[key]
	if el == nil {
		if len(l.seen) >= l.max {
			oldest := l.lru.Back()
			delete(l.seen, oldest.Value.(*bucket).key)
			l.lru.Remove(oldest)
		}
		el = l.lru.PushFront(&bucket{key: key, start: now})
		l.seen[key] = el
	}
	l.lru.MoveToFront(el)
	b := el.Value.(*bucket)
	if now.Sub(b.start) >= l.window {
		b.start, b.count = now, 0
	}
	b.count++
	return b.count <= l.n
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
