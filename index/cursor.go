package index

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
)

// Cursor is a position in the order pairs (or VERP sources) are stored in:
// by the table's hash, then the rest of the digest, then the entity. It
// pages a walk without an offset: resuming after a cursor costs one
// directory step and one binary search, however deep the page is. The
// order is stable while records are added and deleted, but it is not
// alphabetical: it follows the digest of the sender.
type Cursor struct{ k key }

// Cursor is r's position, to resume a walk after it.
func (r Ref) Cursor() Cursor { return Cursor{r.e.key()} }

// String encodes c as 40 hex digits.
func (c Cursor) String() string {
	var b [20]byte
	binary.BigEndian.PutUint64(b[0:], c.k.hk)
	binary.BigEndian.PutUint64(b[8:], c.k.lo)
	binary.BigEndian.PutUint32(b[16:], c.k.ent)
	return hex.EncodeToString(b[:])
}

// ParseCursor decodes Cursor.String; the empty string is the start.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 20 {
		return Cursor{}, errors.New("invalid cursor: want the 40 hex digits of a previous page")
	}
	return Cursor{key{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), binary.BigEndian.Uint32(b[16:])}}, nil
}

// EachPairAfter calls fn, in cursor order, for every pair after c (the
// zero Cursor: from the start) until fn returns false.
func (v *View) EachPairAfter(c Cursor, fn func(Ref) bool) {
	v.pairs.eachAfter(c.k, func(e *entry, l *leaf) bool { return fn(Ref{e: e, l: l, cv: &v.cold}) })
}

// EachVerpAfter is EachPairAfter for VERP sources.
func (v *View) EachVerpAfter(c Cursor, fn func(Ref) bool) {
	v.verps.eachAfter(c.k, func(e *entry, l *leaf) bool { return fn(Ref{e: e, l: l, cv: &v.cold}) })
}

func compareKeys(a, b key) int {
	if c := cmp.Compare(a.hk, b.hk); c != 0 {
		return c
	}
	if c := cmp.Compare(a.lo, b.lo); c != 0 {
		return c
	}
	return cmp.Compare(a.ent, b.ent)
}

// eachAfter walks the leaves from the one holding k's hash, in slot
// order (ascending hash), calling fn for the entries whose key is after k.
func (tb *table) eachAfter(k key, fn func(*entry, *leaf) bool) {
	if tb.pages == nil {
		return
	}
	for i := tb.slot(k.hk); i < uint64(len(tb.pages))*dirSlots; {
		l := tb.leafAt(i)
		if !l.eachAfter(k, fn) {
			return
		}
		span := uint64(1) << (tb.depth - l.depth)
		i = (i/span + 1) * span
	}
}

// eachAfter calls fn for the leaf's entries after k. Entries are sorted
// by hash only; the rare run of equal hashes is visited in key order, so
// that a cursor inside the run resumes exactly.
func (l *leaf) eachAfter(k key, fn func(*entry, *leaf) bool) bool {
	es := l.es
	for j := search(es, k.hk); j < len(es); {
		n := 1
		for j+n < len(es) && es[j+n].hk == es[j].hk {
			n++
		}
		if n == 1 {
			if compareKeys(es[j].key(), k) > 0 && !fn(&es[j], l) {
				return false
			}
			j++
			continue
		}
		run := make([]*entry, n)
		for x := range run {
			run[x] = &es[j+x]
		}
		slices.SortFunc(run, func(a, b *entry) int { return compareKeys(a.key(), b.key()) })
		for _, e := range run {
			if compareKeys(e.key(), k) > 0 && !fn(e, l) {
				return false
			}
		}
		j += n
	}
	return true
}
