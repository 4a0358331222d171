package zone

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"sync/atomic"

	"github.com/dchest/siphash"
)

// DNS cookies (RFC 7873) with the interoperable server cookie of RFC 9018:
// version 1, three reserved bytes, a 32-bit timestamp and the SipHash-2-4 of
// the client cookie, those eight bytes and the client's address. The key is
// derived from a base secret that every mirror of a cluster shares and the
// day of the timestamp, so the key changes every day by itself, any mirror
// verifies a cookie another one issued, and no state is replicated: a
// cookie names its own day. Cookies are not required: a query without one,
// or with one that does not verify, is answered as usual with a new server
// cookie; a valid one exempts its answer from rate limiting (a spoofed
// source cannot have one).
const (
	optCookie        = 10
	clientCookieLen  = 8
	serverCookieLen  = 16
	cookieVersion    = 1
	cookieRotate     = 86400 // seconds per key
	cookieMaxAge     = 3600  // RFC 9018 §4.3: older cookies are refused
	cookieMaxFuture  = 300   // clocks of mirrors and timestamps may differ
	cookieRefreshAge = 1800  // a valid cookie older than this gets a new one
)

// cookieKeys derives and caches the per-day SipHash keys.
type cookieKeys struct {
	base []byte
	// cur caches the keys of the last two days asked for.
	cur atomic.Pointer[dayKeys]
}

// dayKeys are the keys of day and the day before.
type dayKeys struct {
	day        uint32
	k, prev    [2]uint64
	haveBefore bool
}

func newCookieKeys(base []byte) *cookieKeys {
	if len(base) == 0 {
		return nil
	}
	return &cookieKeys{base: base}
}

// key returns the SipHash key of day d, and false when d is neither the
// current day of now nor the one before.
func (c *cookieKeys) key(d uint32, now uint32) ([2]uint64, bool) {
	today := now / cookieRotate
	dk := c.cur.Load()
	if dk == nil || dk.day != today {
		dk = &dayKeys{day: today, k: c.derive(today)}
		if today > 0 {
			dk.prev, dk.haveBefore = c.derive(today-1), true
		}
		c.cur.Store(dk)
	}
	switch {
	case d == today:
		return dk.k, true
	case dk.haveBefore && d == today-1:
		return dk.prev, true
	}
	return [2]uint64{}, false
}

// derive is HMAC-SHA256(base, "wlns dns cookie" | day), first 16 bytes.
func (c *cookieKeys) derive(day uint32) [2]uint64 {
	m := hmac.New(sha256.New, c.base)
	m.Write([]byte("wlns dns cookie"))
	m.Write(binary.BigEndian.AppendUint32(nil, day))
	sum := m.Sum(nil)
	return [2]uint64{binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])}
}

// serverCookie writes into out the server cookie for client cookie cc,
// client address ip and timestamp ts.
func (c *cookieKeys) serverCookie(out *[serverCookieLen]byte, cc []byte, ip netip.Addr, ts uint32) bool {
	k, ok := c.key(ts/cookieRotate, ts)
	if !ok {
		return false
	}
	out[0], out[1], out[2], out[3] = cookieVersion, 0, 0, 0
	binary.BigEndian.PutUint32(out[4:8], ts)
	binary.LittleEndian.PutUint64(out[8:], c.hash(k, cc, out[:8], ip))
	return true
}

func (c *cookieKeys) hash(k [2]uint64, cc, head []byte, ip netip.Addr) uint64 {
	var buf [clientCookieLen + 8 + 16]byte
	n := copy(buf[:], cc)
	n += copy(buf[n:], head)
	if ip.Is4() || ip.Is4In6() {
		a := ip.Unmap().As4()
		n += copy(buf[n:], a[:])
	} else {
		a := ip.As16()
		n += copy(buf[n:], a[:])
	}
	return siphash.Hash(k[0], k[1], buf[:n])
}

// verify reports whether sc is a server cookie this cluster issued for cc
// and ip, not older than cookieMaxAge nor from the future, and how old it
// is.
func (c *cookieKeys) verify(cc, sc []byte, ip netip.Addr, now uint32) (age int64, ok bool) {
	if len(sc) != serverCookieLen || sc[0] != cookieVersion {
		return 0, false
	}
	ts := binary.BigEndian.Uint32(sc[4:8])
	age = int64(now) - int64(ts) // serial arithmetic is moot before 2106
	if age > cookieMaxAge || age < -cookieMaxFuture {
		return age, false
	}
	k, ok := c.key(ts/cookieRotate, max(now, ts))
	if !ok {
		return age, false
	}
	return age, binary.LittleEndian.Uint64(sc[8:]) == c.hash(k, cc, sc[:8], ip)
}

// cookieReply is what an answer carries back: the client cookie and a
// server cookie, and whether the query's own server cookie was valid.
type cookieReply struct {
	n     int // bytes of b in use: 0 (no COOKIE option) or 24
	b     [clientCookieLen + serverCookieLen]byte
	valid bool
}

// answerCookie works out the COOKIE option of the answer to a query whose
// COOKIE option data is opt, from ip at now.
func (c *cookieKeys) answerCookie(opt []byte, ip netip.Addr, now uint32) cookieReply {
	var r cookieReply
	if c == nil || !ip.IsValid() || len(opt) < clientCookieLen {
		return r
	}
	cc := opt[:clientCookieLen]
	copy(r.b[:], cc)
	var sc [serverCookieLen]byte
	if age, ok := c.verify(cc, opt[clientCookieLen:], ip, now); ok {
		r.valid = true
		if age < cookieRefreshAge {
			copy(sc[:], opt[clientCookieLen:])
			copy(r.b[clientCookieLen:], sc[:])
			r.n = len(r.b)
			return r
		}
	}
	if !c.serverCookie(&sc, cc, ip, now) {
		return r
	}
	copy(r.b[clientCookieLen:], sc[:])
	r.n = len(r.b)
	return r
}
