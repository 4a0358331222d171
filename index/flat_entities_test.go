package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wlns/wlns/record"
)

// entityString is every field of an entity, for comparing.
func entityString(e *record.Entity) string {
	if e == nil {
		return "nil"
	}
	return fmt.Sprintf("%d|%q|%v|%v|%v|%q|%q|%d|%d|%d|%v", e.ID, e.Name, e.Group, e.Prefixes, e.Registered,
		e.Contact, e.PTR, e.Created, e.Updated, e.LastQueried, e.Pinned)
}

// lone is registered lone relay id at an IPv4 address of its own.
func lone(id uint64) *record.Entity {
	a := netip.AddrFrom4([4]byte{100, byte(id >> 16), byte(id >> 8), byte(id)})
	return &record.Entity{ID: id, Registered: true, Contact: fmt.Sprintf("postmaster@relay%d.example", id),
		PTR: fmt.Sprintf("mx%d.example.net", id), Prefixes: []netip.Prefix{netip.PrefixFrom(a, 32)},
		Meta: record.Meta{Created: 1_760_000_000 + int64(id), Updated: 1_760_000_100 + int64(id)}}
}

// bigGroup is group id with n IPv6 /128 members: its text (17 bytes a
// member) is longer than an arena chunk when n passes about 15,400.
func bigGroup(id uint64, n int) *record.Entity {
	e := &record.Entity{ID: id, Name: fmt.Sprintf("big-%d", id), Group: true, Registered: true, Meta: record.Meta{Created: 1_760_000_000}}
	for i := range n {
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
		b[4], b[14], b[15] = byte(id), byte(i>>8), byte(i)
		e.Prefixes = append(e.Prefixes, netip.PrefixFrom(netip.AddrFrom16(b), 128))
	}
	return e
}

// entityScene puts 100k lone relays (several /32 blocks and arena
// chunks), groups with CIDRs and /32s, groups longer than a chunk (one of
// them right after a record that ends a chunk), holes in the IDs (a whole
// page of them) and IDs past the pages.
func entityScene(t *testing.T) *Index {
	t.Helper()
	ix := New()
	tx := ix.Begin()
	for id := uint64(1); id <= 100_000; id++ {
		if id/idSlots != 7 && id%97 != 0 { // page 7 empty, and holes
			tx.PutEntity(lone(id))
		}
	}
	for i := range uint64(50) {
		tx.PutEntity(&record.Entity{ID: 100_001 + i, Name: fmt.Sprintf("g%d", i), Group: true, Meta: record.Meta{Pinned: i%2 == 0},
			Prefixes: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16),
				netip.PrefixFrom(netip.AddrFrom4([4]byte{11, byte(i), 0, 1}), 32),
				netip.MustParsePrefix(fmt.Sprintf("2001:db8:%x::/48", i))}})
	}
	tx.PutEntity(bigGroup(100_100, 16_000))
	tx.PutEntity(bigGroup(100_101, 40_000))
	tx.PutEntity(lone(100_102))
	tx.PutEntity(&record.Entity{ID: 1 << 25, Name: "sparse", Group: true})
	tx.PutEntity(lone(1<<32 - 1))
	tx.Commit()
	return ix
}

// TestFlat_EntitiesLoadAsPut writes the entity scene flat, loads it and
// demands every entity, every member's owner and the counts as put, the
// /32 leaves inserting makes, the same bytes written again, and a loaded
// index that takes further writes.
func TestFlat_EntitiesLoadAsPut(t *testing.T) {
	src := entityScene(t)
	parts := writeFlat(t, src.Load())
	kinds := map[FlatPart]int{}
	for _, p := range parts {
		kinds[p.kind]++
	}
	if kinds[FlatEntHot] < 190 || kinds[FlatEntSparse] != 1 || kinds[FlatEntArena] < 30 || kinds[FlatHost4] != 1 {
		t.Fatalf("parts %v: the scene does not cover the form", kinds)
	}
	back, err := loadFlat(parts, nil)
	if err != nil {
		t.Fatal(err)
	}
	sv, bv := src.Load(), back.Load()
	compareEntityViews(t, sv, bv)
	if got, want := a4Shape(&bv.host4), a4Shape(&sv.host4); got != want {
		t.Fatalf("/32 leaves %s, inserted %s", got, want)
	}
	if again := writeFlat(t, bv); !bytes.Equal(flatBytes(again), flatBytes(parts)) {
		t.Fatal("loaded entities write other bytes")
	}
	// Writes after the load: the appended arena chunk, shared leaves.
	for _, ix := range []*Index{src, back} {
		tx := ix.Begin()
		tx.PutEntity(lone(100_103))
		tx.DeleteEntity(5)
		tx.PutEntity(bigGroup(100_101, 3))
		tx.Commit()
	}
	compareEntityViews(t, src.Load(), back.Load())
}

// compareEntityViews demands that a and b hold the same entities and
// resolve every member to the same one.
func compareEntityViews(t *testing.T, a, b *View) {
	t.Helper()
	if a.Counts() != b.Counts() || !slices.Equal(a.len4, b.len4) || !slices.Equal(a.len6, b.len6) {
		t.Fatalf("counts %+v %v %v, want %+v %v %v", b.Counts(), b.len4, b.len6, a.Counts(), a.len4, a.len6)
	}
	var ea, eb []string
	a.Entities(func(e *record.Entity) bool { ea = append(ea, entityString(e)); return true })
	b.Entities(func(e *record.Entity) bool { eb = append(eb, entityString(e)); return true })
	if !slices.Equal(ea, eb) {
		t.Fatal("entities differ")
	}
	a.Entities(func(e *record.Entity) bool {
		for _, p := range e.Prefixes {
			if got := b.PrefixOwnerID(p); got != e.ID {
				t.Fatalf("%s: owner %d, want %d", p, got, e.ID)
			}
			if got := b.EntityRefOf(p.Addr()); got.ID() != a.EntityRefOf(p.Addr()).ID() {
				t.Fatalf("%s resolves to %d", p.Addr(), got.ID())
			}
		}
		return true
	})
}

// a4Shape lists a /32 table's leaves as depth:entries.
func a4Shape(tb *atab[uint32, uint32]) string {
	var s strings.Builder
	tb.eachLeaf(func(l *aleaf[uint32, uint32]) { fmt.Fprintf(&s, "%d:%d ", l.depth, len(l.ks)) })
	return s.String()
}

// TestFlat_DamagedEntityPartsAreRefused: entity parts that do not hold
// together give an error, never a panic or entities that answer wrong.
func TestFlat_DamagedEntityPartsAreRefused(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	for id := uint64(1); id <= 6; id++ {
		tx.PutEntity(lone(id))
	}
	tx.PutEntity(&record.Entity{ID: 8, Name: "g", Group: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("2001:db8::/32")}})
	tx.PutEntity(&record.Entity{ID: 9, Name: "h", Group: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}})
	tx.PutEntity(lone(1 << 30))
	tx.PutPair(&record.Pair{Entity: 1, Sender: "dave@umkc.edu"})
	tx.Commit()
	good := writeFlat(t, ix.Load())
	if _, err := loadFlat(good, nil); err != nil {
		t.Fatal(err)
	}
	find := func(ps []flatPart, k FlatPart) int {
		return slices.IndexFunc(ps, func(p flatPart) bool { return p.kind == k })
	}
	page, arena, host4, sparse := find(good, FlatEntHot), find(good, FlatEntArena), find(good, FlatHost4), find(good, FlatEntSparse)
	// hot is entity id's hot entry in the page; text the text of the
	// record at ref, to the end of the arena part.
	hot := func(ps []flatPart, id int) []byte { return ps[page].b[id*EntHotBytes:][:EntHotBytes] }
	text := func(ps []flatPart, ref uint32) []byte { return ps[arena].b[4*ref+4*entHeader:] }
	ref := func(ps []flatPart, id int) uint32 { return binary.LittleEndian.Uint32(hot(ps, id)[8:]) }
	last := binary.LittleEndian.Uint32(good[sparse].b[12:]) // the sparse relay's record ends the arena
	edit := func(fn func(ps []flatPart) []flatPart) []flatPart {
		ps := make([]flatPart, len(good))
		for i, p := range good {
			ps[i] = flatPart{p.kind, bytes.Clone(p.b)}
		}
		return fn(ps)
	}
	// In group h's text (flags, name, contact, PTR, count), its prefix's
	// tag is byte 6, its address bytes 7 to 10; 11 is padding.
	cases := map[string]struct {
		parts []flatPart
		want  string
	}{
		"cold ref moved":   {edit(func(ps []flatPart) []flatPart { hot(ps, 3)[8]++; return ps }), "not where"},
		"cold ref far":     {edit(func(ps []flatPart) []flatPart { hot(ps, 3)[11] = 0x7f; return ps }), "outside the arena"},
		"times, no record": {edit(func(ps []flatPart) []flatPart { hot(ps, 7)[0] = 1; return ps }), "no record"},
		"entity ID 0":      {edit(func(ps []flatPart) []flatPart { copy(hot(ps, 0), hot(ps, 1)); return ps }), "ID 0"},
		"seen mark":        {edit(func(ps []flatPart) []flatPart { ps[arena].b[4*ref(ps, 2)] = 1; return ps }), "seen mark"},
		"unknown flag":     {edit(func(ps []flatPart) []flatPart { text(ps, ref(ps, 2))[0] |= 0x80; return ps }), "unknown flags"},
		"text runs past":   {edit(func(ps []flatPart) []flatPart { text(ps, last)[1] = 0x7f; return ps }), "runs past"},
		"prefix length 33": {edit(func(ps []flatPart) []flatPart { text(ps, ref(ps, 9))[6] = 33; return ps }), "unknown length"},
		"padding":          {edit(func(ps []flatPart) []flatPart { text(ps, ref(ps, 9))[11] = 1; return ps }), "padding"},
		"prefix of two": {edit(func(ps []flatPart) []flatPart {
			copy(text(ps, ref(ps, 9))[6:], []byte{8, 10, 0, 0, 0}) // g's 10.0.0.0/8
			return ps
		}), "member too"},
		"word 0":         {edit(func(ps []flatPart) []flatPart { ps[arena].b[0] = 1; return ps }), "word 0"},
		"trailing words": {edit(func(ps []flatPart) []flatPart { ps[arena].b = append(ps[arena].b, 0, 0, 0, 0); return ps }), "no record uses"},
		"arena part after the last": {edit(func(ps []flatPart) []flatPart {
			return slices.Insert(ps, arena+1, flatPart{FlatEntArena, []byte{0, 0, 0, 0}})
		}), "after the last record"},
		"page of 12 bytes": {edit(func(ps []flatPart) []flatPart { ps[page].b = ps[page].b[:12]; return ps }), "entity page"},
		"/32 of another": {edit(func(ps []flatPart) []flatPart {
			ids := ps[host4].b[len(ps[host4].b)/2:]
			copy(ids[4:8], ids[8:12])
			return ps
		}), "does not give each"},
		"/32 without entity": {edit(func(ps []flatPart) []flatPart { b := ps[host4].b; clear(b[len(b)/2:][:4]); return ps }), "without an entity"},
		"/32 keys out of order": {edit(func(ps []flatPart) []flatPart {
			b := ps[host4].b
			k := bytes.Clone(b[:4])
			copy(b[:4], b[4:8])
			copy(b[4:8], k)
			return ps
		}), "out of order"},
		"/32 missing": {edit(func(ps []flatPart) []flatPart {
			b := ps[host4].b
			ps[host4].b = append(bytes.Clone(b[4:len(b)/2]), b[len(b)/2+4:]...)
			return ps
		}), "does not give each"},
		"sparse before pages":  {edit(func(ps []flatPart) []flatPart { ps[page], ps[sparse] = ps[sparse], ps[page]; return ps }), "after kind"},
		"entities after pairs": {edit(func(ps []flatPart) []flatPart { return append(ps, ps[page]) }), "after kind"},
		"sparse ID in pages": {edit(func(ps []flatPart) []flatPart {
			binary.LittleEndian.PutUint32(ps[sparse].b, 3)
			return ps
		}), "out of order"},
		"empty part, then a short one": {edit(func(ps []flatPart) []flatPart {
			return slices.Insert(ps, arena, flatPart{FlatEntArena, nil})
		}), "arena part of"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := loadFlat(c.parts, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// TestEachPairOf_FindsExactlyTheEntitysRecords: the entity-delete scan
// sees every pair and VERP source of its entity and nothing else.
func TestEachPairOf_FindsExactlyTheEntitysRecords(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	want := map[uint64][]string{}
	for i := range 3000 {
		p := benchPair(i)
		p.Entity = uint64(i%3 + 1)
		tx.PutPair(p)
		want[p.Entity] = append(want[p.Entity], p.Sender)
	}
	tx.PutVerp(&record.Verp{Entity: 2, Domain: "lists.example.org"})
	tx.Commit()
	v := ix.Load()
	for _, ent := range []uint64{1, 2, 3, 4, 1<<32 + 2} {
		var got []string
		v.EachPairOf(ent, func(r Ref) bool { got = append(got, r.Key()); return true })
		v.EachVerpOf(ent, func(r Ref) bool { got = append(got, "verp "+r.Key()); return true })
		w := slices.Clone(want[ent])
		if ent == 2 {
			w = append(w, "verp lists.example.org")
		}
		slices.Sort(got)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Fatalf("entity %d: %d records, want %d", ent, len(got), len(w))
		}
	}
}
