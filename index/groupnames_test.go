package index

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wlns/wlns/record"
)

// TestGroupNames_FindsGroupsAndSeesChangesAfterEvery: a group is found by
// its name, a lone relay never, and a renamed group by its new name once
// the table may be rebuilt; a stale table entry is never answered.
func TestGroupNames_FindsGroupsAndSeesChangesAfterEvery(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 1, Name: "umkc-mx", Group: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	tx.PutEntity(&record.Entity{ID: 2, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.9/32")}})
	tx.SetSerial(1)
	tx.Commit()
	g := GroupNames{Every: time.Hour}
	if e := g.Lookup(ix.Load(), "umkc-mx"); e.ID() != 1 {
		t.Fatalf("umkc-mx is entity %d, want 1", e.ID())
	}
	for _, name := range []string{"", "198.51.100.9", "nosuch"} {
		if e := g.Lookup(ix.Load(), name); e.Found() {
			t.Errorf("%q found entity %d", name, e.ID())
		}
	}
	tx = ix.Begin()
	tx.PutEntity(&record.Entity{ID: 1, Name: "umkc-new", Group: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	tx.SetSerial(2)
	tx.Commit()
	if e := g.Lookup(ix.Load(), "umkc-mx"); e.Found() {
		t.Error("the old name still finds the renamed group")
	}
	if e := g.Lookup(ix.Load(), "umkc-new"); e.Found() {
		t.Error("the new name was found before the table may be rebuilt")
	}
	g.Every = time.Nanosecond
	if e := g.Lookup(ix.Load(), "umkc-new"); e.ID() != 1 {
		t.Errorf("the new name finds entity %d after the rebuild, want 1", e.ID())
	}
}

// TestView_GroupNamedSeesEveryEntityChangeAtOnce: a View's GroupNamed
// finds a group created or renamed by the very next View, and loses a
// deleted one, while a write of pairs alone does not rebuild the table
// (no walk of every entity); a View restored from nothing sees its own
// groups.
func TestView_GroupNamedSeesEveryEntityChangeAtOnce(t *testing.T) {
	ix := New()
	put := func(tx *Txn, id uint64, name string) {
		tx.PutEntity(&record.Entity{ID: id, Name: name, Group: true, Prefixes: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, byte(id), 0}), 24)}})
		tx.Commit()
	}
	put(ix.Begin(), 1, "umkc-mx")
	if e := ix.Load().GroupNamed("umkc-mx"); e.ID() != 1 {
		t.Fatalf("umkc-mx is entity %d, want 1", e.ID())
	}
	put(ix.Begin(), 1, "umkc-new")
	put(ix.Begin(), 2, "other")
	v := ix.Load()
	for name, want := range map[string]uint64{"umkc-mx": 0, "umkc-new": 1, "other": 2, "nosuch": 0} {
		if e := v.GroupNamed(name); e.ID() != want {
			t.Errorf("%q after a rename and a create: entity %d, want %d", name, e.ID(), want)
		}
	}
	built := ix.names.built
	tx := ix.Begin()
	tx.PutPair(&record.Pair{Entity: 2, Sender: "a@b.example"})
	tx.Commit()
	if e := ix.Load().GroupNamed("other"); e.ID() != 2 || ix.names.built != built {
		t.Errorf("after a pair write: entity %d, table rebuilt %v", e.ID(), ix.names.built != built)
	}
	tx = ix.Begin()
	tx.DeleteEntity(2)
	tx.Commit()
	if e := ix.Load().GroupNamed("other"); e.Found() {
		t.Errorf("a deleted group is found: entity %d", e.ID())
	}
	put(ix.BeginEmpty(), 7, "restored")
	if a, b := ix.Load().GroupNamed("restored"), ix.Load().GroupNamed("umkc-new"); a.ID() != 7 || b.Found() {
		t.Errorf("after a restore: restored is %d (want 7), umkc-new found %v", a.ID(), b.Found())
	}
}
