package suggest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"slices"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// MaxEntities bounds the entities of one suggestion: as many as a
// dismissal may name (command.MaxDismissEntities), so that whatever is
// suggested can be dismissed. Clustering, strongest links first, stops
// growing a suggestion there; the entities past it make suggestions of
// their own.
const MaxEntities = command.MaxDismissEntities

// Config sets the thresholds. Zero values take the defaults.
type Config struct {
	// MinShared is the fewest senders two entities must share to be linked;
	// default 10. It keeps small relays from linking on chance overlaps.
	MinShared int
	// MinOverlap is the least share of the smaller entity's senders (those
	// not skipped by MaxPerSender) the two must have in common (the overlap coefficient, shared / min(|A|, |B|));
	// default 0.3. Not Jaccard: a small relay whose senders all pass through
	// a large group too belongs with it, yet its Jaccard index against the
	// group is tiny.
	MinOverlap float64
	// MaxPerSender skips a sender verified through more entities than this;
	// default 64.
	MaxPerSender int
}

func (c Config) withDefaults() Config {
	if c.MinShared <= 0 {
		c.MinShared = 10
	}
	if c.MinOverlap <= 0 {
		c.MinOverlap = 0.3
	}
	if c.MaxPerSender <= 0 {
		c.MaxPerSender = 64
	}
	return c
}

// Suggestion proposes grouping its relays.
type Suggestion struct {
	// ID names the suggestion by its entities: the same set, the same ID.
	ID string `json:"id"`
	// Group is the ID of the group the others would join, or 0 when the
	// suggestion is a new group of lone relays.
	Group uint64 `json:"group,omitempty"`
	// Relays are the entities, by ID.
	Relays []Relay `json:"relays"`
	// Links are the entity pairs above the thresholds that joined them,
	// most shared first: the evidence.
	Links []Link `json:"links"`
	// Dismissed is set on a suggestion a person dismissed that is listed
	// again because its evidence grew (WithoutDismissed).
	Dismissed *record.Dismissal `json:"dismissed,omitempty"`
}

// Relay is one entity of a suggestion with what a person judges it by.
type Relay struct {
	// ID is the entity's ID.
	ID uint64 `json:"id"`
	// Group is true for a group.
	Group bool `json:"group"`
	// Name is a group's name.
	Name string `json:"name,omitempty"`
	// PTR is the entity's forward-confirmed reverse name.
	PTR string `json:"ptr,omitempty"`
	// Prefixes are the entity's members.
	Prefixes []netip.Prefix `json:"prefixes"`
	// Senders is how many records (pairs and VERP sources) the entity holds.
	Senders int `json:"senders"`
}

// Link is two entities and the senders they share.
type Link struct {
	// A and B are entity IDs, A < B.
	A uint64 `json:"a"`
	B uint64 `json:"b"`
	// Shared is how many senders were verified through both.
	Shared int `json:"shared"`
	// Overlap is Shared over the smaller entity's sender count (senders
	// held by more than MaxPerSender entities left out).
	Overlap float64 `json:"overlap"`
}

// Find returns the suggestions of v, sorted by the most shared senders of
// their strongest link, then ID.
func Find(v *index.View, cfg Config) []Suggestion {
	list, _ := FindContext(context.Background(), v, cfg) // no error without a cancellation
	return list
}

// FindContext is Find that gives up, with ctx's error, soon after ctx
// ends: a run reads every pair, seconds at 10M, and a node shutting down
// does not wait for it.
func FindContext(ctx context.Context, v *index.View, cfg Config) ([]Suggestion, error) {
	cfg = cfg.withDefaults()
	stop := &stopper{ctx: ctx}
	holds := collect(v, stop)
	if stop.err() != nil {
		return nil, stop.err()
	}
	shared, own := countShared(holds, cfg.MaxPerSender, stop)
	if stop.err() != nil {
		return nil, stop.err()
	}
	return cluster(v, strongLinks(shared, own, v, cfg)), nil
}

// stopper looks at its context once per stopEvery steps of a loop.
type stopper struct {
	ctx context.Context
	n   int
}

const stopEvery = 1 << 16

// stopped counts a step and reports whether ctx has ended (looked at
// every stopEvery steps).
func (s *stopper) stopped() bool {
	s.n++
	return s.n%stopEvery == 0 && s.ctx.Err() != nil
}

func (s *stopper) err() error { return s.ctx.Err() }

// hold is one pair: its sender's digest and its entity.
type hold struct {
	digest uint64
	ent    uint32
}

// collect reads every pair's digest and entity, sorted; nothing (nil)
// when stop says to.
func collect(v *index.View, stop *stopper) []hold {
	hs := make([]hold, 0, v.Counts().Pairs)
	v.EachPair(func(r index.Ref) bool {
		d, _ := r.Digest()
		hs = append(hs, hold{digest: d, ent: uint32(r.Entity())})
		return !stop.stopped()
	})
	if stop.err() != nil {
		return nil
	}
	sortHolds(hs)
	return hs
}

// countShared counts, for each entity pair, the digests both hold, skipping
// digests held by more than maxPer entities; keys are a<<32 | b, a < b. own
// counts each entity's digests that are not skipped (indexed by entity ID,
// which the state machine hands out in sequence): the denominator of the
// overlap, so a relay's share of a list everyone confirmed does not dilute it.
func countShared(hs []hold, maxPer int, stop *stopper) (counts map[uint64]int, own []int32) {
	counts = map[uint64]int{}
	var top uint32
	for _, h := range hs {
		top = max(top, h.ent)
	}
	own = make([]int32, int(top)+1)
	for i := 0; i < len(hs) && !stop.stopped(); {
		j := i + 1
		for j < len(hs) && hs[j].digest == hs[i].digest {
			j++
		}
		if j-i <= maxPer {
			for x := i; x < j; x++ {
				own[hs[x].ent]++
			}
		}
		if n := j - i; n >= 2 && n <= maxPer {
			for x := i; x < j; x++ {
				for y := x + 1; y < j; y++ {
					counts[uint64(hs[x].ent)<<32|uint64(hs[y].ent)]++
				}
			}
		}
		i = j
	}
	return counts, own
}

// strongLinks keeps the counted pairs above both thresholds, sorted by
// shared count (descending), then entity IDs. Two groups are never linked:
// merging groups is not a suggestion this package makes.
func strongLinks(counts map[uint64]int, own []int32, v *index.View, cfg Config) []Link {
	var out []Link
	for k, n := range counts {
		if n < cfg.MinShared {
			continue
		}
		a, b := k>>32, k&0xffffffff
		small := int(min(own[a], own[b]))
		if small == 0 || float64(n)/float64(small) < cfg.MinOverlap {
			continue
		}
		if v.EntityRef(a).Group() && v.EntityRef(b).Group() {
			continue
		}
		out = append(out, Link{A: a, B: b, Shared: n, Overlap: float64(n) / float64(small)})
	}
	slices.SortFunc(out, func(x, y Link) int {
		return cmp.Or(cmp.Compare(y.Shared, x.Shared), cmp.Compare(x.A, y.A), cmp.Compare(x.B, y.B))
	})
	return out
}

// ID is the suggestion ID of a set of entity IDs: the first 8 bytes of the
// SHA-256 of the sorted IDs, in hex.
func ID(entities []uint64) string {
	ids := slices.Clone(entities)
	slices.Sort(ids)
	buf := make([]byte, 0, 8*len(ids))
	for _, id := range ids {
		buf = binary.BigEndian.AppendUint64(buf, id)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:8])
}
