package zone

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// The relay zone as records. A member prefix is first cut to label
// boundaries (octets for IPv4, nibbles for IPv6): a /20 becomes sixteen
// /24s, a /126 four addresses; a longer original prefix keeps its place
// over a cut-up shorter one, as longest-prefix match would. Each aligned
// prefix is then an exact name (a full address) or a wildcard one label
// below its reversed labels. Wildcards alone would go wrong where a longer
// prefix sits inside a shorter one: for 192.0.0.0/16 (entity A) and
// 192.0.2.4/32 (entity B), 2.0.192 exists as an empty non-terminal, so a
// standard server answers NXDOMAIN for 5.2.0.192 (RFC 4592: the closest
// encloser 2.0.192 has no wildcard) where wlns answers A. So every node
// that exists below a covered prefix gets its own wildcard carrying the
// longest prefix that covers it.

// relayNode is one name of the relay tree with the aligned prefixes that
// end there.
type relayNode struct {
	v4, v6       *record.Entity
	bits4, bits6 int // the original prefix length (for precedence)
}

// relayTree maps reversed labels relative to the relay zone ("2.0.192",
// "" for the zone itself) to their node.
type relayTree map[string]*relayNode

func (t relayTree) set(key string, v6 bool, e *record.Entity, bits int) {
	n := t[key]
	if n == nil {
		n = &relayNode{bits4: -1, bits6: -1}
		t[key] = n
	}
	switch {
	case v6 && bits > n.bits6:
		n.v6, n.bits6 = e, bits
	case !v6 && bits > n.bits4:
		n.v4, n.bits4 = e, bits
	}
}

// addPrefix cuts p to label boundaries and sets each piece.
func (t relayTree) addPrefix(p netip.Prefix, e *record.Entity) {
	p = p.Masked()
	bits := p.Bits()
	if p.Addr().Is4() {
		aligned := (bits + 7) / 8 * 8
		base := be4(p.Addr())
		for i := uint32(0); i < 1<<(aligned-bits); i++ {
			var a [4]byte
			v := base
			if aligned < 32 {
				v |= i << (32 - aligned)
			} else {
				v |= i
			}
			a[0], a[1], a[2], a[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
			t.set(revLabels4(a, aligned/8), false, e, bits)
		}
		return
	}
	aligned := (bits + 3) / 4 * 4
	a := p.Addr().As16()
	for i := byte(0); i < 1<<(aligned-bits); i++ {
		b := a
		if aligned > 0 {
			j := aligned/4 - 1 // the last nibble, which the cut varies
			if j%2 == 0 {
				b[j/2] |= i << 4
			} else {
				b[j/2] |= i
			}
		}
		t.set(revLabels6(b, aligned/4), true, e, bits)
	}
}

func be4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// revLabels4 is the first n octets of a, reversed and dot-separated.
func revLabels4(a [4]byte, n int) string {
	var sb strings.Builder
	for i := n - 1; i >= 0; i-- {
		sb.WriteString(strconv.Itoa(int(a[i])))
		if i > 0 {
			sb.WriteByte('.')
		}
	}
	return sb.String()
}

// revLabels6 is the first n nibbles of a, reversed and dot-separated.
func revLabels6(a [16]byte, n int) string {
	const hex = "0123456789abcdef"
	var sb strings.Builder
	for i := n - 1; i >= 0; i-- {
		nib := a[i/2] >> 4
		if i%2 == 1 {
			nib = a[i/2] & 0xf
		}
		sb.WriteByte(hex[nib])
		if i > 0 {
			sb.WriteByte('.')
		}
	}
	return sb.String()
}

// parentKey drops the first label; ok is false at the zone itself.
func parentKey(k string) (string, bool) {
	if k == "" {
		return "", false
	}
	if i := strings.IndexByte(k, '.'); i >= 0 {
		return k[i+1:], true
	}
	return "", true
}

// families says which address families a node's labels can belong to:
// IPv4 when there are at most 4 decimal octets, IPv6 when at most 32
// single hex digits. Names like 1.0.0.2 are both.
func families(k string) (depth int, v4, v6 bool) {
	if k == "" {
		return 0, true, true
	}
	v4, v6 = true, true
	for l := range strings.SplitSeq(k, ".") {
		depth++
		if n, err := strconv.Atoi(l); err != nil || n > 255 || (len(l) > 1 && l[0] == '0') {
			v4 = false
		}
		if len(l) != 1 || !strings.ContainsRune("0123456789abcdef", rune(l[0])) {
			v6 = false
		}
	}
	return depth, v4 && depth <= 4, v6 && depth <= 32
}

// lpm finds the longest aligned prefix of one family covering node k, at
// most maxDepth labels deep.
func (t relayTree) lpm(k string, v6 bool, depth, maxDepth int) *record.Entity {
	for {
		if n := t[k]; n != nil && depth <= maxDepth {
			if v6 && n.v6 != nil {
				return n.v6
			}
			if !v6 && n.v4 != nil {
				return n.v4
			}
		}
		var ok bool
		if k, ok = parentKey(k); !ok {
			return nil
		}
		depth--
	}
}

// relay writes the relay zone.
func (b *xfrBuilder) relay() {
	t := relayTree{}
	b.v.Entities(func(e *record.Entity) bool {
		for _, p := range e.Prefixes {
			t.addPrefix(p, e)
		}
		return true
	})
	t.addPrefix(netip.PrefixFrom(loopback2, 32), b.r.testEntity)
	exists := map[string]bool{}
	for _, k := range b.cutKeys() {
		for ok := true; ok && !exists[k]; k, ok = parentKey(k) {
			exists[k] = true
		}
	}
	for k := range t {
		for ok := true; ok && !exists[k]; k, ok = parentKey(k) {
			exists[k] = true
		}
	}
	keys := make([]string, 0, len(exists))
	for k := range exists {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	suffix := qname.RelayZone + "." + b.apex
	for _, k := range keys {
		b.relayNode(t, k, suffix)
	}
}

// relayNode writes the exact record at node k and the wildcard below it.
func (b *xfrBuilder) relayNode(t relayTree, k, suffix string) {
	depth, v4, v6 := families(k)
	owner := suffix
	if k != "" {
		owner = k + "." + suffix
	}
	if v4 && depth == 4 {
		b.relayPut(owner, t.lpm(k, false, depth, 4))
	} else if v6 && depth == 32 {
		b.relayPut(owner, t.lpm(k, true, depth, 32))
	}
	var w4, w6 *record.Entity
	if v4 && depth < 4 {
		w4 = t.lpm(k, false, depth, 3)
	}
	if v6 && depth < 32 {
		w6 = t.lpm(k, true, depth, 31)
	}
	w := w4
	if w == nil {
		w = w6
	}
	if w == nil {
		return
	}
	if !w.Registered && depth > 0 {
		// An unregistered entity inside a registered prefix: its names
		// should be NXDOMAIN, but with no record below this node a standard
		// server takes the shorter prefix's wildcard.
		pk, _ := parentKey(k)
		if pw := t.lpm(pk, w6 == w && w4 == nil, depth-1, 31); pw != nil && pw.Registered {
			b.gaps++
		}
	}
	if v4 && v6 && depth < 4 && w4 != w6 {
		// Labels of single digits below here name IPv4 and IPv6 addresses
		// alike; one wildcard cannot give both families their answer.
		b.gaps++
	}
	b.relayPut("*."+owner, w)
}

func (b *xfrBuilder) relayPut(owner string, e *record.Entity) {
	if e == nil || !e.Registered {
		return
	}
	b.put(owner, 1, b.relayText(e), 0)
}
