package index

// BeginEmptySized is BeginEmpty with the entity, pair, hashed-pair and VERP
// maps made large enough for about c's records up front, so that restoring
// a large snapshot does not spend its time re-hashing growing maps.
func (ix *Index) BeginEmptySized(c Counts) *Txn {
	t := ix.BeginEmpty()
	presize(&t.v.entities, &t.oEnt, c.Entities)
	presize(&t.v.pairs, &t.oPairs, c.Pairs+c.DomainPairs)
	presize(&t.v.hashes, &t.oHashes, c.Pairs)
	presize(&t.v.verps, &t.oVerps, c.VerpSources)
	return t
}

// presize gives every shard of s a map sized for its share of n records and
// marks the shards as owned by the Txn.
func presize[K comparable, V any](s *shards[K, V], o *owned, n int) {
	if n <= 0 {
		return
	}
	per := n/nShards + n/(8*nShards) + 1
	for i := range s {
		s[i] = make(map[K]V, per)
		o.set(i)
	}
}
