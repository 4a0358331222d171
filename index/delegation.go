package index

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/wlns/wlns/record"
)

// delegations is the immutable set of delegated prefixes a View holds,
// keyed by their cut (record.CutKey): a write replaces the whole set, which
// is small (one entry per postmaster who runs their own servers).
type delegations struct {
	byCut map[string]*record.Delegation
	// depths lists the cut depths in use (labels below the tree label),
	// shallowest first, so a lookup tries only those.
	depths []uint8
}

// Delegation returns the delegation whose cut is key, the labels below the
// tree label nearest the apex first, joined by dots (record.CutKey), or
// nil. key may be a []byte converted in the call: the lookup allocates
// nothing.
func (v *View) Delegation(key string) *record.Delegation {
	if v.deleg == nil {
		return nil
	}
	return v.deleg.byCut[key]
}

// DelegationDepths returns the cut depths in use, shallowest first; empty
// when nothing is delegated. The slice is shared: do not change it.
func (v *View) DelegationDepths() []uint8 {
	if v.deleg == nil {
		return nil
	}
	return v.deleg.depths
}

// DelegationOf returns the delegation of exactly prefix p, or nil.
func (v *View) DelegationOf(p netip.Prefix) *record.Delegation {
	key, err := record.CutKey(p)
	if err != nil {
		return nil
	}
	return v.Delegation(key)
}

// Delegations returns every delegation ordered by prefix.
func (v *View) Delegations() []*record.Delegation {
	if v.deleg == nil {
		return nil
	}
	out := slices.Collect(maps.Values(v.deleg.byCut))
	slices.SortFunc(out, func(a, b *record.Delegation) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		return a.Prefix.Bits() - b.Prefix.Bits()
	})
	return out
}

// PutDelegation adds or replaces d, stored under its cut
// (record.CutKey); a prefix that has none is an error. The index keeps d;
// the caller must not change it afterwards.
func (t *Txn) PutDelegation(d *record.Delegation) error {
	key, err := record.CutKey(d.Prefix)
	if err != nil {
		return err
	}
	t.setDelegations(func(m map[string]*record.Delegation) { m[key] = d })
	return nil
}

// DeleteDelegation removes the delegation of prefix p, if any.
func (t *Txn) DeleteDelegation(p netip.Prefix) {
	key, err := record.CutKey(p)
	if err != nil {
		return
	}
	t.setDelegations(func(m map[string]*record.Delegation) { delete(m, key) })
}

// setDelegations replaces the View's set by a changed copy.
func (t *Txn) setDelegations(change func(map[string]*record.Delegation)) {
	m := map[string]*record.Delegation{}
	if t.v.deleg != nil {
		m = maps.Clone(t.v.deleg.byCut)
	}
	change(m)
	if len(m) == 0 {
		t.v.deleg = nil
		return
	}
	seen := map[uint8]bool{}
	for key := range m {
		seen[cutDepth(key)] = true
	}
	depths := slices.Sorted(maps.Keys(seen))
	t.v.deleg = &delegations{byCut: m, depths: depths}
}

// cutDepth counts the labels of a cut key.
func cutDepth(key string) uint8 {
	n := uint8(1)
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			n++
		}
	}
	return n
}

// DelegationCovering returns the delegation whose prefix holds all of p
// (p itself or a prefix inside it), or nil. It tries one cut per depth in
// use; it is not for the query path (it allocates).
func (v *View) DelegationCovering(p netip.Prefix) *record.Delegation {
	if v.deleg == nil {
		return nil
	}
	step := 8
	if p.Addr().Is6() && !p.Addr().Is4In6() {
		step = 4
	}
	for _, depth := range v.deleg.depths {
		bits := int(depth) * step
		if bits > p.Bits() {
			break
		}
		q, err := p.Addr().Prefix(bits)
		if err != nil {
			continue
		}
		if d := v.DelegationOf(q); d != nil && d.Prefix == q {
			return d
		}
	}
	return nil
}
