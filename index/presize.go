package index

// BeginEmptySized is BeginEmpty with the entity maps made large enough for
// about c's entities up front, so that restoring a large snapshot does not
// spend its time re-hashing growing maps. Pair and VERP tables grow by
// splitting leaves, which costs no re-hashing.
func (ix *Index) BeginEmptySized(c Counts) *Txn {
	t := ix.BeginEmpty()
	presize(&t.v.entities, &t.oEnt, c.Entities)
	return t
}
