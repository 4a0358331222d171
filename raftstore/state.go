package raftstore

import (
	"maps"
	"slices"
	"strings"

	"github.com/wlns/wlns/record"
)

// state is the FSM's replicated data besides the index. Its maps are never
// changed once published: a write replaces the map by a changed copy, so a
// state value is a cheap snapshot and restoring a saved value undoes a
// failed batch.
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

// withGroup returns st with the group name of old (if any) replaced by new's.
func (st state) withGroup(old, new *record.Entity) state {
	if old != nil && old.Group && (new == nil || !new.Group || groupKey(old.Name) != groupKey(new.Name)) {
		st.groups = maps.Clone(st.groups)
		delete(st.groups, groupKey(old.Name))
	}
	if new != nil && new.Group && (old == nil || !old.Group || groupKey(old.Name) != groupKey(new.Name)) {
		st.groups = maps.Clone(st.groups)
		st.groups[groupKey(new.Name)] = new.ID
	}
	return st
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
