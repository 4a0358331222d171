package index

import (
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/wlns/wlns/record"
)

// TestSeek_FindsWhatSearchFinds checks the interpolating seek against the
// binary search on leaves whose hashes are even (as SHA-256 bits make
// them), bunched at one end, repeated, or not sharing the prefix their
// depth claims: a poor guess may cost steps, never a wrong position.
func TestSeek_FindsWhatSearchFinds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const prefix = uint64(0x5a) << 56 // the top 8 bits the leaves below share
	even := func(n int) []uint64 {
		hs := make([]uint64, n)
		for i := range hs {
			hs[i] = prefix | r.Uint64()>>8
		}
		return hs
	}
	cases := []struct {
		name  string
		depth uint8
		hs    []uint64
	}{
		{"empty", 8, nil},
		{"one", 8, even(1)},
		{"two", 8, even(2)},
		{"even, full", 8, even(leafMax)},
		{"even, half", 8, even(leafMax / 2)},
		{"even, long", 8, even(1000)},
		{"depth 0", 0, func() []uint64 {
			hs := make([]uint64, leafMax)
			for i := range hs {
				hs[i] = r.Uint64()
			}
			return hs
		}()},
		{"bunched low", 8, func() []uint64 {
			hs := even(leafMax)
			for i := range hs {
				hs[i] = prefix | hs[i]&0xffff
			}
			return hs
		}()},
		{"bunched high", 8, func() []uint64 {
			hs := even(leafMax)
			for i := range hs {
				hs[i] |= 1<<56 - 1<<16
			}
			return hs
		}()},
		{"repeated", 8, func() []uint64 {
			hs := even(leafMax)
			for i := range hs {
				hs[i] = hs[i/40]
			}
			return hs
		}()},
		{"depth overstated", 40, even(leafMax)},
		{"depth 63", 63, []uint64{prefix, prefix, prefix, prefix | 1, prefix | 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			slices.Sort(c.hs)
			l := &leaf{depth: c.depth, es: make([]entry, len(c.hs))}
			for i, h := range c.hs {
				l.es[i].hk = h
			}
			probes := []uint64{0, 1<<64 - 1, prefix, prefix | (1<<56 - 1)}
			for _, h := range c.hs {
				probes = append(probes, h, h-1, h+1)
			}
			for range 1000 {
				probes = append(probes, prefix|r.Uint64()>>8, r.Uint64())
			}
			for _, h := range probes {
				if got, want := l.seek(h), search(l.es, h); got != want {
					t.Fatalf("seek(%#x) = %d, search = %d (leaf of %d at depth %d)", h, got, want, len(l.es), c.depth)
				}
			}
		})
	}
}

// TestLookupPairSums_AnswersAsLookupPair checks the overlapped look-ups
// against one at a time: listed and unlisted senders mixed, more than
// MaxLookups of them, an empty index, and an entity ID past 32 bits.
func TestLookupPairSums_AnswersAsLookupPair(t *testing.T) {
	ix := New()
	v0 := ix.Load()
	tx := ix.Begin()
	for i := range 5000 {
		tx.PutPair(&record.Pair{Entity: uint64(i%7 + 1), Sender: benchSender(i)}) // a tenth domain-wide
	}
	tx.Commit()
	v := ix.Load()
	r := rand.New(rand.NewPCG(3, 4))
	found := 0
	for _, view := range []*View{v0, v} {
		for range 200 {
			entity := uint64(r.IntN(8) + 1) // 8 has none
			if r.IntN(20) == 0 {
				entity += 1 << 32
			}
			senders := make([][]byte, r.IntN(3*MaxLookups+1))
			for i := range senders {
				k := r.IntN(6000) // from 5000 on, none
				if r.IntN(2) == 0 {
					k = r.IntN(700)*7 + int(entity%8) - 1 // listed under entity
				}
				senders[i] = []byte(benchSender(max(k, 0)))
			}
			refs := make([]Ref, len(senders))
			sums := make([][32]byte, len(senders))
			for i := range refs {
				refs[i] = Ref{e: &entry{}} // LookupPairSums must overwrite every one
				sums[i] = sha256.Sum256(senders[i])
			}
			view.LookupPairSums(entity, sums, refs)
			for i, s := range senders {
				if got, want := refs[i], view.LookupPair(entity, s); got != want {
					t.Fatalf("entity %d, %s: LookupPairSums found %v, LookupPair %v", entity, s, got.Found(), want.Found())
				}
				if refs[i].Found() {
					found++
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no sender was listed: the test compares misses only")
	}
}
