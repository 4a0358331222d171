package zone

import (
	"github.com/wlns/wlns/index"
)

// apex answers at the apex itself: SOA, ANY (the SOA only, RFC 8482),
// and the apex's own records (NS with glue, MX, TXT ...).
func (r *Responder) apex(a *answer, q *request, v *index.View) outcome {
	switch q.qtype {
	case typeSOA, typeANY:
		r.addSOA(a, ptrQName, r.ttl, v)
		a.an++
		return outcome{zone: zoneApex, result: resListed}
	}
	return r.ownAnswer(a, q, v, r.own.Load().names[""], 0)
}

// negative answers NXDOMAIN or NODATA with the SOA in the authority section.
// apexLabel is the index of the apex's first label in the question name.
func (r *Responder) negative(a *answer, q *request, v *index.View, apexLabel int, rcode int, zk zoneKind) outcome {
	a.rcode = rcode
	r.addSOA(a, 0xc000|(headerLen+q.name.Offset(apexLabel)), r.negTTL, v)
	a.ns++
	if rcode == rcodeNXDomain {
		return outcome{zone: zk, result: resNXDomain}
	}
	return outcome{zone: zk, result: resNoData}
}

func (r *Responder) addSOA(a *answer, owner int, ttl uint32, v *index.View) {
	serial := v.ZoneSerial() // 0 is a serial too, after 4294967295 (RFC 1982)
	b, at := appRRHeader(a.b, owner, typeSOA, ttl)
	b = append(b, r.soaNames...)
	b = app32(b, serial)
	b = app32(b, 3600)   // refresh
	b = app32(b, 600)    // retry
	b = app32(b, 604800) // expire
	b = app32(b, r.negTTL)
	a.b = endRR(b, at)
}

// positive answers at a listed name: A, TXT, or both for ANY; other types
// get NODATA.
func (r *Responder) positive(a *answer, q *request, v *index.View, apexLabel int, l *listing, zk zoneKind) outcome {
	switch q.qtype {
	case typeA, typeTXT, typeANY:
	default:
		return r.negative(a, q, v, apexLabel, rcodeNoError, zk)
	}
	l.markSeen(r.now.Load())
	r.answers.Count(l.entityID())
	if q.qtype != typeTXT {
		a.addA(l.code())
	}
	if q.qtype != typeA {
		var tb [512]byte
		a.addTXT(appendTXT(tb[:0], l))
	}
	return outcome{zone: zk, result: resListed}
}
