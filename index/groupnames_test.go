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
