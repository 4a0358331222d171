package fsm

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

func init() {
	registerKind(command.EntityPut, kind{apply: rejecting((*applier).entityPut), repeated: entityRepeated,
		rule: func(b any) error { return checkEntityText(b.(*command.EntityBody)) }})
	registerKind(command.EntityDelete, kind{apply: rejecting((*applier).entityDelete)})
	registerKind(command.MembersAdd, kind{apply: rejecting((*applier).membersAdd)})
	registerKind(command.MembersRemove, kind{apply: rejecting((*applier).membersRemove)})
}

// entityPut creates (ID 0) or replaces an entity.
func (a *applier) entityPut(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.EntityBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, rej
	}
	return a.putEntityBody(e.Time, &b)
}

// putEntityBody is entityPut of a decoded body, at time now.
func (a *applier) putEntityBody(now int64, b *command.EntityBody) (command.Result, *command.Rejection) {
	ent, rej := entityFromBody(b)
	if rej != nil {
		return command.Result{}, rej
	}
	return a.storeEntity(now, b.ID, b.Pinned, ent)
}

// storeEntity is the rest of putEntityBody once the body is validated
// into ent (without ID or Meta): it replaces entity id, or creates one
// for id 0, at time now.
func (a *applier) storeEntity(now int64, id uint64, pinned bool, ent *record.Entity) (command.Result, *command.Rejection) {
	var old *record.Entity
	if id != 0 {
		if old = a.view().Entity(id); old == nil {
			return command.Result{}, command.Reject(command.NotFound, "no entity %d", id)
		}
	}
	if owner, ok := a.st.groups[groupKey(ent.Name)]; ent.Group && ok && owner != id {
		return command.Result{}, command.Reject(command.Conflict, "group name %q is taken by entity %d", ent.Name, owner)
	}
	if rej := a.checkOwners(ent.Prefixes, id); rej != nil {
		return command.Result{}, rej
	}
	ent.ID = id
	if old != nil {
		old.CopyMetaTo(&ent.Meta)
	} else {
		ent.ID = a.newID()
		ent.Created = now
	}
	ent.Updated, ent.Pinned = now, pinned
	a.putEntity(old, ent)
	return command.Result{ID: ent.ID, Created: old == nil}, nil
}

// entityFromBody validates an EntityBody into an Entity without ID or Meta.
func entityFromBody(b *command.EntityBody) (*record.Entity, *command.Rejection) {
	prefixes, rej := parsePrefixes(b.Prefixes)
	if rej != nil {
		return nil, rej
	}
	name := strings.TrimSpace(b.Name)
	switch {
	case b.Group && name == "":
		return nil, command.Reject(command.Invalid, "a group needs a name")
	case !b.Group && name != "":
		return nil, command.Reject(command.Invalid, "only a group has a name; a lone relay is named by its address")
	case !b.Group && len(prefixes) != 1:
		return nil, command.Reject(command.Invalid, "a lone relay has exactly one address or prefix, got %d", len(prefixes))
	}
	ptr, rej := entityPTR(b.PTR)
	if rej != nil {
		return nil, rej
	}
	return &record.Entity{
		Name: name, Group: b.Group, Prefixes: prefixes, Registered: b.Registered,
		Contact: strings.TrimSpace(b.Contact), PTR: ptr,
	}, nil
}

// entityPTR is an entity.put's PTR as the entity keeps it: trimmed and,
// when not empty, a normalised domain.
func entityPTR(s string) (string, *command.Rejection) {
	ptr := strings.TrimSpace(s)
	if ptr == "" {
		return "", nil
	}
	d, err := record.NormalizeDomain(ptr)
	if err != nil {
		return "", command.Reject(command.Invalid, "ptr: %v", err)
	}
	return d, nil
}

// putEntity writes ent (replacing old, which may be nil) and keeps the
// group-name map in step.
func (a *applier) putEntity(old, ent *record.Entity) {
	a.txn.PutEntity(ent)
	a.setGroup(old, ent)
}

// entityDelete deletes an entity with its pairs and VERP sources.
func (a *applier) entityDelete(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.EntityBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, rej
	}
	old := a.view().Entity(b.ID)
	if old == nil {
		return command.Result{}, command.Reject(command.NotFound, "no entity %d", b.ID)
	}
	a.deleteEntity(old)
	return command.Result{ID: old.ID}, nil
}

// deleteEntity removes ent, its pairs and its VERP sources.
func (a *applier) deleteEntity(ent *record.Entity) {
	if a.view().RecordsOf(ent.ID) > 0 {
		a.deleteRecordsOf(ent.ID)
	}
	a.txn.DeleteEntity(ent.ID)
	a.setGroup(ent, nil)
}

// deleteRecordsOf deletes the pairs and VERP sources of entity id, in key
// order. It scans them (index.View.EachPairOf: a compare per record)
// until it has found as many as the entity holds (View.RecordsOf):
// entity deletions are rare next to pair writes, and an entity without
// records skips the scan.
func (a *applier) deleteRecordsOf(id uint64) {
	v := a.view()
	var senders, domains []string
	left := v.RecordsOf(id)
	v.EachPairOf(id, func(p index.Ref) bool {
		senders = append(senders, p.Key())
		left--
		return left > 0
	})
	if left > 0 {
		v.EachVerpOf(id, func(vp index.Ref) bool {
			domains = append(domains, vp.Key())
			left--
			return left > 0
		})
	}
	slices.Sort(senders)
	slices.Sort(domains)
	for _, s := range senders {
		a.txn.DeletePair(id, s)
	}
	for _, d := range domains {
		a.txn.DeleteVerp(id, d)
	}
}

// membersAdd adds member prefixes to a group.
func (a *applier) membersAdd(e *command.Envelope) (command.Result, *command.Rejection) {
	ent, add, rej := a.membersArgs(e)
	if rej != nil {
		return command.Result{}, rej
	}
	if !ent.Group {
		return command.Result{}, command.Reject(command.Invalid, "entity %d is a lone relay; make it a group to add members", ent.ID)
	}
	if rej := a.checkOwners(add, ent.ID); rej != nil {
		return command.Result{}, rej
	}
	merged := append(slices.Clone(ent.Prefixes), add...)
	slices.SortFunc(merged, comparePrefix)
	a.replacePrefixes(e, ent, slices.Compact(merged))
	return command.Result{ID: ent.ID}, nil
}

// membersRemove removes member prefixes from an entity.
func (a *applier) membersRemove(e *command.Envelope) (command.Result, *command.Rejection) {
	ent, drop, rej := a.membersArgs(e)
	if rej != nil {
		return command.Result{}, rej
	}
	for _, p := range drop {
		if !slices.Contains(ent.Prefixes, p) {
			return command.Result{}, command.Reject(command.NotFound, "%s is not a member of entity %d", p, ent.ID)
		}
	}
	left := slices.DeleteFunc(slices.Clone(ent.Prefixes), func(p netip.Prefix) bool { return slices.Contains(drop, p) })
	if !ent.Group && len(left) == 0 {
		return command.Result{}, command.Reject(command.Invalid, "cannot remove the only address of lone relay %d; delete the entity instead", ent.ID)
	}
	a.replacePrefixes(e, ent, left)
	return command.Result{ID: ent.ID}, nil
}

// membersArgs decodes a MembersBody and finds its entity.
func (a *applier) membersArgs(e *command.Envelope) (*record.Entity, []netip.Prefix, *command.Rejection) {
	var b command.MembersBody
	if rej := decodeBody(e, &b); rej != nil {
		return nil, nil, rej
	}
	prefixes, rej := parsePrefixes(b.Prefixes)
	if rej != nil {
		return nil, nil, rej
	}
	if len(prefixes) == 0 {
		return nil, nil, command.Reject(command.Invalid, "no prefixes given")
	}
	ent := a.view().Entity(b.Entity)
	if ent == nil {
		return nil, nil, command.Reject(command.NotFound, "no entity %d", b.Entity)
	}
	return ent, prefixes, nil
}

// replacePrefixes writes a copy of ent with new member prefixes.
func (a *applier) replacePrefixes(e *command.Envelope, ent *record.Entity, prefixes []netip.Prefix) {
	n := cloneEntity(ent)
	n.Prefixes = prefixes
	n.Updated = e.Time
	a.putEntity(ent, n)
}

// cloneEntity copies an entity, its meta and its local seen mark.
func cloneEntity(e *record.Entity) *record.Entity {
	n := &record.Entity{
		ID: e.ID, Name: e.Name, Group: e.Group, Prefixes: slices.Clone(e.Prefixes),
		Registered: e.Registered, Contact: e.Contact, PTR: e.PTR,
	}
	e.CopyMetaTo(&n.Meta)
	return n
}
