package index

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"sync/atomic"

	"github.com/wlns/wlns/record"
)

// Ref is a handle on one pair or VERP source of a View: its hot fields
// without a copy, its cold fields on demand. The zero Ref is "not found".
// A Ref from a published View stays valid as long as it is held; one from a
// Txn's own View only until the Txn's next write. Reading a Ref allocates
// nothing, except Pair and Verp, which build a record.
type Ref struct {
	e  *entry
	l  *leaf
	cv *coldView
}

// Found reports whether r names a record.
func (r Ref) Found() bool { return r.e != nil }

// Entity is the ID of the record's entity.
func (r Ref) Entity() uint64 { return uint64(r.e.ent) }

// DomainWide reports whether a pair covers a whole domain.
func (r Ref) DomainWide() bool { return r.e.lo&flagDomain != 0 }

// Pinned reports whether the record never expires.
func (r Ref) Pinned() bool { return r.e.lo&flagPinned != 0 }

// Created is when the record was first written, Unix seconds.
func (r Ref) Created() int64 { return int64(r.e.created) }

// LastQueried is the replicated time of the record's last query, or zero.
func (r Ref) LastQueried() int64 { return int64(r.e.lastQ) }

// LastActive is LastQueried, or Created when later (record.Meta.LastActive).
func (r Ref) LastActive() int64 { return int64(max(r.e.lastQ, r.e.created)) }

// ExpiredAt is record.Meta.ExpiredAt for this record.
func (r Ref) ExpiredAt(cutoff int64) bool {
	return cutoff > 0 && !r.Pinned() && r.LastActive() < cutoff
}

// Digest is the record's key digest: SHA-256 bits 0–63 and 64–119 (the
// low byte of lo is zero). Records of different entities with the same
// sender have the same digest, so readers can match senders across
// entities without the text (package suggest does).
func (r Ref) Digest() (hi, lo uint64) {
	return r.e.hk ^ uint64(r.e.ent)*entityMix, r.e.lo &^ flagMask
}

// Key is the pair's sender, or the VERP source's domain. The string shares
// the index's memory; it never changes.
func (r Ref) Key() string { return r.cv.text(r.cold()) }

// Seen is the local time of the record's last positive answer, or zero.
func (r Ref) Seen() int64 { return loadSeen(r.cold()) }

// MarkSeen records a positive answer at Unix time now: one atomic load,
// and when the mark moves, a store and the leaf's marked flag (see
// View.EachPairMarked). Safe from any goroutine.
func (r Ref) MarkSeen(now int64) {
	if markSeen(r.cold(), now) && atomic.LoadUint32(&r.l.marked) == 0 {
		atomic.StoreUint32(&r.l.marked, 1)
	}
}

func (r Ref) cold() []uint32 { return r.cv.record(r.e.cold) }

// fillMeta sets m to r's bookkeeping, with its seen mark.
func (r Ref) fillMeta(m *record.Meta) {
	m.Created, m.Updated, m.LastQueried, m.Pinned = r.Created(), r.Updated(), r.LastQueried(), r.Pinned()
	m.MarkSeen(r.Seen())
}

// By says who verified the record.
func (r Ref) By() string {
	p, _, _ := r.cv.fields(r.cold())
	return r.cv.names[p.by]
}

// Method says how the record was verified.
func (r Ref) Method() string {
	p, _, _ := r.cv.fields(r.cold())
	return r.cv.names[p.method]
}

// Updated is when the record was last changed, Unix seconds.
func (r Ref) Updated() int64 { return int64(r.cold()[coldUpdated]) }

// Pair builds the record.Pair r names (nil for the zero Ref). Changing it
// does not change the index.
func (r Ref) Pair() *record.Pair {
	if r.e == nil {
		return nil
	}
	p := &record.Pair{Entity: r.Entity(), Sender: r.Key(), By: r.By(), Method: r.Method()}
	r.fillMeta(&p.Meta)
	return p
}

// Verp builds the record.Verp r names (nil for the zero Ref).
func (r Ref) Verp() *record.Verp {
	if r.e == nil {
		return nil
	}
	vp := &record.Verp{Entity: r.Entity(), Domain: r.Key(), By: r.By(), Method: r.Method()}
	r.fillMeta(&vp.Meta)
	return vp
}

// entityMix spreads an entity ID over the hash bits a key's digest is
// XORed with, so one sender's entries under many entities do not share a leaf.
const entityMix = 0x9E3779B97F4A7C15

// keyOf is the table key of entity and a SHA-256: 120 bits of the digest
// and the entity. ok is false for an entity ID the index cannot hold.
func keyOf(entity uint64, sum *[32]byte) (key, bool) {
	if entity > math.MaxUint32 {
		return key{}, false
	}
	d0 := binary.BigEndian.Uint64(sum[0:8])
	d1 := binary.BigEndian.Uint64(sum[8:16])
	return key{hk: d0 ^ entity*entityMix, lo: d1 &^ flagMask, ent: uint32(entity)}, true
}

func keyOfText(entity uint64, text []byte) (key, bool) {
	sum := sha256.Sum256(text)
	return keyOf(entity, &sum)
}
