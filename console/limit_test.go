package console

import (
	"net/netip"
	"testing"
	"time"
)

// TestLimiter_SprayedKeysDoNotResetABusyKey: a network at its limit keeps
// asking while 150,000 other networks are sprayed at the limiter, past the
// number of keys it holds; it stays refused (a limiter that forgot every
// key at its bound let it start over), and the limiter stays bounded.
func TestLimiter_SprayedKeysDoNotResetABusyKey(t *testing.T) {
	l := newLimiter(5, time.Hour)
	busy := netip.MustParsePrefix("192.0.2.0/24")
	for range 5 {
		if !l.allow(busy) {
			t.Fatal("refused within the limit")
		}
	}
	for i := range 150_000 {
		sprayed := netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i >> 16), byte(i >> 8), byte(i)}), 48)
		l.allow(sprayed)
		if i%1000 == 0 && l.allow(busy) {
			t.Fatalf("the busy network was allowed again after %d sprayed networks", i+1)
		}
	}
	if n := len(l.seen); n > defaultMaxKeys || l.lru.Len() != n {
		t.Errorf("the limiter holds %d keys (list %d), want at most %d", n, l.lru.Len(), defaultMaxKeys)
	}
}

// TestLimiter_EvictsTheLeastRecentKeyOnly fills a three-key limiter and
// adds a fourth: only the key seen longest ago starts over.
func TestLimiter_EvictsTheLeastRecentKeyOnly(t *testing.T) {
	l := newLimiter(1, time.Hour)
	l.max = 3
	now := time.Unix(1_800_000_000, 0)
	l.now = func() time.Time { return now }
	a, b, c, d := netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("10.0.0.0/24")
	for _, k := range []netip.Prefix{a, b, c} {
		l.allow(k)
	}
	l.allow(a) // a refused, and now the most recent: b is the oldest
	if !l.allow(d) {
		t.Fatal("a new key refused")
	}
	for k, want := range map[netip.Prefix]bool{a: false, c: false, d: false} {
		if got := l.allow(k); got != want {
			t.Errorf("%s allowed %v, want %v", k, got, want)
		}
	}
	// b was evicted when d came; asking again starts its count afresh.
	if !l.allow(b) {
		t.Error("the evicted key is still counted")
	}
	now = now.Add(time.Hour)
	if !l.allow(a) {
		t.Error("a key whose window passed is still refused")
	}
}
