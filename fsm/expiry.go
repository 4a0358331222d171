package fsm

import (
	"errors"
	"slices"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

func init() {
	registerKind(command.Touch, kind{apply: rejecting((*applier).touch), quiet: true})
	registerKind(command.Expire, kind{
		apply: notInBatch("an expire command cannot be part of a batch"),
		top:   (*FSM).applyExpire,
		check: func(e *command.Envelope, top bool) error {
			if !top {
				return errors.New("an expire command cannot be part of a batch")
			}
			return checkDecoded(e, nil)
		},
	})
}

// applyExpire applies a top-level expire and counts what it swept.
func (f *FSM) applyExpire(a *applier, e *command.Envelope) command.Result {
	r, n, rej := a.expire(e)
	if rej != nil {
		return command.Result{Err: rej}
	}
	if f.m != nil {
		f.m.Swept(e.Time, n)
	}
	return r
}

// Expiry kinds, the label values of wlns_expiry_records_expired_total.
const (
	kindPairs       = "pairs"
	kindDomainPairs = "domain_pairs"
	kindVerps       = "verp_sources"
	kindRelays      = "relays"
	kindGroups      = "groups"
	kindOrphans     = "entities"
	// kindChallenges counts challenges the Challenges cutoff deleted
	// (suppressions and rate windows are not counted).
	kindChallenges = "challenges"
)

// ExpiredKinds are the record kinds an expire deletes, the label values
// the store's metric starts with (challenges are counted as they come).
func ExpiredKinds() []string {
	return []string{kindPairs, kindDomainPairs, kindVerps, kindRelays, kindGroups, kindOrphans}
}

// touch raises LastQueried of the named records to the time they were seen
// (the envelope's Time minus each age). A changed copy replaces an entity;
// a pair or VERP source changes only its hot entry. Records that no longer
// exist (deleted or expired meanwhile) are skipped: a touch never creates.
func (a *applier) touch(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.TouchBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, rej
	}
	v := a.view()
	for _, te := range b.Entities {
		if !v.EntityRef(te.ID).Found() {
			continue
		}
		if te.Self {
			a.txn.TouchEntity(te.ID, seenAt(e, te.Age))
		}
		for _, it := range te.Pairs {
			a.txn.TouchPair(te.ID, it.Key, seenAt(e, it.Age))
		}
		for _, it := range te.Verps {
			a.txn.TouchVerp(te.ID, it.Key, seenAt(e, it.Age))
		}
	}
	return command.Result{}, nil
}

// seenAt turns an age into a time; a negative age counts as zero, so a
// touch never claims a query later than its proposer's clock.
func seenAt(e *command.Envelope, age int64) int64 { return e.Time - max(age, 0) }

// Expired counts what one expire command deleted, by kind (ExpiredKinds).
type Expired map[string]int

// expire deletes every unpinned record whose LastActive is before its
// kind's cutoff, then entities left without records as the body says. It
// decides from the data as it is when the command applies (a touch applied
// before it has already moved LastQueried), in a fixed order (sorted keys),
// so every replica deletes the same set. It reads only the index leaves
// that hold a record old enough, so a sweep that deletes little costs
// little, however many pairs there are.
func (a *applier) expire(e *command.Envelope) (command.Result, Expired, *command.Rejection) {
	var b command.ExpireBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, nil, rej
	}
	v := a.view()
	type key struct {
		entity uint64
		name   string
	}
	var pairs, verps []key
	n := Expired{}
	delegated := a.delegatedEntities() // kept while delegated: see docs/delegation.md
	v.EachPairExpiring(max(b.Pairs, b.DomainPairs), func(p index.Ref) bool {
		if delegated(p.Entity()) {
			return true
		}
		cutoff, kind := b.Pairs, kindPairs
		if p.DomainWide() {
			cutoff, kind = b.DomainPairs, kindDomainPairs
		}
		if p.ExpiredAt(cutoff) {
			pairs = append(pairs, key{p.Entity(), p.Key()})
			n[kind]++
		}
		return true
	})
	v.EachVerpExpiring(b.Verps, func(vp index.Ref) bool {
		if delegated(vp.Entity()) {
			return true
		}
		verps = append(verps, key{vp.Entity(), vp.Key()})
		n[kindVerps]++
		return true
	})
	byKey := func(x, y key) int {
		if x.entity != y.entity {
			if x.entity < y.entity {
				return -1
			}
			return 1
		}
		if x.name < y.name {
			return -1
		}
		if x.name > y.name {
			return 1
		}
		return 0
	}
	slices.SortFunc(pairs, byKey)
	slices.SortFunc(verps, byKey)
	for _, k := range pairs {
		a.txn.DeletePair(k.entity, k.name)
	}
	for _, k := range verps {
		a.txn.DeleteVerp(k.entity, k.name)
	}
	var ents []*record.Entity
	v = a.view() // after the deletions; entities come in ID order
	v.EachEntity(func(ent index.EntityRef) bool {
		if v.RecordsOf(ent.ID()) > 0 || ent.Pinned() || delegated(ent.ID()) {
			return true // it keeps a record, never expires, or is delegated
		}
		if kind := entityExpiry(ent, &b); kind != "" {
			ents = append(ents, ent.Entity())
			n[kind]++
		}
		return true
	})
	for _, ent := range ents {
		a.txn.DeleteEntity(ent.ID)
		a.setGroup(ent, nil)
	}
	var sw challengesSwept
	if a.st.ch, sw = a.st.ch.sweep(b.Challenges, e.Time); sw.challenges > 0 {
		n[kindChallenges] = sw.challenges
	}
	return command.Result{}, n, nil
}

// entityExpiry returns the kind an entity without records expires as under
// b, or "" when it stays.
func entityExpiry(ent index.EntityRef, b *command.ExpireBody) string {
	switch {
	case ent.Group():
		if ent.ExpiredAt(b.Groups) {
			return kindGroups
		}
	case ent.Registered():
		if ent.ExpiredAt(b.Relays) {
			return kindRelays
		}
	default:
		if ent.ExpiredAt(b.Orphans) {
			return kindOrphans
		}
	}
	return ""
}
