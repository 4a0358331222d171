package zone

import (
	"crypto/sha256"
	"net/netip"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// matchKind says what a listed name matched; it picks the A code and the TXT.
type matchKind uint8

const (
	matchRelay   matchKind = iota + 1 // 127.0.2.1
	matchAddress                      // 127.0.2.2, readable form
	matchHashed                       // 127.0.2.2, hashed form
	matchDomain                       // 127.0.2.3
	matchVerp                         // 127.0.2.4
)

// listing is a positive match.
type listing struct {
	kind matchKind
	// ent is the matched entity of the index, or entity one given as a
	// record (the test entity, an export's, RelayText's).
	ent     index.EntityRef
	entity  *record.Entity
	what    string // the pair's sender or the VERP domain
	created int64
	// The seen mark to set: meta for a test record, ref for a pair or VERP
	// source of the index, ent for an entity's relay-zone answer.
	meta *record.Meta
	ref  index.Ref
}

// markSeen sets the matched record's local seen mark.
func (l *listing) markSeen(now int64) {
	switch {
	case l.meta != nil:
		l.meta.MarkSeen(now)
	case l.kind == matchRelay:
		l.ent.MarkSeen(now)
	default:
		l.ref.MarkSeen(now)
	}
}

// entityID is the index entity the listing answers through; 0 for the
// test entity and an export's.
func (l *listing) entityID() uint64 {
	if l.meta != nil {
		return 0
	}
	if l.ent.Found() {
		return l.ent.ID()
	}
	return l.ref.Entity()
}

// hit is a pair or VERP source a name matched: from the index or, for the
// test address, the responder's test record.
type hit struct {
	ref  index.Ref
	test *record.Pair
}

func (h hit) found() bool { return h.ref.Found() || h.test != nil }

func (h hit) domainWide() bool {
	if h.test != nil {
		return h.test.DomainWide()
	}
	return h.ref.DomainWide()
}

// listing is the listing of a hit through an entity given as a record
// (the test entity, an export's).
func (h hit) listing(kind matchKind, e *record.Entity) listing {
	if h.test != nil {
		return listing{kind: kind, entity: e, what: h.test.Sender, created: h.test.Created, meta: &h.test.Meta}
	}
	return listing{kind: kind, entity: e, what: h.ref.Key(), created: h.ref.Created(), ref: h.ref}
}

// listingAt is the listing of a hit through entity e of the index, or the
// test entity test when it is not nil.
func (h hit) listingAt(kind matchKind, e index.EntityRef, test *record.Entity) listing {
	if test != nil {
		return h.listing(kind, test)
	}
	return listing{kind: kind, ent: e, what: h.ref.Key(), created: h.ref.Created(), ref: h.ref}
}

func (l *listing) code() byte {
	switch l.kind {
	case matchRelay:
		return 1
	case matchAddress, matchHashed:
		return 2
	case matchDomain:
		return 3
	}
	return 4
}

var (
	loopback1 = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	loopback2 = netip.AddrFrom4([4]byte{127, 0, 0, 2})
)

// resolve answers a parsed, well-formed query.
func (r *Responder) resolve(a *answer, q *request, v *index.View) outcome {
	a.ttl = r.ttl
	if q.qclass != classIN && q.qclass != classANY {
		a.rcode = rcodeRefused
		return outcome{result: resRefused}
	}
	idx, ok := q.name.HasSuffix(r.apexWire)
	if !ok || q.qtype == typeAXFR || q.qtype == typeIXFR {
		// Zone transfer is a later feature; this is its seam.
		a.rcode = rcodeRefused
		return outcome{result: resRefused}
	}
	a.aa = true
	if idx == 0 {
		return r.apex(a, q, v)
	}
	var zk zoneKind
	switch string(q.name.Label(idx - 1)) {
	case qname.RelayZone:
		zk = zoneRelay
	case qname.SenderZone:
		zk = zoneSender
	case qname.VerpZone:
		zk = zoneVerp
	default:
		return r.ownNameAnswer(a, q, v, idx)
	}
	k := idx - 1
	if k == 0 {
		return r.negative(a, q, v, idx, rcodeNoError, zk)
	}
	if d, cut := cutOf(&q.name, k, v); d != nil {
		return r.referral(a, q, v, idx, cut, d, zk)
	}
	rev := qname.ParseRevIP(&q.name, k)
	var l listing
	var res resultKind
	switch zk {
	case zoneRelay:
		res = r.relay(&l, rev, k, v)
	case zoneSender:
		res = r.sender(&l, &q.name, rev, k, v)
	default:
		res = r.verp(&l, &q.name, rev, k, v)
	}
	switch res {
	case resNXDomain:
		return r.negative(a, q, v, idx, rcodeNXDomain, zk)
	case resNoData:
		return r.negative(a, q, v, idx, rcodeNoError, zk)
	}
	return r.positive(a, q, v, idx, &l, zk)
}

// notListed is the answer for a rev-ip that lists nothing: NODATA when the
// labels could still lead to a listed name (RFC 8020), else NXDOMAIN.
func notListed(rev qname.RevIP) resultKind {
	if rev.Partial {
		return resNoData
	}
	return resNXDomain
}

func (r *Responder) relay(l *listing, rev qname.RevIP, k int, v *index.View) resultKind {
	if !rev.Full || rev.Used != k || rev.Addr == loopback1 {
		return notListed(rev)
	}
	if rev.Addr == loopback2 {
		e := r.testEntity
		*l = listing{kind: matchRelay, entity: e, created: e.Created, meta: &e.Meta}
		return resListed
	}
	e := v.EntityRefOf(rev.Addr)
	if !e.Found() || !e.Registered() {
		return notListed(rev)
	}
	*l = listing{kind: matchRelay, ent: e, created: e.Created()}
	return resListed
}

// entityFor finds the entity of a full rev-ip in the sender and VERP zones:
// an entity of the index, or for the test address the test entity (test).
// When there is neither, res is the answer.
func (r *Responder) entityFor(rev qname.RevIP, v *index.View) (e index.EntityRef, test *record.Entity, res resultKind) {
	switch {
	case !rev.Full || rev.Addr == loopback1:
		return e, nil, notListed(rev)
	case rev.Addr == loopback2:
		return e, r.testEntity, resNoData
	}
	if e = v.EntityRefOf(rev.Addr); !e.Found() {
		return e, nil, notListed(rev)
	}
	return e, nil, resNoData
}

func (r *Responder) pair(v *index.View, e index.EntityRef, test bool, key []byte) hit {
	if test {
		if string(key) == r.testPair.Sender {
			return hit{test: r.testPair}
		}
		return hit{}
	}
	return hit{ref: v.LookupPair(e.ID(), key)}
}

func (r *Responder) sender(l *listing, n *qname.Name, rev qname.RevIP, k int, v *index.View) resultKind {
	e, testEnt, res := r.entityFor(rev, v)
	test := testEnt != nil
	if !e.Found() && !test {
		return res
	}
	s := k - rev.Used // the sender's labels are [0, s)
	if s == 0 {
		return resNoData
	}
	var sum [32]byte
	if !test && record.DecodeHashLabel(n.Label(0), &sum) {
		if h := (hit{ref: v.LookupPairHash(e.ID(), &sum)}); h.found() {
			*l = h.listingAt(matchHashed, e, testEnt)
			return resListed
		}
	}
	// The readings are tried in order (readingKey), the first alone: it is
	// what an escaping client's name means, and answers most listed names
	// with one look-up. The others go in groups whose look-ups overlap.
	var buf [maxKey]byte
	var sums [index.MaxLookups][32]byte
	var hits [index.MaxLookups]hit
	for t, end, all := 0, 1, readings(s); t < all; end = min(t+index.MaxLookups, all) {
		first := t
		for ; t < end; t++ {
			key := readingKey(buf[:0], n, t, s)
			if test {
				hits[t-first] = r.pair(v, e, true, key)
			} else {
				sums[t-first] = sha256.Sum256(key)
			}
		}
		m := t - first
		if !test {
			r.pairs(v, e, sums[:m], hits[:m])
		}
		for j, h := range hits[:m] {
			switch {
			case !h.found():
			case first+j < s-1:
				*l = h.listingAt(matchAddress, e, testEnt)
				return resListed
			case h.domainWide():
				*l = h.listingAt(matchDomain, e, testEnt)
				return resListed
			}
		}
	}
	return resNoData
}

// maxKey bounds a reading of a name's labels (at most 254 octets).
const maxKey = 256

// readings is how many index keys s sender labels may stand for: every
// local/domain split as an address, then every domain suffix.
func readings(s int) int { return 2 * (s - 1) }

// readingKey appends reading t of the sender labels [0, s) of n to dst:
// for t < s−1 the address with labels [0, t+1) as its local part, an
// unescaping client's dotted local part (RFC 1035 mailbox form escapes
// the dots: one label); then the domain of labels [t−s+2, s), for a
// domain-wide pair, longest first.
func readingKey(dst []byte, n *qname.Name, t, s int) []byte {
	if t < s-1 {
		dst = n.AppendJoined(dst, 0, t+1, '.')
		dst = append(dst, '@')
		return n.AppendJoined(dst, t+1, s, '.')
	}
	return n.AppendJoined(dst, t-s+2, s, '.')
}

// pairs looks up the senders of entity e whose SHA-256 values are sums:
// hits[i] for sums[i].
func (r *Responder) pairs(v *index.View, e index.EntityRef, sums [][32]byte, hits []hit) {
	var refs [index.MaxLookups]index.Ref
	v.LookupPairSums(e.ID(), sums, refs[:len(sums)])
	for i := range sums {
		hits[i] = hit{ref: refs[i]}
	}
}

func (r *Responder) verp(l *listing, n *qname.Name, rev qname.RevIP, k int, v *index.View) resultKind {
	e, testEnt, res := r.entityFor(rev, v)
	test := testEnt != nil
	if !e.Found() && !test {
		return res
	}
	s := k - rev.Used
	if s == 0 {
		return resNoData
	}
	var buf [256]byte
	key := n.AppendJoined(buf[:0], 0, s, '.')
	switch {
	case test && string(key) == r.testVerp.Domain:
		vp := r.testVerp
		*l = listing{kind: matchVerp, entity: testEnt, what: vp.Domain, created: vp.Created, meta: &vp.Meta}
	case test:
		return resNoData
	default:
		ref := v.LookupVerp(e.ID(), key)
		if !ref.Found() {
			return resNoData
		}
		*l = hit{ref: ref}.listingAt(matchVerp, e, nil)
	}
	return resListed
}
