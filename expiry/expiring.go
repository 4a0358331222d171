package expiry

import (
	"time"

	"github.com/wlns/wlns/index"
)

// Kinds of records, as Item.Kind and the kind filter of Expiring.
const (
	KindPairs       = "pairs"
	KindDomainPairs = "domain_pairs"
	KindVerps       = "verp_sources"
	KindRelays      = "relays"
	KindGroups      = "groups"
	// KindEntities are unregistered lone entities, which go with their
	// last pair or VERP source.
	KindEntities = "entities"
)

// Kinds lists the kinds in the order they are documented.
var Kinds = []string{KindPairs, KindDomainPairs, KindVerps, KindRelays, KindGroups, KindEntities}

// Item is a record a sweep will delete unless it is queried (and the query
// reported) or pinned first.
type Item struct {
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Entity is the entity ID (the entity itself for relays, groups and
	// entities).
	Entity uint64 `json:"entity"`
	// Key is the pair's sender or the VERP source's domain.
	Key string `json:"key,omitempty"`
	// LastActive is the record's last query time, or its creation time when
	// it was never queried (Unix seconds).
	LastActive int64 `json:"last_active"`
	// Expires is the earliest time a sweep deletes it (Unix seconds).
	Expires int64 `json:"expires"`
}

// never is a deadline that is never reached.
const never = int64(1) << 62

// Expiring calls fn, in no particular order, for every record of kind
// (empty: all kinds) that a sweep at or before until would delete if
// nothing about it changed, until fn returns false. slack is Runner.Slack.
func (w Windows) Expiring(v *index.View, slack time.Duration, until time.Time, kind string, fn func(Item) bool) {
	deadline := func(pinned bool, lastActive int64, window time.Duration) int64 {
		if window <= 0 || pinned {
			return never
		}
		return lastActive + int64((window+slack)/time.Second)
	}
	end := until.Unix()
	// last is, per entity, the latest deadline of its records.
	last := map[uint64]int64{}
	note := func(id uint64, d int64) { last[id] = max(last[id], d) }
	cont := true
	emit := func(k string, it Item) {
		if cont && it.Expires <= end && (kind == "" || kind == k) {
			it.Kind = k
			cont = fn(it)
		}
	}
	v.EachPair(func(p index.Ref) bool {
		k, win := KindPairs, w.Pairs
		if p.DomainWide() {
			k, win = KindDomainPairs, w.DomainPairs
		}
		d := deadline(p.Pinned(), p.LastActive(), win)
		note(p.Entity(), d)
		emit(k, Item{Entity: p.Entity(), Key: p.Key(), LastActive: p.LastActive(), Expires: d})
		return cont
	})
	v.EachVerp(func(vp index.Ref) bool {
		d := deadline(vp.Pinned(), vp.LastActive(), w.Verps)
		note(vp.Entity(), d)
		emit(KindVerps, Item{Entity: vp.Entity(), Key: vp.Key(), LastActive: vp.LastActive(), Expires: d})
		return cont
	})
	// Cutoffs gives orphans the oldest non-zero cutoff: the longest window.
	orphans := max(w.Pairs, w.DomainPairs, w.Verps)
	v.EachEntity(func(e index.EntityRef) bool {
		if !cont {
			return false
		}
		k, win := KindEntities, orphans
		switch {
		case e.Group():
			k, win = KindGroups, w.Groups
		case e.Registered():
			k, win = KindRelays, w.Relays
		}
		d := max(deadline(e.Pinned(), e.LastActive(), win), last[e.ID()])
		emit(k, Item{Entity: e.ID(), LastActive: e.LastActive(), Expires: d})
		return cont
	})
}
