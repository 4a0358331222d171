package index

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"
)

// Upsert is one record of Txn.UpsertAll: a pair (Text is a sender or, with
// no '@', a domain) or, with Verp, a VERP source (Text is the list domain).
// Text is normalised, as for UpsertPair.
type Upsert struct {
	Entity uint64
	Text   string
	Verp   bool
	Pinned bool
}

// UpsertAll does UpsertPair or UpsertVerp for each record of rs, in order,
// all with one at, by and method, and returns how many records were new.
// The outcome is the same as the calls one by one (a text given twice is
// refreshed by its last occurrence), but each table is written leaf by
// leaf: the records are sorted by key and every leaf they reach is copied
// once, with its new entries merged in one pass (a bulk import's cost per
// record no longer includes a leaf search, a shift of the leaf and, for
// most records at scale, a copy of the leaf of its own).
func (t *Txn) UpsertAll(rs []Upsert, at int64, by, method string) int {
	var pairs, verps []staged
	for _, r := range rs {
		flags := uint64(0)
		if r.Pinned {
			flags |= flagPinned
		}
		if !r.Verp && !strings.Contains(r.Text, "@") {
			flags |= flagDomain
		}
		k := mustKey(r.Entity, r.Text)
		s := staged{e: entry{hk: k.hk, lo: k.lo | flags, ent: k.ent, created: clampTime(at)}, text: r.Text}
		if r.Verp {
			verps = append(verps, s)
		} else {
			pairs = append(pairs, s)
		}
	}
	n := t.upsertAll(&t.v.pairs, pairs, at, by, method)
	n += t.upsertAll(&t.v.verps, verps, at, by, method)
	t.v.cold = t.cold.view()
	return n
}

// staged is a record on its way into a table: its entry (without its cold
// record yet) and its text.
type staged struct {
	e    entry
	text string
}

// upsertAll writes the records of ss into tb and returns how many were new.
func (t *Txn) upsertAll(tb *table, ss []staged, at int64, by, method string) int {
	if len(ss) == 0 {
		return 0
	}
	ss = sortStaged(ss)
	cv := t.cold.view()
	isVerp := tb == &t.v.verps
	added := 0
	fresh := func(s *staged) {
		s.e.cold = t.cold.add(0, at, by, method, coldText(s.text))
		t.addRecords(uint64(s.e.ent), 1)
		added++
		if isVerp {
			t.v.counts.VerpSources++
		} else {
			t.count(s.e.lo, 1)
		}
	}
	refresh := func(old entry, s *staged) {
		r := Ref{e: &old, cv: &cv}
		s.e.created, s.e.lastQ = old.created, old.lastQ
		s.e.cold = t.cold.add(r.Seen(), at, r.By(), r.Method(), coldText(s.text))
		t.cold.drop(cv, old.cold)
	}
	t.writer(tb).putAll(ss, fresh, refresh)
	return added
}

// coldText is the part of a record's text its cold record keeps.
func coldText(s string) string {
	if len(s) > maxColdText {
		return s[:maxColdText]
	}
	return s
}

// sortStaged sorts ss by key and keeps, of records with one key, the
// last. Keys are hashes, so a counting sort by their top bits leaves a
// handful of records per bucket, each then sorted on its own (stably:
// records with one key keep their order).
func sortStaged(ss []staged) []staged {
	b := bits.Len(uint(len(ss)))
	shift := 64 - b
	start := make([]int, 1<<b+1)
	for i := range ss {
		start[ss[i].e.hk>>shift+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	sorted := make([]staged, len(ss))
	next := slices.Clone(start[:len(start)-1])
	for i := range ss {
		at := &next[ss[i].e.hk>>shift]
		sorted[*at] = ss[i]
		*at++
	}
	for i := 0; i+1 < len(start); i++ {
		if bucket := sorted[start[i]:start[i+1]]; len(bucket) > 1 {
			slices.SortStableFunc(bucket, compareStaged)
		}
	}
	out := sorted[:0]
	for i := range sorted {
		if i+1 < len(sorted) && sorted[i+1].e.key() == sorted[i].e.key() {
			continue // a later record has the same key: it wins
		}
		out = append(out, sorted[i])
	}
	return out
}

func compareStaged(a, b staged) int {
	if c := cmp.Compare(a.e.hk, b.e.hk); c != 0 {
		return c
	}
	if c := cmp.Compare(a.e.lo&^flagMask, b.e.lo&^flagMask); c != 0 {
		return c
	}
	return cmp.Compare(a.e.ent, b.e.ent)
}

// putAll adds the records of ss (sorted by key, one per key) or replaces
// the entries with their keys, leaf by leaf. fresh is called for each new
// record and refresh for each replaced one, with the entry it replaces;
// both set the record's cold reference and may change its entry.
func (w tw) putAll(ss []staged, fresh func(*staged), refresh func(entry, *staged)) {
	w.init()
	for len(ss) > 0 {
		i := w.tb.slot(ss[0].e.hk)
		l := w.tb.leafAt(i)
		start, n := w.span(l, i)
		k := 1
		for k < len(ss) && w.tb.slot(ss[k].e.hk) < start+n {
			k++
		}
		nl := w.merge(l, start, n, ss[:k], fresh, refresh)
		if len(nl.es) > leafMax {
			w.split(nl, start)
		}
		ss = ss[k:]
	}
}

// merge writes the records of ss into leaf l, which serves the n slots
// from start, in one pass: a new entry array holding l's entries and the
// records, sorted by hash. It returns the leaf now serving those slots (l
// itself when the writer owns it), which may hold more than leafMax.
func (w tw) merge(l *leaf, start, n uint64, ss []staged, fresh func(*staged), refresh func(entry, *staged)) *leaf {
	old := l.es
	out := make([]entry, 0, len(old)+len(ss))
	i := 0
	for j := range ss {
		s := &ss[j]
		if j := i + search(old[i:], s.e.hk+1); j > i && s.e.hk != 1<<64-1 {
			out = append(out, old[i:j]...)
			i = j
		}
		for i < len(old) && old[i].hk <= s.e.hk { // hash 2^64-1 only
			out = append(out, old[i])
			i++
		}
		m := len(out) - 1
		k := s.e.key()
		for m >= 0 && out[m].hk == k.hk && !out[m].is(k) {
			m--
		}
		if m >= 0 && out[m].hk == k.hk {
			refresh(out[m], s)
			out[m] = s.e
			continue
		}
		fresh(s)
		out = append(out, s.e)
		w.tb.n++
	}
	out = append(out, old[i:]...)
	if !w.owns(l.gen) {
		l = &leaf{gen: w.gen, depth: l.depth, marked: 1}
		w.setRange(start, n, l)
	}
	l.es = out
	l.recount()
	return l
}
