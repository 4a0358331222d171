package index

import "github.com/wlns/wlns/record"

// LookupPair finds the pair of entity and sender ("local@domain", or a
// domain for a domain-wide entry), which must be lower case. It allocates
// nothing: the DNS path calls it.
func (v *View) LookupPair(entity uint64, sender []byte) Ref {
	k, ok := keyOfText(entity, sender)
	if !ok {
		return Ref{}
	}
	return v.ref(&v.pairs, k)
}

// MaxLookups is how many look-ups LookupPairSums overlaps.
const MaxLookups = maxLookups

// LookupPairSums is LookupPair for several senders of entity given by
// the SHA-256 of each (of the lower-case text, as LookupPair hashes it):
// refs[i] (refs is at least as long as sums) for sums[i]. Unlike
// LookupPairHash it finds domain-wide pairs too. The look-ups' memory
// reads overlap, MaxLookups at a time, so where each is a few cache misses
// in a row (a large index) several cost little more than one: the sender
// zone tries every reading of an unknown name. It allocates nothing.
func (v *View) LookupPairSums(entity uint64, sums [][32]byte, refs []Ref) {
	clear(refs[:len(sums)])
	for off := 0; off < len(sums); off += maxLookups {
		n := min(len(sums)-off, maxLookups)
		var ks [maxLookups]key
		var es [maxLookups]*entry
		var ls [maxLookups]*leaf
		for i := range n {
			k, ok := keyOf(entity, &sums[off+i])
			if !ok {
				return
			}
			ks[i] = k
		}
		v.pairs.lookupAll(ks[:n], es[:n], ls[:n])
		for i := range n {
			if es[i] != nil {
				refs[off+i] = Ref{e: es[i], l: ls[i], cv: &v.cold}
			}
		}
	}
}

// LookupPairHash finds the address pair of entity whose sender's SHA-256 is
// sum; a domain-wide pair is never found by hash.
func (v *View) LookupPairHash(entity uint64, sum *[32]byte) Ref {
	k, ok := keyOf(entity, sum)
	if !ok {
		return Ref{}
	}
	if r := v.ref(&v.pairs, k); r.Found() && !r.DomainWide() {
		return r
	}
	return Ref{}
}

// LookupVerp finds the VERP source of entity for a lower-case domain.
func (v *View) LookupVerp(entity uint64, domain []byte) Ref {
	k, ok := keyOfText(entity, domain)
	if !ok {
		return Ref{}
	}
	return v.ref(&v.verps, k)
}

func (v *View) ref(tb *table, k key) Ref {
	if e, l := tb.lookup(k); e != nil {
		return Ref{e: e, l: l, cv: &v.cold}
	}
	return Ref{}
}

// Pair returns a copy of the pair of entity and lower-case sender, or nil.
// The API's read; DNS uses LookupPair.
func (v *View) Pair(entity uint64, sender []byte) *record.Pair {
	return v.LookupPair(entity, sender).Pair()
}

// PairByHash returns a copy of the address pair of entity whose sender's
// SHA-256 is sum, or nil.
func (v *View) PairByHash(entity uint64, sum *[32]byte) *record.Pair {
	return v.LookupPairHash(entity, sum).Pair()
}

// Verp returns a copy of the VERP source of entity for a lower-case
// domain, or nil.
func (v *View) Verp(entity uint64, domain []byte) *record.Verp {
	return v.LookupVerp(entity, domain).Verp()
}

// EachPair calls fn for every pair, in no particular order, until fn
// returns false. It allocates nothing.
func (v *View) EachPair(fn func(Ref) bool) {
	v.pairs.each(func(e *entry, l *leaf) bool { return fn(Ref{e: e, l: l, cv: &v.cold}) })
}

// EachPairOf calls fn for every pair of entity, in no particular order,
// until fn returns false. It still reads every leaf (a hash-keyed table
// has no per-entity order), but compares only each entry's entity in a
// tight loop, about a nanosecond an entry.
func (v *View) EachPairOf(entity uint64, fn func(Ref) bool) {
	v.pairs.eachOf(entity, func(e *entry, l *leaf) bool { return fn(Ref{e: e, l: l, cv: &v.cold}) })
}

// EachVerpOf is EachPairOf for VERP sources.
func (v *View) EachVerpOf(entity uint64, fn func(Ref) bool) {
	v.verps.eachOf(entity, func(e *entry, l *leaf) bool { return fn(Ref{e: e, l: l, cv: &v.cold}) })
}

// EachVerp calls fn for every VERP source, in no particular order, until
// fn returns false.
func (v *View) EachVerp(fn func(Ref) bool) {
	v.verps.each(func(e *entry, l *leaf) bool { return fn(Ref{e: e, l: l, cv: &v.cold}) })
}

// EachPairExpiring calls fn, until fn returns false, for every unpinned
// pair last active (record.Meta.LastActive) before cutoff, in no
// particular order. It skips the leaves that hold none, so a sweep that
// finds little costs little.
func (v *View) EachPairExpiring(cutoff int64, fn func(Ref) bool) {
	v.pairs.eachBefore(uint64(max(cutoff, 0)), v.expiring(cutoff, fn))
}

// EachVerpExpiring is EachPairExpiring for VERP sources.
func (v *View) EachVerpExpiring(cutoff int64, fn func(Ref) bool) {
	v.verps.eachBefore(uint64(max(cutoff, 0)), v.expiring(cutoff, fn))
}

func (v *View) expiring(cutoff int64, fn func(Ref) bool) func(*entry, *leaf) bool {
	return func(e *entry, l *leaf) bool {
		if e.lo&flagPinned != 0 || int64(e.active()) >= cutoff {
			return true
		}
		return fn(Ref{e: e, l: l, cv: &v.cold})
	}
}

// EachPairMarked calls due for every pair that may carry a seen mark not
// yet reported, and maybe for others; due says whether the pair's mark is
// still to be reported. A leaf none of whose pairs is due is left out of
// the next walk until a positive answer marks one of its pairs again (or a
// write replaces it), so a touch walk costs what was queried, not the
// index. Walks must not run concurrently (the touch loop is one).
func (v *View) EachPairMarked(due func(Ref) bool) { v.pairs.eachMarked(&v.cold, due) }

// EachVerpMarked is EachPairMarked for VERP sources.
func (v *View) EachVerpMarked(due func(Ref) bool) { v.verps.eachMarked(&v.cold, due) }

// Pairs calls fn with a copy of every pair, in no particular order, until
// fn returns false.
func (v *View) Pairs(fn func(*record.Pair) bool) {
	v.EachPair(func(r Ref) bool { return fn(r.Pair()) })
}

// Verps calls fn with a copy of every VERP source, in no particular order,
// until fn returns false.
func (v *View) Verps(fn func(*record.Verp) bool) {
	v.EachVerp(func(r Ref) bool { return fn(r.Verp()) })
}
