package zone

import (
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// typeDS is the DS type: the one question a parent answers itself at a
// cut (RFC 4035 §3.1.4.1).
const typeDS = 43

// cutOf finds the delegation whose cut is at or above the question name
// in a relay, sender or VERP tree: the labels [0, k) lie below the tree
// label, label k-1 nearest the apex. It returns the delegation and the
// index of the cut's leftmost label. It allocates nothing: the key is
// built in a stack buffer and looked up once per cut depth in use.
func cutOf(n *qname.Name, k int, v *index.View) (*record.Delegation, int) {
	depths := v.DelegationDepths()
	if len(depths) == 0 {
		return nil, 0
	}
	var buf [256]byte
	key, d := buf[:0], 0
	for _, want := range depths {
		if int(want) > k {
			break
		}
		for d < int(want) {
			if d > 0 {
				key = append(key, '.')
			}
			key = append(key, n.Label(k-1-d)...)
			d++
		}
		if dl := v.Delegation(string(key)); dl != nil {
			return dl, k - d
		}
	}
	return nil, 0
}

// referral answers a name at or below a cut as a parent does: NOERROR,
// AA off, the cut's NS records in the authority section and, for name
// servers below the delegation's own cuts, their addresses in the
// additional section (glue; a name elsewhere in the zone gets none, as no
// delegation may publish addresses for a name it does not own). A DS question at the cut itself gets the parent's own answer,
// NODATA with the SOA: the zone is not signed.
func (r *Responder) referral(a *answer, q *request, v *index.View, apexLabel, cut int, d *record.Delegation, zk zoneKind) outcome {
	if cut == 0 && q.qtype == typeDS {
		return r.negative(a, q, v, apexLabel, rcodeNoError, zk)
	}
	a.aa = false
	owner := 0xc000 | (headerLen + q.name.Offset(cut))
	for _, ns := range d.NS {
		b, at := appRRHeader(a.b, owner, typeNS, r.ttl)
		b = appendWireName(b, ns.Name)
		a.b = endRR(b, at)
		a.ns++
	}
	a.arStart = len(a.b)
	for _, ns := range d.NS {
		if !r.inZone(ns.Name) || !r.belowCut(ns.Name, q, cut, apexLabel) {
			continue
		}
		a.glueRequired = a.glueRequired || under(ns.Name, q, cut)
		for _, addr := range ns.Addrs {
			b := appendWireName(a.b, ns.Name)
			if addr.Is4() {
				a4 := addr.As4()
				b = appendGlueHeader(b, typeA, r.ttl, len(a4))
				a.b = append(b, a4[:]...)
			} else {
				a16 := addr.As16()
				b = appendGlueHeader(b, typeAAAA, r.ttl, len(a16))
				a.b = append(b, a16[:]...)
			}
			a.ar++
		}
	}
	return outcome{zone: zk, result: resReferral}
}

// inZone reports whether a host name (presentation form, lower case, no
// final dot) lies under the apex: only then does a parent send glue.
func (r *Responder) inZone(name string) bool {
	return hasNameSuffix(name, r.apexName[:len(r.apexName)-1])
}

// belowCut reports whether a host name lies below the question's cut
// (labels [cut, apexLabel-1), the tree label at apexLabel-1) in any of the
// three trees: the delegation's own names, the only ones it glues
// (record.BelowCut). It allocates nothing.
func (r *Responder) belowCut(name string, q *request, cut, apexLabel int) bool {
	var buf [256]byte
	apex := r.apexName[:len(r.apexName)-1]
	for _, tree := range record.Trees() {
		s := q.name.AppendJoined(buf[:0], cut, apexLabel-1, '.')
		s = append(append(append(append(s, '.'), tree...), '.'), apex...)
		n := len(name) - len(s)
		if n > 0 && name[n:] == string(s) && name[n-1] == '.' {
			return true
		}
	}
	return false
}

// under reports whether a host name lies below the cut whose leftmost
// label is label cut of the question: its glue is required.
func under(name string, q *request, cut int) bool {
	var buf [256]byte
	s := q.name.AppendJoined(buf[:0], cut, q.name.Len(), '.')
	n := len(name) - len(s)
	return n > 0 && name[n:] == string(s) && name[n-1] == '.'
}

// hasNameSuffix reports whether name is a name strictly below suffix (both
// presentation form, lower case, no final dot).
func hasNameSuffix(name, suffix string) bool {
	return len(name) > len(suffix) && name[len(name)-len(suffix):] == suffix && name[len(name)-len(suffix)-1] == '.'
}

// appendGlueHeader appends the type, class, TTL and RDLENGTH of a glue
// record whose owner name is already written.
func appendGlueHeader(b []byte, typ int, ttl uint32, n int) []byte {
	b = app16(b, typ)
	b = app16(b, classIN)
	b = app32(b, ttl)
	return app16(b, n)
}

// appendWireName appends the wire form of a validated host name
// (record.NormalizeNameServers) to b.
func appendWireName(b []byte, name string) []byte {
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			b = append(b, byte(i-start))
			b = append(b, name[start:i]...)
			start = i + 1
		}
	}
	return append(b, 0)
}
