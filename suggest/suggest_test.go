package suggest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// planted is a whitelist with two planted clusters and decoys:
//   - relays 1–4 share 40 senders (a provider's outbound pool);
//   - group 90 and relays 5–6 share 25 senders (a pool the group misses);
//   - every one of the 80 relays and both groups holds the same 15 senders
//     (a mailing list everyone verified): skipped by MaxPerSender;
//   - 400 senders each shared by 2–3 random relays: chance overlaps below
//     MinShared;
//   - relay 7 (1,000 senders) and relay 8 (100) share 12: above MinShared,
//     below MinOverlap;
//   - groups 90 and 91 share 50: two groups are never suggested together.
type planted struct {
	entities []*record.Entity
	pairs    []*record.Pair
}

func plant() planted {
	var w planted
	for id := uint64(1); id <= 80; id++ {
		w.entities = append(w.entities, &record.Entity{ID: id,
			Prefixes: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("10.0.%d.%d/32", id/256, id%256))},
			PTR:      fmt.Sprintf("out%d.mail.example.net", id)})
	}
	for id, name := range map[uint64]string{90: "pool-a", 91: "pool-b"} {
		w.entities = append(w.entities, &record.Entity{ID: id, Name: name, Group: true,
			Prefixes: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("192.0.%d.0/24", id))}})
	}
	add := func(id uint64, sender string) {
		w.pairs = append(w.pairs, &record.Pair{Entity: id, Sender: sender, By: "t", Method: "challenge"})
	}
	for id := uint64(1); id <= 91; id++ {
		for i := range 10 { // every entity's own senders
			add(id, fmt.Sprintf("own%d-%d@example.org", id, i))
		}
		if id <= 80 || id >= 90 {
			for i := range 15 {
				add(id, fmt.Sprintf("list%d@lists.example.org", i))
			}
		}
	}
	share := func(ids []uint64, n int, tag string) {
		for i := range n {
			for _, id := range ids {
				add(id, fmt.Sprintf("%s%d@users.example.com", tag, i))
			}
		}
	}
	share([]uint64{1, 2, 3, 4}, 40, "a")
	share([]uint64{90, 5, 6}, 25, "b")
	share([]uint64{7, 8}, 12, "c")
	share([]uint64{90, 91}, 50, "g")
	for i := range 990 {
		add(7, fmt.Sprintf("big%d@example.org", i))
	}
	for i := range 80 {
		add(8, fmt.Sprintf("small%d@example.org", i))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 400 {
		for range 2 + rng.IntN(2) {
			add(uint64(9+rng.IntN(72)), fmt.Sprintf("r%d@random.example", i))
		}
	}
	return w
}

// build writes w into a fresh index, pairs in the given order.
func (w planted) build(order []int) *index.View {
	ix := index.New()
	tx := ix.Begin()
	for _, e := range w.entities {
		tx.PutEntity(e)
	}
	for _, i := range order {
		tx.PutPair(w.pairs[i])
	}
	tx.Commit()
	return ix.Load()
}

func ids(s Suggestion) []uint64 {
	var out []uint64
	for _, r := range s.Relays {
		out = append(out, r.ID)
	}
	return out
}

func TestFind_PlantedClustersNotDecoys(t *testing.T) {
	w := plant()
	v := w.build(identity(len(w.pairs)))
	got := Find(v, Config{})
	want := []struct {
		ids    []uint64
		group  uint64
		shared int
	}{
		{ids: []uint64{1, 2, 3, 4}, shared: 40},
		{ids: []uint64{5, 6, 90}, group: 90, shared: 25},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d suggestions %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		s := got[i]
		if !slices.Equal(ids(s), w.ids) || s.Group != w.group || s.Links[0].Shared != w.shared {
			t.Errorf("suggestion %d = relays %v group %d shared %d, want %v %d %d",
				i, ids(s), s.Group, s.Links[0].Shared, w.ids, w.group, w.shared)
		}
		if s.ID != ID(w.ids) {
			t.Errorf("suggestion %d ID %s, want %s", i, s.ID, ID(w.ids))
		}
	}
	if r := got[0].Relays[0]; r.PTR != "out1.mail.example.net" || r.Senders != 10+15+40 || len(r.Prefixes) != 1 {
		t.Errorf("evidence for relay 1 = %+v", r)
	}
}

func TestFind_SameViewSameSuggestions(t *testing.T) {
	w := plant()
	n := len(w.pairs)
	rev := identity(n)
	slices.Reverse(rev)
	shuffled := identity(n)
	rand.New(rand.NewPCG(3, 4)).Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	first := Find(w.build(identity(n)), Config{})
	for name, order := range map[string][]int{"reverse": rev, "shuffled": shuffled} {
		if got := Find(w.build(order), Config{}); !reflect.DeepEqual(got, first) {
			t.Errorf("%s insertion order gave %+v, want %+v", name, got, first)
		}
	}
}

func TestFind_Thresholds(t *testing.T) {
	v := plant().build(identity(len(plant().pairs)))
	tests := []struct {
		name string
		cfg  Config
		want int // suggestions
	}{
		{"defaults", Config{}, 2},
		{"low overlap links the big and small relay", Config{MinOverlap: 0.1}, 3},
		{"higher cap lets the common list link everyone", Config{MaxPerSender: 100}, 1},
		{"high MinShared keeps only the strongest", Config{MinShared: 30}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Find(v, tt.cfg); len(got) != tt.want {
				t.Errorf("%d suggestions, want %d: %+v", len(got), tt.want, got)
			}
		})
	}
}

func identity(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// A relay's senders on lists everyone confirmed are skipped by the cap, and
// so are left out of its share: two relays that share 12 senders, each also
// holding 40 senders held by 70 relays, are still one pool.
func TestFind_ListSendersDoNotDiluteThePool(t *testing.T) {
	ix := index.New()
	tx := ix.Begin()
	for id := uint64(1); id <= 70; id++ {
		tx.PutEntity(&record.Entity{ID: id, Prefixes: []netip.Prefix{netip.MustParsePrefix(fmt.Sprintf("10.1.0.%d/32", id))}})
		for i := range 40 {
			tx.PutPair(&record.Pair{Entity: id, Sender: fmt.Sprintf("list%d@lists.example.org", i)})
		}
	}
	for i := range 12 {
		for _, id := range []uint64{1, 2} {
			tx.PutPair(&record.Pair{Entity: id, Sender: fmt.Sprintf("u%d@users.example.com", i)})
		}
	}
	tx.Commit()
	got := Find(ix.Load(), Config{})
	if len(got) != 1 || !slices.Equal(ids(got[0]), []uint64{1, 2}) || got[0].Links[0].Overlap != 1 {
		t.Fatalf("got %+v, want relays 1 and 2 with overlap 1", got)
	}
}

// chain builds n lone relays, each sharing 10 senders with the next (a
// provider's pool of n addresses): one component of n entities.
func chain(n int) *index.View {
	ix := index.New()
	tx := ix.Begin()
	for id := uint64(1); id <= uint64(n); id++ {
		tx.PutEntity(&record.Entity{ID: id, Prefixes: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 2, byte(id >> 8), byte(id)}), 32)}})
		for _, block := range []uint64{id, id + 1} {
			for i := range 10 {
				tx.PutPair(&record.Pair{Entity: id, Sender: fmt.Sprintf("u%d-%d@pool.example.com", block, i)})
			}
		}
	}
	tx.Commit()
	return ix.Load()
}

// TestFind_EverySuggestionCanBeDismissed: a pool of 1,200 relays linked
// in a chain is suggested as one of 1,000 (the strongest links first,
// here the lowest IDs) and one of the 200 after it, each small enough
// for a dismissal to name; it was one suggestion of 1,200 that no
// dismissal could hold (refused: "at most 1000 entities").
func TestFind_EverySuggestionCanBeDismissed(t *testing.T) {
	got := Find(chain(1200), Config{})
	var sizes []int
	for _, s := range got {
		sizes = append(sizes, len(s.Relays))
		b := command.SuggestionDismissBody{Shared: s.Links[0].Shared, Entities: ids(s)}
		if err := b.Validate(); err != nil {
			t.Errorf("suggestion of %d entities cannot be dismissed: %v", len(s.Relays), err)
		}
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{200, MaxEntities}) {
		t.Errorf("suggestions of %v entities, want 200 and %d", sizes, MaxEntities)
	}
}

// TestFindContext_StopsWhenTheContextEnds: a run whose context has ended
// gives up with its error and no list (a node shutting down does not wait
// for a pass over every pair).
func TestFindContext_StopsWhenTheContextEnds(t *testing.T) {
	v := chain(4000) // 80,000 pairs: past one look at the context
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := FindContext(ctx, v, Config{}); !errors.Is(err, context.Canceled) || got != nil {
		t.Fatalf("FindContext with an ended context: %d suggestions, %v; want none and context.Canceled", len(got), err)
	}
	if got, err := FindContext(context.Background(), v, Config{}); err != nil || len(got) != 4 {
		t.Fatalf("FindContext: %d suggestions, %v; want 4", len(got), err)
	}
}
