package index

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wlns/wlns/index/internal/oracle"
	"github.com/wlns/wlns/record"
)

// The differential run's entity side: member prefixes that overlap (a
// group's /24 holds another group's /25 and a lone relay's /32; a v6 /32
// holds a /48 and a /128), the default routes, and an IPv4-mapped IPv6
// address, which a look-up never reaches (it unmaps the address first).
var (
	diffPrefixes = mustPrefixes("192.0.2.0/24", "192.0.2.0/25", "192.0.2.128/25", "192.0.2.1/32", "192.0.2.200/32",
		"192.0.2.129/32", "10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0", "2001:db8::/32", "2001:db8:1::/48",
		"2001:db8:1::25/128", "2001:db8::1/128", "::/0", "::ffff:192.0.2.1/128")
	diffProbes = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.129"),
		netip.MustParseAddr("192.0.2.200"), netip.MustParseAddr("192.0.2.255"), netip.MustParseAddr("10.1.2.3"),
		netip.MustParseAddr("10.2.2.3"), netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("::ffff:192.0.2.1"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8:1::25"), netip.MustParseAddr("2001:db8:1::26"),
		netip.MustParseAddr("2001:db9::1")}
)

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// randEntity builds entity id with random fields and members that no
// other entity of ov owns (the caller's promise to PutEntity).
func (w *world) randEntity(r *rand.Rand, ov *oracle.View, id uint64) *record.Entity {
	e := &record.Entity{ID: id, Group: r.IntN(2) == 0, Registered: r.IntN(3) != 0,
		Contact: []string{"", "postmaster@umkc.edu", strings.Repeat("c", 300) + "@example.org"}[r.IntN(3)],
		PTR:     []string{"", "mx1.umkc.edu"}[r.IntN(2)]}
	if e.Group {
		e.Name = fmt.Sprintf("group-%d-%d", id, r.IntN(3))
	}
	e.Created = 1_700_000_000 + r.Int64N(1e6)
	e.Updated = e.Created + r.Int64N(1e5)
	if r.IntN(2) == 0 {
		e.LastQueried = e.Created + r.Int64N(1e6)
	}
	e.Pinned = r.IntN(5) == 0
	e.MarkSeen(e.Created + r.Int64N(2e6))
	for _, i := range r.Perm(len(diffPrefixes))[:r.IntN(5)] {
		p := diffPrefixes[i]
		if o := ov.PrefixOwner(p); o == nil || o.ID == id {
			e.Prefixes = append(e.Prefixes, p)
		}
	}
	return e
}

// stepEntity applies one random entity write to both stores: a put, a
// delete, a touch (as raftstore applied it on the old store: a changed
// copy) or a change of members.
func (w *world) stepEntity(r *rand.Rand, tx pair, op int) {
	id := w.entities[r.IntN(len(w.entities))]
	ov := tx.old.View()
	at := 1_700_000_000 + r.Int64N(3e6)
	switch old := ov.Entity(id); {
	case op == 0:
		e := w.randEntity(r, ov, id)
		tx.old.PutEntity(e)
		tx.new.PutEntity(e)
	case op == 1:
		tx.old.DeleteEntity(id)
		tx.new.DeleteEntity(id)
	case op == 2 && old != nil:
		if at > old.LastQueried {
			n := cloneEntity(old)
			n.LastQueried = at
			tx.old.PutEntity(n)
		}
		tx.new.TouchEntity(id, at)
	case op == 3 && old != nil:
		n := cloneEntity(old)
		n.Prefixes = w.randEntity(r, ov, id).Prefixes
		n.Updated = at
		tx.old.PutEntity(n)
		tx.new.PutEntity(n)
	}
}

// cloneEntity copies an entity with its meta and seen mark, as raftstore
// does to change one.
func cloneEntity(e *record.Entity) *record.Entity {
	n := &record.Entity{ID: e.ID, Name: e.Name, Group: e.Group, Prefixes: slices.Clone(e.Prefixes),
		Registered: e.Registered, Contact: e.Contact, PTR: e.PTR}
	e.CopyMetaTo(&n.Meta)
	return n
}

// markEntities makes relay-zone answers through the published versions.
func (w *world) markEntities(r *rand.Rand, ov *oracle.View, nv *View) {
	for i := r.IntN(3); i > 0; i-- {
		ip := diffProbes[r.IntN(len(diffProbes))]
		at := 1_700_000_000 + r.Int64N(3e6)
		if e := ov.EntityOf(ip); e != nil {
			e.MarkSeen(at)
		}
		if e := nv.EntityRefOf(ip); e.Found() {
			e.MarkSeen(at)
		}
	}
}

// compareEntities demands that ov and nv hold the same entities and
// resolve every probe address and member prefix to the same one.
func (w *world) compareEntities(t *testing.T, ov *oracle.View, nv *View, withSeen bool) {
	t.Helper()
	str := func(e *record.Entity) string {
		if e == nil {
			return "nil"
		}
		seen := int64(-1)
		if withSeen {
			seen = e.Seen()
		}
		return fmt.Sprintf("%d|%q|%v|%v|%v|%q|%q|%d|%d|%d|%v|seen %d", e.ID, e.Name, e.Group, e.Prefixes, e.Registered,
			e.Contact, e.PTR, e.Created, e.Updated, e.LastQueried, e.Pinned, seen)
	}
	idOf := func(e *record.Entity) uint64 {
		if e == nil {
			return 0
		}
		return e.ID
	}
	for _, id := range append(w.entities, 4, 1<<33) {
		if o, n := str(ov.Entity(id)), str(nv.Entity(id)); o != n {
			t.Fatalf("Entity(%d): old %s, new %s", id, o, n)
		}
	}
	for _, ip := range diffProbes {
		o, n := idOf(ov.EntityOf(ip)), nv.EntityRefOf(ip)
		if o != n.ID() || o != idOf(nv.EntityOf(ip)) {
			t.Fatalf("EntityOf(%s): old %d, new %d", ip, o, n.ID())
		}
		if e := ov.EntityOf(ip); e != nil {
			one, ok := n.LonePrefix()
			if n.Name() != e.Name || n.Registered() != e.Registered || n.Created() != e.Created || ok != (len(e.Prefixes) == 1) ||
				ok && one != e.Prefixes[0] {
				t.Fatalf("EntityRefOf(%s) reads %q/%v/%d/%v, the entity is %s", ip, n.Name(), n.Registered(), n.Created(), one, str(e))
			}
		}
	}
	for _, p := range diffPrefixes {
		if o, n := idOf(ov.PrefixOwner(p)), nv.PrefixOwnerID(p); o != n {
			t.Fatalf("PrefixOwner(%s): old %d, new %d", p, o, n)
		}
	}
	oe, or, op := ov.EntityCounts()
	if c := nv.Counts(); c.Entities != oe || c.Registered != or || c.PrefixMember != op {
		t.Fatalf("entity counts: old %d/%d/%d, new %+v", oe, or, op, c)
	}
	var o, n []string
	ov.Entities(func(e *record.Entity) bool { o = append(o, str(e)); return true })
	nv.Entities(func(e *record.Entity) bool { n = append(n, str(e)); return true })
	if !slices.Equal(o, n) {
		t.Fatalf("entities differ:\nold %q\nnew %q", o, n)
	}
}
