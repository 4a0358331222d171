// Package oracle is the index as it was before the compact tables (release
// 0.x: pairs in a map of pointers keyed by entity and sender, a second one
// keyed by entity and the sender's SHA-256; entities as record.Entity
// structs by ID with a map from member prefix to entity), kept as the
// reference the index's differential test compares against. Only tests
// import it.
package oracle

import (
	"crypto/sha256"
	"encoding/binary"
	"maps"

	"github.com/wlns/wlns/record"
)

// Index holds the current version.
type Index struct{ cur *View }

// New returns an empty index.
func New() *Index {
	return &Index{cur: &View{pairs: map[string]*record.Pair{}, hashes: map[string]*record.Pair{}, verps: map[string]*record.Verp{},
		es: newEntities()}}
}

// Load returns the current version.
func (ix *Index) Load() *View { return ix.cur }

// View is one version.
type View struct {
	pairs, hashes      map[string]*record.Pair
	verps              map[string]*record.Verp
	nPairs, nDomain, n int
	es                 entities
}

// Counts returns the address pairs, domain pairs and VERP sources.
func (v *View) Counts() (pairs, domainPairs, verps int) { return v.nPairs, v.nDomain, v.n }

// Pair returns the pair of entity and lower-case sender, or nil.
func (v *View) Pair(entity uint64, sender []byte) *record.Pair {
	return v.pairs[string(appendKey(nil, entity, sender))]
}

// PairByHash returns the address pair of entity whose sender's SHA-256 is sum.
func (v *View) PairByHash(entity uint64, sum *[32]byte) *record.Pair {
	return v.hashes[string(appendKey(nil, entity, sum[:]))]
}

// Verp returns the VERP source of entity for domain, or nil.
func (v *View) Verp(entity uint64, domain []byte) *record.Verp {
	return v.verps[string(appendKey(nil, entity, domain))]
}

// Pairs calls fn for every pair until fn returns false.
func (v *View) Pairs(fn func(*record.Pair) bool) {
	for _, p := range v.pairs {
		if !fn(p) {
			return
		}
	}
}

// Verps calls fn for every VERP source until fn returns false.
func (v *View) Verps(fn func(*record.Verp) bool) {
	for _, vp := range v.verps {
		if !fn(vp) {
			return
		}
	}
}

// Txn builds the next version.
type Txn struct {
	ix *Index
	v  *View
}

// Begin starts a Txn on a copy of the current version.
func (ix *Index) Begin() *Txn { return &Txn{ix: ix, v: ix.cur.clone()} }

func (v *View) clone() *View {
	nv := *v
	nv.pairs, nv.hashes, nv.verps = maps.Clone(v.pairs), maps.Clone(v.hashes), maps.Clone(v.verps)
	nv.es = v.es.clone()
	return &nv
}

// View returns the version being built.
func (t *Txn) View() *View { return t.v }

// Commit publishes the version being built.
func (t *Txn) Commit() { t.ix.cur = t.v }

// Child starts a Txn on top of t's uncommitted version.
func (t *Txn) Child() *Txn { return &Txn{ix: t.ix, v: t.v.clone()} }

// Adopt makes the child's writes part of t.
func (t *Txn) Adopt(child *Txn) { t.v = child.v }

// PutPair adds or replaces a pair; the index keeps p.
func (t *Txn) PutPair(p *record.Pair) {
	key := string(appendKey(nil, p.Entity, []byte(p.Sender)))
	if _, ok := t.v.pairs[key]; !ok {
		t.count(p, 1)
	}
	t.v.pairs[key] = p
	if !p.DomainWide() {
		t.v.hashes[hashKey(p)] = p
	}
}

// DeletePair removes the pair of entity and sender.
func (t *Txn) DeletePair(entity uint64, sender string) {
	key := string(appendKey(nil, entity, []byte(sender)))
	p := t.v.pairs[key]
	if p == nil {
		return
	}
	delete(t.v.pairs, key)
	t.count(p, -1)
	if !p.DomainWide() {
		delete(t.v.hashes, hashKey(p))
	}
}

func (t *Txn) count(p *record.Pair, d int) {
	if p.DomainWide() {
		t.v.nDomain += d
	} else {
		t.v.nPairs += d
	}
}

// PutVerp adds or replaces a VERP source; the index keeps vp.
func (t *Txn) PutVerp(vp *record.Verp) {
	key := string(appendKey(nil, vp.Entity, []byte(vp.Domain)))
	if _, ok := t.v.verps[key]; !ok {
		t.v.n++
	}
	t.v.verps[key] = vp
}

// DeleteVerp removes the VERP source of entity for domain.
func (t *Txn) DeleteVerp(entity uint64, domain string) {
	key := string(appendKey(nil, entity, []byte(domain)))
	if _, ok := t.v.verps[key]; ok {
		delete(t.v.verps, key)
		t.v.n--
	}
}

func hashKey(p *record.Pair) string {
	sum := sha256.Sum256([]byte(p.Sender))
	return string(appendKey(nil, p.Entity, sum[:]))
}

func appendKey(b []byte, entity uint64, rest []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, entity)
	return append(b, rest...)
}
