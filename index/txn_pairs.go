package index

import (
	"fmt"
	"strings"

	"github.com/wlns/wlns/record"
)

// PutPair adds or replaces a pair, with p's seen mark. The index copies
// what it keeps; p stays the caller's. p.Entity must fit in 32 bits.
func (t *Txn) PutPair(p *record.Pair) {
	flags := uint64(0)
	if p.DomainWide() {
		flags |= flagDomain
	}
	if t.put(&t.v.pairs, p.Entity, p.Sender, flags, &p.Meta, p.By, p.Method) {
		t.count(flags, 1)
	}
}

// DeletePair removes the pair of entity and sender, if there is one.
func (t *Txn) DeletePair(entity uint64, sender string) {
	if old, ok := t.remove(&t.v.pairs, entity, sender); ok {
		t.count(old.lo, -1)
	}
}

// TouchPair raises the LastQueried of the pair of entity and sender to at
// and reports whether it did: false when there is no such pair or it was
// queried at or after at already. Only the pair's hot entry changes.
func (t *Txn) TouchPair(entity uint64, sender string, at int64) bool {
	return t.touch(&t.v.pairs, entity, sender, at)
}

// PutVerp adds or replaces a VERP source, with vp's seen mark. The index
// copies what it keeps.
func (t *Txn) PutVerp(vp *record.Verp) {
	if t.put(&t.v.verps, vp.Entity, vp.Domain, 0, &vp.Meta, vp.By, vp.Method) {
		t.v.counts.VerpSources++
	}
}

// DeleteVerp removes the VERP source of entity for domain, if there is one.
func (t *Txn) DeleteVerp(entity uint64, domain string) {
	if _, ok := t.remove(&t.v.verps, entity, domain); ok {
		t.v.counts.VerpSources--
	}
}

// TouchVerp is TouchPair for the VERP source of entity for domain.
func (t *Txn) TouchVerp(entity uint64, domain string, at int64) bool {
	return t.touch(&t.v.verps, entity, domain, at)
}

func (t *Txn) count(flags uint64, d int) {
	if flags&flagDomain != 0 {
		t.v.counts.DomainPairs += d
	} else {
		t.v.counts.Pairs += d
	}
}

func (t *Txn) writer(tb *table) tw { return tw{tb: tb, min: t.gen, gen: t.gen} }

// put stores a record and reports whether it is new.
func (t *Txn) put(tb *table, entity uint64, text string, flags uint64, m *record.Meta, by, method string) bool {
	return t.putKey(tb, mustKey(entity, text), entity, text, flags, m, by, method)
}

// mustKey is the key of entity and text; an entity ID past 32 bits is a
// caller's bug (the state machine resolves IDs it hands out).
func mustKey(entity uint64, text string) key {
	k, ok := keyOfText(entity, []byte(text))
	if !ok {
		panic(fmt.Sprintf("index: entity ID %d does not fit in 32 bits", entity))
	}
	return k
}

// UpsertPair adds the pair of entity and sender (normalised, lower case)
// created at, or refreshes the one there: its Updated becomes at and its
// pinned flag pinned, and it keeps its Created, LastQueried, seen mark, By
// and Method. It reports whether the pair is new. It is PutPair after a
// Pair lookup, with one digest and no record copy: what a bulk import does
// per record.
func (t *Txn) UpsertPair(entity uint64, sender string, at int64, pinned bool, by, method string) bool {
	flags := uint64(0)
	if !strings.Contains(sender, "@") {
		flags |= flagDomain
	}
	if t.upsert(&t.v.pairs, entity, sender, flags, at, pinned, by, method) {
		t.count(flags, 1)
		return true
	}
	return false
}

// UpsertVerp is UpsertPair for the VERP source of entity for domain.
func (t *Txn) UpsertVerp(entity uint64, domain string, at int64, pinned bool, by, method string) bool {
	if t.upsert(&t.v.verps, entity, domain, 0, at, pinned, by, method) {
		t.v.counts.VerpSources++
		return true
	}
	return false
}

func (t *Txn) upsert(tb *table, entity uint64, text string, flags uint64, at int64, pinned bool, by, method string) bool {
	k := mustKey(entity, text)
	m := record.Meta{Created: at, Updated: at, Pinned: pinned}
	if e := tb.find(k); e != nil {
		r := Ref{e: e, cv: &t.v.cold}
		m.Created, m.LastQueried = r.Created(), r.LastQueried()
		m.MarkSeen(r.Seen())
		by, method = r.By(), r.Method()
	}
	return t.putKey(tb, k, entity, text, flags, &m, by, method)
}

func (t *Txn) putKey(tb *table, k key, entity uint64, text string, flags uint64, m *record.Meta, by, method string) bool {
	if m.Pinned {
		flags |= flagPinned
	}
	e := entry{hk: k.hk, lo: k.lo | flags, ent: k.ent, created: clampTime(m.Created), lastQ: clampTime(m.LastQueried)}
	if len(text) > maxColdText {
		text = text[:maxColdText]
	}
	e.cold = t.cold.add(m.Seen(), m.Updated, by, method, text)
	t.v.cold = t.cold.view()
	old, replaced := t.writer(tb).put(e)
	if replaced {
		t.cold.drop(t.v.cold, old.cold)
	} else {
		t.addRecords(entity, 1)
	}
	return !replaced
}

func (t *Txn) remove(tb *table, entity uint64, text string) (entry, bool) {
	k, ok := keyOfText(entity, []byte(text))
	if !ok {
		return entry{}, false
	}
	old, ok := t.writer(tb).remove(k)
	if ok {
		t.cold.drop(t.v.cold, old.cold)
		t.addRecords(entity, -1)
	}
	return old, ok
}

func (t *Txn) touch(tb *table, entity uint64, text string, at int64) bool {
	k, ok := keyOfText(entity, []byte(text))
	if !ok {
		return false
	}
	return t.writer(tb).touch(k, clampTime(at))
}
