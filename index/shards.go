package index

import (
	"encoding/binary"
	"hash/maphash"
	"maps"
)

// shards is a map split into nShards maps. A View's shards are never written;
// a Txn replaces a shard by a copy the first time it writes to it.
type shards[K comparable, V any] [nShards]map[K]V

func (s *shards[K, V]) lookup(shard int, k K) (V, bool) {
	v, ok := s[shard][k]
	return v, ok
}

func (s *shards[K, V]) get(shard int, k K) V {
	return s[shard][k]
}

func (s *shards[K, V]) each(fn func(V) bool) {
	for _, m := range s {
		for _, v := range m {
			if !fn(v) {
				return
			}
		}
	}
}

// owned tracks which shards a Txn has already copied.
type owned [nShards / 64]uint64

func (o *owned) has(i int) bool { return o[i/64]&(1<<(i%64)) != 0 }
func (o *owned) set(i int)      { o[i/64] |= 1 << (i % 64) }

// writable returns shard i of s ready for writing: copied once per Txn.
func writable[K comparable, V any](s *shards[K, V], o *owned, i int) map[K]V {
	if !o.has(i) {
		if s[i] == nil {
			s[i] = make(map[K]V)
		} else {
			s[i] = maps.Clone(s[i])
		}
		o.set(i)
	}
	return s[i]
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

func (v *View) shardOfBytes(b []byte) int {
	return int(maphash.Bytes(v.seed, b) >> (64 - shardBits))
}
