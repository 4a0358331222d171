package fsm

import (
	"maps"
	"slices"
	"strings"

	"github.com/wlns/wlns/record"
)

// state is the FSM's replicated data besides the index. Its maps are never
// changed once published: a write replaces the map by a changed copy (the
// group names: one copy per applier, see setGroup), so a state value is a
// cheap snapshot and restoring a saved value undoes a failed batch.
type state struct {
	// lastID is the last entity ID handed out; IDs are never reused.
	lastID uint64
	// tokens holds the API tokens.
	tokens *tokenSet
	// groups maps a lower-cased group name to its entity ID.
	groups map[string]uint64
	// ch is the verification state (challenges, suppressions, rate
	// windows); like tokens it is replaced, never changed.
	ch *challenges
	// dismissed holds the declined suggestions by dismissalKey; replaced,
	// never changed.
	dismissed map[string]record.Dismissal
}

func newState() state {
	return state{tokens: &tokenSet{}, groups: map[string]uint64{}, ch: newChallenges(), dismissed: map[string]record.Dismissal{}}
}

// groupKey is the form group names are unique in.
func groupKey(name string) string { return strings.ToLower(name) }

// setGroup keeps the applier's group-name map in step with an entity going
// from old to new (either may be nil). The first change copies the map the
// applier started from (the published state and a parent applier hold it);
// later ones write that copy in place, so a batch of n group lines costs n
// map writes, not n copies of the map (a bulk import's 10,000 groups were
// 50 million copied entries). A child applier starts from its parent's map
// and copies it too: a dropped child leaves the parent's map as it was.
func (a *applier) setGroup(old, new *record.Entity) {
	drop := old != nil && old.Group && (new == nil || !new.Group || groupKey(old.Name) != groupKey(new.Name))
	add := new != nil && new.Group && (old == nil || !old.Group || groupKey(old.Name) != groupKey(new.Name))
	if !drop && !add {
		return
	}
	if !a.ownGroups {
		a.st.groups, a.ownGroups = maps.Clone(a.st.groups), true
	}
	if drop {
		delete(a.st.groups, groupKey(old.Name))
	}
	if add {
		a.st.groups[groupKey(new.Name)] = new.ID
	}
}

// tokenSet is an immutable set of tokens, by name and by secret hash.
type tokenSet struct {
	byName map[string]*record.Token
	byHash map[string]*record.Token
}

// with returns a copy of ts with tok added or replacing the token of the
// same name.
func (ts *tokenSet) with(tok *record.Token) *tokenSet {
	out := &tokenSet{byName: maps.Clone(ts.byName), byHash: maps.Clone(ts.byHash)}
	if out.byName == nil {
		out.byName, out.byHash = map[string]*record.Token{}, map[string]*record.Token{}
	}
	if old := out.byName[tok.Name]; old != nil {
		delete(out.byHash, old.Hash)
	}
	out.byName[tok.Name] = tok
	out.byHash[tok.Hash] = tok
	return out
}

// without returns a copy of ts without the token called name.
func (ts *tokenSet) without(name string) *tokenSet {
	out := &tokenSet{byName: maps.Clone(ts.byName), byHash: maps.Clone(ts.byHash)}
	if old := out.byName[name]; old != nil {
		delete(out.byHash, old.Hash)
		delete(out.byName, name)
	}
	return out
}

// sorted returns the tokens ordered by name.
func (ts *tokenSet) sorted() []*record.Token {
	out := slices.Collect(maps.Values(ts.byName))
	slices.SortFunc(out, func(a, b *record.Token) int { return strings.Compare(a.Name, b.Name) })
	return out
}
