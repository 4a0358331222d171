package index

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/wlns/wlns/record"
)

func entity(id uint64, group bool, prefixes ...string) *record.Entity {
	e := &record.Entity{ID: id, Group: group, Name: fmt.Sprintf("e%d", id)}
	for _, s := range prefixes {
		p, err := record.ParsePrefix(s)
		if err != nil {
			panic(err)
		}
		e.Prefixes = append(e.Prefixes, p)
	}
	return e
}

func TestEntityOf_LongestPrefixWins(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	tx.PutEntity(entity(1, true, "192.0.2.0/24", "2001:db8::/32"))
	tx.PutEntity(entity(2, true, "192.0.2.128/25", "2001:db8:1::/48"))
	tx.PutEntity(entity(3, false, "192.0.2.200"))
	tx.PutEntity(entity(4, false, "2001:db8:1::25"))
	tx.Commit()
	v := ix.Load()
	cases := []struct {
		ip   string
		want uint64
	}{
		{"192.0.2.1", 1},
		{"192.0.2.129", 2},
		{"192.0.2.200", 3},
		{"::ffff:192.0.2.200", 3},
		{"192.0.3.1", 0},
		{"2001:db8::1", 1},
		{"2001:db8:1::1", 2},
		{"2001:db8:1::25", 4},
		{"2001:db9::1", 0},
	}
	for _, c := range cases {
		t.Run(c.ip, func(t *testing.T) {
			e := v.EntityOf(netip.MustParseAddr(c.ip))
			var got uint64
			if e != nil {
				got = e.ID
			}
			if got != c.want {
				t.Errorf("EntityOf(%s) = %d, want %d", c.ip, got, c.want)
			}
		})
	}
}

func TestPutEntity_MovingPrefixesUpdatesLookup(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	tx.PutEntity(entity(1, true, "192.0.2.1", "192.0.2.2"))
	tx.Commit()
	before := ix.Load()

	tx = ix.Begin()
	tx.PutEntity(entity(1, true, "192.0.2.1"))
	tx.Commit()
	after := ix.Load()

	if after.EntityOf(netip.MustParseAddr("192.0.2.2")) != nil {
		t.Error("removed member still resolves to the group")
	}
	if after.EntityOf(netip.MustParseAddr("192.0.2.1")) == nil {
		t.Error("kept member no longer resolves")
	}
	if before.EntityOf(netip.MustParseAddr("192.0.2.2")) == nil {
		t.Error("an older View changed after a later commit")
	}
	if got := after.Counts().PrefixMember; got != 1 {
		t.Errorf("prefix count = %d, want 1", got)
	}
}

func TestDeleteEntity_RemovesPrefixesAndCounts(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	e := entity(7, false, "198.51.100.7")
	e.Registered = true
	tx.PutEntity(e)
	tx.Commit()
	tx = ix.Begin()
	tx.DeleteEntity(7)
	tx.Commit()
	v := ix.Load()
	if v.EntityOf(netip.MustParseAddr("198.51.100.7")) != nil || v.Entity(7) != nil {
		t.Error("deleted entity still found")
	}
	if c := v.Counts(); c.Entities != 0 || c.Registered != 0 || c.PrefixMember != 0 {
		t.Errorf("counts after delete = %+v, want zeros", c)
	}
}

func TestPair_AddressDomainAndHash(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	tx.PutPair(&record.Pair{Entity: 1, Sender: "first.last@umkc.edu"})
	tx.PutPair(&record.Pair{Entity: 1, Sender: "umkc.edu"})
	tx.PutVerp(&record.Verp{Entity: 1, Domain: "lists.example.org"})
	tx.Commit()
	v := ix.Load()
	if p := v.Pair(1, []byte("first.last@umkc.edu")); p == nil || p.DomainWide() {
		t.Errorf("address pair = %+v", p)
	}
	if p := v.Pair(1, []byte("umkc.edu")); p == nil || !p.DomainWide() {
		t.Errorf("domain pair = %+v", p)
	}
	if v.Pair(2, []byte("first.last@umkc.edu")) != nil {
		t.Error("pair found under another entity")
	}
	sum := record.SenderHash("First.Last@UMKC.edu")
	if p := v.PairByHash(1, &sum); p == nil || p.Sender != "first.last@umkc.edu" {
		t.Errorf("PairByHash = %+v", p)
	}
	dsum := record.SenderHash("umkc.edu")
	if v.PairByHash(1, &dsum) != nil {
		t.Error("domain-wide pair reachable by hash")
	}
	if v.Verp(1, []byte("lists.example.org")) == nil {
		t.Error("verp not found")
	}
	if c := v.Counts(); c.Pairs != 1 || c.DomainPairs != 1 || c.VerpSources != 1 {
		t.Errorf("counts = %+v", c)
	}

	tx = ix.Begin()
	tx.DeletePair(1, "first.last@umkc.edu")
	tx.DeleteVerp(1, "lists.example.org")
	tx.Commit()
	v = ix.Load()
	if v.Pair(1, []byte("first.last@umkc.edu")) != nil || v.PairByHash(1, &sum) != nil {
		t.Error("deleted pair still found")
	}
	if c := v.Counts(); c.Pairs != 0 || c.VerpSources != 0 {
		t.Errorf("counts after delete = %+v", c)
	}
}

func TestChild_DroppedChildLeavesParentUnchanged(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	tx.PutPair(&record.Pair{Entity: 1, Sender: "a@example.org"})
	child := tx.Child()
	child.PutPair(&record.Pair{Entity: 1, Sender: "b@example.org"})
	child.DeletePair(1, "a@example.org")
	// child dropped: nothing it did may show.
	tx.Commit()
	v := ix.Load()
	if v.Pair(1, []byte("a@example.org")) == nil || v.Pair(1, []byte("b@example.org")) != nil {
		t.Error("a dropped child's writes leaked into the parent")
	}

	tx = ix.Begin()
	child = tx.Child()
	child.PutPair(&record.Pair{Entity: 1, Sender: "b@example.org"})
	tx.Adopt(child)
	tx.PutPair(&record.Pair{Entity: 1, Sender: "c@example.org"})
	tx.Commit()
	v = ix.Load()
	for _, s := range []string{"a@example.org", "b@example.org", "c@example.org"} {
		if v.Pair(1, []byte(s)) == nil {
			t.Errorf("%s missing after Adopt", s)
		}
	}
}

func TestLoad_ReadersNeverSeeHalfACommit(t *testing.T) {
	ix := New()
	const rounds = 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			v := ix.Load()
			// Each commit writes a pair and its entity together.
			n := v.Counts().Pairs
			if v.Counts().Entities != n {
				t.Errorf("torn view: %d pairs, %d entities", n, v.Counts().Entities)
				return
			}
		}
	}()
	for i := 1; i <= rounds; i++ {
		tx := ix.Begin()
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		tx.PutEntity(&record.Entity{ID: uint64(i), Prefixes: []netip.Prefix{netip.PrefixFrom(ip, 32)}})
		tx.PutPair(&record.Pair{Entity: uint64(i), Sender: fmt.Sprintf("u%d@example.org", i)})
		tx.Commit()
	}
	close(stop)
	wg.Wait()
	if got := ix.Load().Counts().Pairs; got != rounds {
		t.Errorf("pairs = %d, want %d", got, rounds)
	}
}

// TestLookupPair_ReadersRaceTheWriter reads, marks and walks pairs from
// published versions while the writer adds, touches and deletes them and
// its arena grows under the readers (run with -race).
func TestLookupPair_ReadersRaceTheWriter(t *testing.T) {
	ix := New()
	lookup := func(i int) bool {
		v := ix.Load()
		s := fmt.Sprintf("u%d@example.org", i%500)
		if p := v.LookupPair(uint64(i%7+1), []byte(s)); p.Found() {
			p.MarkSeen(int64(i))
			if p.Key() != s {
				t.Errorf("Key = %q, want %q", p.Key(), s)
				return false
			}
		}
		return true
	}
	touchLoop := func(int) bool {
		ix.Load().EachPairMarked(func(r Ref) bool { return r.Seen() > r.LastQueried() })
		return true
	}
	stop := whileWriting(lookup, lookup, touchLoop)
	for i := 0; i < 3000; i++ {
		tx := ix.Begin()
		s := fmt.Sprintf("u%d@example.org", i%500)
		tx.PutPair(&record.Pair{Entity: uint64(i%7 + 1), Sender: s, By: "t"})
		tx.TouchPair(uint64(i%7+1), s, int64(i))
		if i%3 == 0 {
			tx.DeletePair(uint64((i+3)%7+1), fmt.Sprintf("u%d@example.org", (i+250)%500))
		}
		tx.Commit()
	}
	stop()
}

// whileWriting runs each reader in a goroutine, calling it with 0, 1, 2…
// until it returns false or the returned stop is called; stop waits for
// them.
func whileWriting(readers ...func(i int) bool) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, read := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if !read(i) {
					return
				}
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

// TestEachPairMarked_WalksOnlyWhatWasMarked: a walk that finds nothing due
// leaves the next walk nothing to read; a positive answer brings its pair
// back; a pair still due (its touch not applied yet) stays in every walk.
func TestEachPairMarked_WalksOnlyWhatWasMarked(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	for i := 0; i < 5000; i++ {
		tx.PutPair(&record.Pair{Entity: uint64(i%50 + 1), Sender: fmt.Sprintf("u%d@example.org", i)})
	}
	tx.Commit()
	v := ix.Load()
	walk := func(due func(Ref) bool) (n int) {
		v.EachPairMarked(func(r Ref) bool { n++; return due(r) })
		return n
	}
	never := func(Ref) bool { return false }
	if n := walk(never); n != 5000 {
		t.Fatalf("first walk read %d pairs, want all 5000", n)
	}
	if n := walk(never); n != 0 {
		t.Fatalf("second walk read %d pairs, want 0", n)
	}
	p := v.LookupPair(7, []byte("u6@example.org"))
	p.MarkSeen(100)
	seen := func(r Ref) bool { return r.Seen() > 0 }
	var found bool
	v.EachPairMarked(func(r Ref) bool {
		found = found || r.Key() == "u6@example.org"
		return seen(r)
	})
	if !found {
		t.Fatal("a marked pair was not walked")
	}
	if n := walk(seen); n == 0 || n > leafMax {
		t.Fatalf("a still-due pair's leaf: walk read %d pairs, want its leaf", n)
	}
	p.MarkSeen(100) // the same second: the mark does not move
	if n := walk(never); n == 0 {
		t.Fatal("the due leaf was dropped before a walk found it not due")
	}
	if n := walk(never); n != 0 {
		t.Fatalf("walk after nothing was due read %d pairs", n)
	}
}

// TestEntityRefOf_AllocatesNothing: the DNS path's look-ups of a relay, a
// group member by CIDR and an IPv6 member, and what the TXT reads of
// them, allocate nothing.
func TestEntityRefOf_AllocatesNothing(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	tx.PutEntity(entity(1, true, "192.0.2.0/24", "2001:db8::/32"))
	tx.PutEntity(entity(3, false, "192.0.2.200"))
	tx.Commit()
	v := ix.Load()
	ips := []netip.Addr{netip.MustParseAddr("192.0.2.200"), netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("2001:db8::1")}
	var n int
	allocs := testing.AllocsPerRun(100, func() {
		for _, ip := range ips {
			e := v.EntityRefOf(ip)
			_, ok := e.LonePrefix()
			if e.Found() && e.Name() != "" && ok {
				n++
			}
			e.MarkSeen(1_700_000_000)
		}
	})
	if allocs != 0 {
		t.Errorf("EntityRefOf and its reads allocate %v times per run", allocs)
	}
}

func TestView_DelegationCovering(t *testing.T) {
	ix := New()
	tx := ix.Begin()
	for _, p := range []string{"192.0.2.0/24", "2001:db8::/32"} {
		if err := tx.PutDelegation(&record.Delegation{Prefix: netip.MustParsePrefix(p)}); err != nil {
			t.Fatal(err)
		}
	}
	tx.Commit()
	v := ix.Load()
	for _, c := range []struct {
		p    string
		want string
	}{
		{"192.0.2.4/32", "192.0.2.0/24"}, {"192.0.2.128/25", "192.0.2.0/24"}, {"192.0.2.0/24", "192.0.2.0/24"},
		{"192.0.0.0/16", ""}, {"198.51.100.4/32", ""}, {"2001:db8:1::/48", "2001:db8::/32"}, {"2001:db9::1/128", ""},
	} {
		got := ""
		if d := v.DelegationCovering(netip.MustParsePrefix(c.p)); d != nil {
			got = d.Prefix.String()
		}
		if got != c.want {
			t.Errorf("DelegationCovering(%s) = %q, want %q", c.p, got, c.want)
		}
	}
}

// TestEntityRefOf_ReadersRaceTheWriter resolves addresses, reads names and
// marks entities from published versions while the writer replaces,
// touches and deletes them, grows their arena under the readers and
// compacts it (run with -race).
func TestEntityRefOf_ReadersRaceTheWriter(t *testing.T) {
	ix := New()
	ix.ecold.compactAt = 256
	read := func(i int) bool {
		e := ix.Load().EntityRefOf(netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 50)}))
		if !e.Found() {
			return true
		}
		e.MarkSeen(int64(i))
		if want := fmt.Sprintf("e%d", e.ID()); e.Name() != want {
			t.Errorf("Name = %q, want %q", e.Name(), want)
			return false
		}
		return true
	}
	stop := whileWriting(read, read)
	for i := 0; i < 3000; i++ {
		tx := ix.Begin()
		id := uint64(i%50 + 1)
		tx.PutEntity(entity(id, true, fmt.Sprintf("192.0.2.%d", id-1), fmt.Sprintf("10.%d.0.0/16", id)))
		tx.TouchEntity(id, int64(i))
		if i%7 == 0 {
			tx.DeleteEntity(uint64((i+25)%50 + 1))
		}
		tx.Commit()
	}
	stop()
	if ix.ecold.compactions == 0 {
		t.Error("the entities' arena never compacted")
	}
}
