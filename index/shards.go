package index

import (
	"encoding/binary"
	"maps"
)

// A map is split into nShards small maps, grouped in nPages pages. A View
// holds one pointer per page, so starting a Txn copies a few kilobytes, and a
// write copies one page of map pointers and one small shard: the cost of a
// write does not grow with the size of the index.
const (
	shardBits = 12
	nShards   = 1 << shardBits
	pageBits  = 6
	perPage   = 1 << pageBits
	nPages    = nShards / perPage
)

// shards is a map split into shards. A View's shards are never written; a
// Txn replaces a page, then a shard, by a copy the first time it writes to it.
type shards[K comparable, V any] [nPages]*page[K, V]

type page[K comparable, V any] [perPage]map[K]V

func (s *shards[K, V]) lookup(shard int, k K) (V, bool) {
	p := s[shard>>pageBits]
	if p == nil {
		var zero V
		return zero, false
	}
	v, ok := p[shard&(perPage-1)][k]
	return v, ok
}

func (s *shards[K, V]) get(shard int, k K) V {
	v, _ := s.lookup(shard, k)
	return v
}

// owned tracks which pages and shards a Txn has already copied.
type owned struct {
	pages  uint64
	shards [nShards / 64]uint64
}

func (o *owned) hasShard(i int) bool { return o.shards[i/64]&(1<<(i%64)) != 0 }
func (o *owned) hasPage(i int) bool  { return o.pages&(1<<i) != 0 }

func (o *owned) merge(from *owned) {
	o.pages |= from.pages
	for i := range o.shards {
		o.shards[i] |= from.shards[i]
	}
}

// writable returns shard i of s ready for writing: its page and the shard
// are copied once per Txn.
func writable[K comparable, V any](s *shards[K, V], o *owned, i int) map[K]V {
	pi := i >> pageBits
	if !o.hasPage(pi) {
		np := new(page[K, V])
		if s[pi] != nil {
			*np = *s[pi]
		}
		s[pi] = np
		o.pages |= 1 << pi
	}
	p := s[pi]
	j := i & (perPage - 1)
	if !o.hasShard(i) {
		if p[j] == nil {
			p[j] = make(map[K]V)
		} else {
			p[j] = maps.Clone(p[j])
		}
		o.shards[i/64] |= 1 << (i % 64)
	}
	return p[j]
}

func shardOfUint64(x uint64) int {
	return int((x * 0x9E3779B97F4A7C15) >> (64 - shardBits))
}

func shardOfUint32(x uint32) int {
	return int((x * 0x9E3779B1) >> (32 - shardBits))
}

func shardOf16(a *[16]byte) int {
	x := binary.BigEndian.Uint64(a[0:8]) ^ binary.BigEndian.Uint64(a[8:16])*0xff51afd7ed558ccd
	return shardOfUint64(x)
}
