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
