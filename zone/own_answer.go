package zone

import "github.com/wlns/wlns/index"

// typeAAAA is the IPv6 address type.
const typeAAAA = 28

// maxGlueTargets bounds the names whose addresses one answer adds.
const maxGlueTargets = 8

// glueTarget is a name an answer record points at, and where that name
// sits in the answer (a compression pointer target).
type glueTarget struct {
	name *ownName
	off  int
}

// ownNameAnswer answers a name under the apex outside the data zones: from the
// zone's own names when it is one of them (or above one), else NXDOMAIN.
// idx is the index of the apex's first label in the question.
func (r *Responder) ownNameAnswer(a *answer, q *request, v *index.View, idx int) outcome {
	var kb [256]byte
	n := r.own.Load().names[string(queryKey(kb[:0], &q.name, idx))]
	if n == nil {
		return r.negative(a, q, v, idx, rcodeNXDomain, zoneOther)
	}
	return r.ownAnswer(a, q, v, n, idx)
}

// ownAnswer answers at one of the zone's own names: its RRset of the
// question's type (every RRset for ANY), with the addresses of the names
// inside the zone that NS, MX and SRV records point at in the additional
// section; NODATA when it has none.
func (r *Responder) ownAnswer(a *answer, q *request, v *index.View, n *ownName, idx int) outcome {
	var targets [maxGlueTargets]glueTarget
	nt := 0
	for i := range n.sets {
		s := &n.sets[i]
		if q.qtype != typeANY && s.rtype != q.qtype {
			continue
		}
		for j := range s.rrs {
			o := &s.rrs[j]
			b, at := appRRHeader(a.b, ptrQName, s.rtype, s.ttl)
			if o.target != nil && nt < len(targets) && len(b)+o.tOff < 0x4000 {
				targets[nt] = glueTarget{name: o.target, off: len(b) + o.tOff}
				nt++
			}
			b = append(b, o.rdata...)
			a.b = endRR(b, at)
			a.an++
		}
	}
	if a.an == 0 {
		return r.negative(a, q, v, idx, rcodeNoError, zoneApex)
	}
	a.arStart = len(a.b)
	for i := 0; i < nt; i++ {
		if !givenBefore(targets[:i], targets[i].name) {
			a.addGlue(targets[i])
		}
	}
	return outcome{zone: zoneApex, result: resListed}
}

func givenBefore(ts []glueTarget, n *ownName) bool {
	for _, t := range ts {
		if t.name == n {
			return true
		}
	}
	return false
}

// addGlue adds the A and AAAA records of t to the additional section.
func (a *answer) addGlue(t glueTarget) {
	for _, rtype := range [2]int{typeA, typeAAAA} {
		s := t.name.set(rtype)
		if s == nil {
			continue
		}
		for j := range s.rrs {
			b, at := appRRHeader(a.b, 0xc000|t.off, rtype, s.ttl)
			b = append(b, s.rrs[j].rdata...)
			a.b = endRR(b, at)
			a.ar++
		}
	}
}
