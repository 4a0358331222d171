package index

// Txn builds the next version of an Index. Only one Txn may be open at a time
// (the state machine is the single writer); readers keep seeing the old
// version until Commit.
type Txn struct {
	ix *Index
	v  *View
	// cold and ecold are the arenas the Txn appends pairs' and entities'
	// cold records to: the Index's, or new ones for BeginEmpty.
	cold, ecold *arena
	// gen is the generation of the Txn's own table nodes; it may write in
	// place every node of generation ≥ gen (table.go).
	gen uint64
	// scratch is reused to encode an entity's cold text.
	scratch []byte
}

// Begin starts a Txn on a copy of the current version.
func (ix *Index) Begin() *Txn {
	nv := *ix.Load()
	return &Txn{ix: ix, v: &nv, cold: ix.cold, ecold: ix.ecold, gen: ix.gens.Add(1)}
}

// BeginEmpty starts a Txn on an empty index, for restoring a snapshot off to
// the side: readers see the old data until Commit swaps the new in whole.
func (ix *Index) BeginEmpty() *Txn {
	return &Txn{ix: ix, v: &View{zone: 1, names: ix.names}, cold: newArena(), ecold: newEntityArena(), gen: ix.gens.Add(1)}
}

// View returns the version being built, so the writer can read its own
// writes. It must not be used after Commit or handed to other goroutines.
func (t *Txn) View() *View { return t.v }

// Own makes owner part of the View being built and of every View after
// it, so that owner is reachable while any of them is: a restore that
// leaves flat parts in place (FlatLoader.Alias) gives the owner of their
// memory, whose cleanup may then release it once no View refers to it.
func (t *Txn) Own(owner any) { t.v.owner = owner }

// SetSerial sets the version number of the View being built.
func (t *Txn) SetSerial(n uint64) { t.v.serial = n }

// SetZoneSerial sets the SOA serial of the View being built.
func (t *Txn) SetZoneSerial(n uint32) { t.v.zone = n }

// Commit publishes the version being built, after the OnPublish hooks
// have seen it. The Txn must not be used after.
func (t *Txn) Commit() {
	if t.cold.needsCompaction() {
		t.compact()
	}
	if t.ecold.needsCompaction() {
		t.compactEntities()
	}
	t.ix.cold, t.ix.ecold = t.cold, t.ecold
	if hooks := t.ix.hooks.Load(); hooks != nil {
		for _, f := range *hooks {
			f(t.v)
		}
	}
	t.ix.cur.Store(t.v)
	t.v = nil
}

// Child starts a Txn on top of t's uncommitted version, for a group of
// writes that must apply all or nothing: Adopt keeps them, dropping the
// child discards them. t must not be written while the child is open.
func (t *Txn) Child() *Txn {
	nv := *t.v
	return &Txn{ix: t.ix, v: &nv, cold: t.cold, ecold: t.ecold, gen: t.ix.gens.Add(1)}
}

// Adopt makes the child's writes part of t. The child must not be used after.
func (t *Txn) Adopt(child *Txn) {
	t.v = child.v
	child.v = nil
}
