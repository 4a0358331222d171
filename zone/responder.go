package zone

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/activity"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Responder answers DNS packets for one apex. It is safe for concurrent use:
// everything it holds is read-only after NewResponder, except the seen marks
// it sets on records.
type Responder struct {
	apexWire []byte // lower-case wire form of the apex, root included
	apexName string // the apex, fully qualified, lower case
	ttl      uint32
	negTTL   uint32
	ns       [][]byte // NS names, wire form
	// nameServers are the NS names with the glue of those inside the zone.
	nameServers []nameServer
	// own is the zone's own names compiled for the latest zone records
	// (never nil; see follow); ownMu orders its builders, never readers.
	own      atomic.Pointer[ownTable]
	ownMu    sync.Mutex
	soaNames []byte // SOA MNAME + RNAME, wire form
	now      *atomic.Int64
	// withdrawn makes every answer REFUSED while true (never nil).
	withdrawn *atomic.Bool
	// answers counts positive answers per entity (nil: not counted).
	answers *activity.Counter
	// nsid is sent to queries that ask for it (RFC 5001); empty: none.
	nsid []byte
	// cookies makes and checks server cookies; nil: COOKIE options are
	// ignored.
	cookies *cookieKeys

	// The RFC 5782 test entries, answered without the index.
	testEntity *record.Entity
	testPair   *record.Pair
	testVerp   *record.Verp
}

// ResponderConfig is what a Responder needs; Config.responderConfig builds it
// from the server configuration with defaults applied.
type ResponderConfig struct {
	Apex        string
	TTL         uint32
	NegativeTTL uint32
	NS          []string
	Hostmaster  string
	// Now is the coarse clock (Unix seconds) used for seen marks.
	Now *atomic.Int64
	// Withdrawn, while true, turns every answer into REFUSED (see
	// Config.Withdrawn); nil means never.
	Withdrawn *atomic.Bool
	// Answers counts positive answers per entity; nil: not counted.
	Answers *activity.Counter
	// NSID identifies this server to queries that ask (RFC 5001); at most
	// 128 bytes; empty: not sent.
	NSID string
	// CookieSecret is the base secret of the server cookies (RFC 7873,
	// 9018), the same on every mirror so that each verifies the others'
	// cookies; at least 16 bytes; empty: cookies off.
	CookieSecret []byte
}

// NewResponder builds a Responder. Names are in presentation format.
func NewResponder(c ResponderConfig) (*Responder, error) {
	apex, err := packName(c.Apex)
	if err != nil {
		return nil, fmt.Errorf("apex %q: %w", c.Apex, err)
	}
	if len(apex) <= 1 {
		return nil, fmt.Errorf("apex must not be the root")
	}
	if len(c.NSID) > maxNSID {
		return nil, fmt.Errorf("NSID of %d bytes: at most %d", len(c.NSID), maxNSID)
	}
	if len(c.CookieSecret) > 0 && len(c.CookieSecret) < 16 {
		return nil, fmt.Errorf("cookie secret of %d bytes: at least 16", len(c.CookieSecret))
	}
	r := &Responder{apexWire: lowerWire(apex), apexName: strings.ToLower(dns.Fqdn(c.Apex)), ttl: c.TTL, negTTL: c.NegativeTTL, now: c.Now, withdrawn: c.Withdrawn, answers: c.Answers,
		nsid: []byte(c.NSID), cookies: newCookieKeys(c.CookieSecret)}
	if r.now == nil {
		r.now = new(atomic.Int64)
	}
	if r.withdrawn == nil {
		r.withdrawn = new(atomic.Bool)
	}
	if len(c.NS) == 0 {
		return nil, fmt.Errorf("at least one NS name is needed")
	}
	if r.nameServers, err = parseNS(c.NS, c.Apex); err != nil {
		return nil, err
	}
	for _, ns := range r.nameServers {
		w, err := packName(ns.name)
		if err != nil {
			return nil, fmt.Errorf("NS %q: %w", ns.name, err)
		}
		r.ns = append(r.ns, w)
	}
	r.own.Store(r.compileOwn(nil))
	rname, err := packMailbox(c.Hostmaster)
	if err != nil {
		return nil, fmt.Errorf("hostmaster %q: %w", c.Hostmaster, err)
	}
	r.soaNames = append(append([]byte{}, r.ns[0]...), rname...)
	r.testEntity = TestEntity()
	r.testPair = &record.Pair{Sender: "test"}
	r.testVerp = &record.Verp{Domain: "test"}
	return r, nil
}

// Respond answers the DNS request req from the view v, appending the
// response to dst[:0]. udpLimit is the largest datagram the transport sends
// (the client's EDNS size or 512 also applies); 0 means TCP. ok is false when
// the packet must be dropped without an answer. Respond allocates nothing.
func (r *Responder) Respond(dst, req []byte, v *index.View, udpLimit int) (resp []byte, ok bool) {
	resp, o := r.respond(dst, req, v, udpLimit, netip.Addr{})
	return resp, o.result != resDropped
}

// maxNSID bounds the NSID so that it always fits a 512-byte answer.
const maxNSID = 128

// outcome classifies an answer for the metrics and rate limiting, and says
// where its question ends.
type outcome struct {
	zone      zoneKind
	result    resultKind
	truncated bool
	// qEnd is the end of the question section in the answer (the header's
	// end when there is none); opt is where its OPT record starts, 0
	// without one.
	qEnd, opt int
	// cookie is set when the query carried a valid server cookie.
	cookie bool
}

type zoneKind uint8

const (
	zoneOther zoneKind = iota
	zoneApex
	zoneRelay
	zoneSender
	zoneVerp
	nZones
)

var zoneNames = [nZones]string{"other", "apex", "relay", "sender", "verp"}

type resultKind uint8

const (
	resListed resultKind = iota
	resNoData
	resNXDomain
	resRefused
	resFormErr
	resNotImp
	resDropped
	// resReferral is an answer below a delegation's cut (a referral).
	resReferral
	nResults
)

var resultNames = [nResults]string{"listed", "nodata", "nxdomain", "refused", "formerr", "notimp", "dropped", "referral"}

// respond is Respond for a query from src (the zero Addr when unknown: no
// server cookie is made then).
func (r *Responder) respond(dst, req []byte, v *index.View, udpLimit int, src netip.Addr) ([]byte, outcome) {
	var q request
	switch q.parse(req) {
	case parseDrop:
		return dst[:0], outcome{result: resDropped}
	case parseFormErr:
		b, opt := errorOnly(dst, &q, rcodeFormErr, r.nsid)
		return b, outcome{result: resFormErr, qEnd: headerLen, opt: opt}
	case parseNotImp:
		b, opt := errorOnly(dst, &q, rcodeNotImp, r.nsid)
		return b, outcome{result: resNotImp, qEnd: headerLen, opt: opt}
	}
	limit := maxTCPMsg
	if udpLimit > 0 {
		limit = min(udpLimit, q.clientLimit())
	}
	var a answer
	a.init(dst, req, &q)
	a.nsid = r.nsid
	if q.cookieLen > 0 {
		a.cookie = r.cookies.answerCookie(req[q.cookieOff:q.cookieOff+q.cookieLen], src, uint32(r.now.Load()))
	}
	var o outcome
	switch {
	case q.edns && q.ednsVer > 0:
		a.rcode = rcodeBadVers
		o.result = resFormErr
	case r.withdrawn.Load():
		a.rcode = rcodeRefused
		o.result = resRefused
	default:
		o = r.resolve(&a, &q, v)
	}
	out, tc, opt := a.finish(limit)
	o.truncated, o.qEnd, o.opt, o.cookie = tc, q.qEnd, opt, a.cookie.valid
	return out, o
}
