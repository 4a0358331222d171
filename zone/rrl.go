package zone

import (
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
)

// RRL is response rate limiting as operators know it from BIND, NSD and
// Knot: UDP answers to one client prefix are limited per second and per
// kind of answer, so a flood of queries with a spoofed source cannot use
// the server to amplify traffic at a victim. A limited answer is dropped,
// or every Slip-th one is sent truncated (TC, no records) so that a real
// resolver behind that prefix retries over TCP, which cannot be spoofed
// and is never limited.
//
// The buckets are keyed by the client prefix, the kind of answer and, for
// positive and negative answers, the question: a resolver asking many
// names is not limited, one name asked again and again is. BIND keys
// NXDOMAIN on the zone instead, but most questions a whitelist gets are
// misses, so that would throttle every busy resolver; and a negative answer
// (the question and the SOA) is at most about twice the query's size, so a
// flood of distinct names amplifies little. Errors are keyed on the prefix
// alone.
type RRL struct {
	// Responses is the rate, per second, of positive answers (and apex
	// records) for one name and type to one client prefix. 0 turns RRL
	// off.
	Responses int
	// NoData is the rate of NXDOMAIN and NODATA answers for one name and
	// type to one prefix. Default: Responses.
	NoData int
	// Errors is the rate of REFUSED, FORMERR, NOTIMP and BADVERS answers to
	// one prefix. Default: Responses.
	Errors int
	// Slip sends every Slip-th limited answer truncated instead of dropping
	// it: 1 sends all truncated, 0 drops all. Default 2.
	Slip int
	// IPv4Prefix and IPv6Prefix are the client prefix lengths that share a
	// bucket. Default /24 and /56.
	IPv4Prefix, IPv6Prefix int
	// Exempt prefixes are never limited (monitoring, the operator's own
	// resolvers).
	Exempt []netip.Prefix
	// Table is the number of buckets (rounded up to a power of two).
	// Default 65536. When the table is full a new key takes the oldest
	// slot, starting with full credit.
	Table int
}

// DefaultRRLSlip, DefaultRRLTable: the defaults of RRL's fields.
const (
	DefaultRRLSlip  = 2
	DefaultRRLTable = 1 << 16
)

func (c RRL) withDefaults() RRL {
	if c.NoData == 0 {
		c.NoData = c.Responses
	}
	if c.Errors == 0 {
		c.Errors = c.Responses
	}
	if c.Slip == 0 {
		c.Slip = DefaultRRLSlip
	} else if c.Slip < 0 {
		c.Slip = 0
	}
	if c.IPv4Prefix == 0 {
		c.IPv4Prefix = 24
	}
	if c.IPv6Prefix == 0 {
		c.IPv6Prefix = 56
	}
	if c.Table == 0 {
		c.Table = DefaultRRLTable
	}
	return c
}

// validate reports what is wrong with c.
func (c RRL) validate() error {
	var errs []error
	if c.Responses < 0 || c.NoData < 0 || c.Errors < 0 {
		errs = append(errs, errors.New("rrl rates must not be negative"))
	}
	if c.IPv4Prefix < 0 || c.IPv4Prefix > 32 || c.IPv6Prefix < 0 || c.IPv6Prefix > 128 {
		errs = append(errs, fmt.Errorf("rrl prefix lengths /%d and /%d: want 0-32 and 0-128", c.IPv4Prefix, c.IPv6Prefix))
	}
	if c.Table < 0 || c.Table > 1<<24 {
		errs = append(errs, fmt.Errorf("rrl table of %d buckets: want up to %d", c.Table, 1<<24))
	}
	return errors.Join(errs...)
}

// rrlKind is what an answer is limited as.
type rrlKind uint8

const (
	rrlAnswer rrlKind = iota
	rrlNoData
	rrlError
	nRRLKinds
)

var rrlKindNames = [nRRLKinds]string{"answer", "nodata", "error"}

// rrlVerdict says what to do with an answer.
type rrlVerdict uint8

const (
	rrlSend rrlVerdict = iota
	rrlSlip
	rrlDrop
)

// limiter holds the buckets. Buckets live in one flat table guarded by
// striped locks: no allocation per query, and the readers of different
// sockets rarely meet on a stripe.
type limiter struct {
	rates  [nRRLKinds]int32
	slip   uint32
	v4, v6 int
	exempt []netip.Prefix
	mask   uint64
	seed   maphash.Seed
	table  []bucket
	locks  [64]struct {
		sync.Mutex
		_ [56]byte
	}
	// limited counts dropped and slipped answers by kind.
	limited [nRRLKinds][2]atomic.Uint64
}

// bucket is one key's credit: tokens left in second last.
type bucket struct {
	key    uint64
	last   int64
	tokens int32
	count  uint32 // limited answers so far, for the slip
}

// newLimiter returns nil when c turns RRL off.
func newLimiter(c RRL) *limiter {
	if c.Responses == 0 {
		return nil
	}
	c = c.withDefaults()
	size := 1
	for size < c.Table {
		size <<= 1
	}
	return &limiter{
		rates: [nRRLKinds]int32{int32(c.Responses), int32(c.NoData), int32(c.Errors)},
		slip:  uint32(c.Slip), v4: c.IPv4Prefix, v6: c.IPv6Prefix, exempt: c.Exempt,
		mask: uint64(size - 1), seed: maphash.MakeSeed(), table: make([]bucket, size),
	}
}

// check takes one token for an answer of kind to src about ident (the
// question, for positive answers) at Unix second now.
func (l *limiter) check(src netip.Addr, kind rrlKind, ident []byte, now int64) rrlVerdict {
	for _, p := range l.exempt {
		if p.Contains(src) {
			return rrlSend
		}
	}
	key := l.key(src, kind, ident)
	i := key & l.mask
	mu := &l.locks[i%uint64(len(l.locks))]
	mu.Lock()
	b := &l.table[i]
	rate := l.rates[kind]
	if b.key != key {
		*b = bucket{key: key, last: now, tokens: rate}
	} else if now > b.last {
		// A second's worth of credit per second, never more than one
		// second's: a burst is at most the rate.
		b.tokens = rate
		b.last = now
	}
	if b.tokens > 0 {
		b.tokens--
		mu.Unlock()
		return rrlSend
	}
	b.count++
	slip := l.slip > 0 && b.count%l.slip == 0
	mu.Unlock()
	if slip {
		l.limited[kind][1].Add(1)
		return rrlSlip
	}
	l.limited[kind][0].Add(1)
	return rrlDrop
}

// key hashes the client prefix, the kind and the lower-cased ident with
// the limiter's random seed (so that nobody can aim keys at one bucket).
func (l *limiter) key(src netip.Addr, kind rrlKind, ident []byte) uint64 {
	if src.Is4In6() {
		src = src.Unmap()
	}
	bits := l.v6
	if src.Is4() {
		bits = l.v4
	}
	p, _ := src.Prefix(bits)
	var buf [18 + 255 + 4]byte // prefix, bits, kind, a question (name ≤ 255, type, class)
	a := p.Addr().As16()
	n := copy(buf[:], a[:])
	buf[n], buf[n+1] = byte(bits), byte(kind)
	n += 2
	for _, c := range ident[:min(len(ident), len(buf)-n)] {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return maphash.Bytes(l.seed, buf[:n])
}

// rrlKindOf is the kind an outcome is limited as.
func rrlKindOf(o outcome) rrlKind {
	switch o.result {
	case resListed, resReferral:
		return rrlAnswer
	case resNoData, resNXDomain:
		return rrlNoData
	default:
		return rrlError
	}
}

// limit applies RRL to a UDP answer resp to src (an answer to a query with
// a valid server cookie is exempt: its source was not spoofed): it returns the answer
// to send (resp itself, or resp rewritten in place as a truncated answer)
// and false when nothing is to be sent. With RRL off it returns resp.
func (s *Server) limit(resp []byte, o outcome, src netip.Addr) ([]byte, bool) {
	l := s.rrl
	if l == nil || o.cookie || len(resp) < headerLen || o.qEnd < headerLen || o.qEnd > len(resp) {
		return resp, true
	}
	kind := rrlKindOf(o)
	var ident []byte
	if kind != rrlError {
		ident = resp[headerLen:o.qEnd] // the question: name, type, class
	}
	switch l.check(src, kind, ident, s.now.Load()) {
	case rrlSlip:
		return truncate(resp, o), true
	case rrlDrop:
		return nil, false
	}
	return resp, true
}

// truncate rewrites an answer in place as the same answer with TC set and
// no records but its OPT: a resolver that gets it asks again over TCP.
func truncate(resp []byte, o outcome) []byte {
	out := resp[:o.qEnd]
	ar := 0
	if o.opt >= o.qEnd {
		out = append(out, resp[o.opt:]...) // copy handles the overlap
		ar = 1
	}
	put16(out[2:], be16(out[2:])|flagTC)
	put16(out[6:], 0)
	put16(out[8:], 0)
	put16(out[10:], ar)
	return out
}
