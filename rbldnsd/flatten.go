package rbldnsd

import (
	"cmp"
	"net/netip"
	"slices"
)

// Member is one prefix of a relay entity: Listed with its TXT when the
// entity answers in the relay zone, unlisted when it does not (an
// unregistered relay inside a registered group's prefix hides that part of
// the group, as it does in wlns).
type Member struct {
	Prefix netip.Prefix
	Listed bool
	Text   string
}

// Flatten resolves members by longest-prefix match into disjoint listed
// prefixes in address order (IPv4 first). Of two members with the same
// prefix the later one wins, so callers append overrides (the RFC 5782
// test entries) last. Prefixes must be masked.
func Flatten(members []Member) []Member {
	ms := make([]Member, len(members))
	copy(ms, members)
	slices.SortStableFunc(ms, func(a, b Member) int {
		return cmp.Or(a.Prefix.Addr().Compare(b.Prefix.Addr()), cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()))
	})
	ms = lastOfEqual(ms)
	var f flattener
	for _, m := range ms {
		f.push(m)
	}
	f.popUntil(nil)
	return f.out
}

// lastOfEqual keeps, of a sorted run of equal prefixes, the last.
func lastOfEqual(ms []Member) []Member {
	out := ms[:0]
	for i, m := range ms {
		if i+1 < len(ms) && ms[i+1].Prefix == m.Prefix {
			continue
		}
		out = append(out, m)
	}
	return out
}

// flattener walks sorted prefixes (parents before their children) with a
// stack of the prefixes that contain the current position, writing each
// stretch of addresses with the value of the innermost prefix over it.
type flattener struct {
	stack  []Member
	cursor netip.Addr // first address not written yet, inside the stack's top
	done   bool       // the top's end was the family's last address
	out    []Member
}

func (f *flattener) push(m Member) {
	f.popUntil(&m)
	if n := len(f.stack); n > 0 && f.cursor.Less(m.Prefix.Addr()) {
		f.emit(f.stack[n-1], f.cursor, m.Prefix.Addr().Prev())
	}
	f.stack = append(f.stack, m)
	f.cursor, f.done = m.Prefix.Addr(), false
}

// popUntil closes the prefixes on the stack that do not contain m (all of
// them for nil), writing what is left of each.
func (f *flattener) popUntil(m *Member) {
	for n := len(f.stack); n > 0; n = len(f.stack) {
		top := f.stack[n-1]
		if m != nil && top.Prefix.Bits() <= m.Prefix.Bits() && top.Prefix.Contains(m.Prefix.Addr()) {
			return
		}
		last := lastAddr(top.Prefix)
		if !f.done {
			f.emit(top, f.cursor, last)
		}
		f.stack = f.stack[:n-1]
		next := last.Next()
		f.cursor, f.done = next, !next.IsValid() || next.Is4() != last.Is4()
	}
}

// emit writes lo..hi with m's value, as prefixes, when m is listed.
func (f *flattener) emit(m Member, lo, hi netip.Addr) {
	if !m.Listed || hi.Less(lo) {
		return
	}
	for _, p := range rangePrefixes(lo, hi) {
		f.out = append(f.out, Member{Prefix: p, Listed: true, Text: m.Text})
	}
}

// lastAddr is the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// rangePrefixes covers lo..hi (same family, lo <= hi) with the fewest
// prefixes, in order.
func rangePrefixes(lo, hi netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for {
		bits := lo.BitLen()
		for bits > 0 {
			p, _ := lo.Prefix(bits - 1)
			if p.Addr() != lo || hi.Less(lastAddr(p)) {
				break
			}
			bits--
		}
		p := netip.PrefixFrom(lo, bits)
		out = append(out, p)
		last := lastAddr(p)
		if last == hi {
			return out
		}
		lo = last.Next()
	}
}
