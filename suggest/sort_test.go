package suggest

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// randomHolds is n holds with random digests, a tenth of them repeated
// under another entity (senders verified through several relays).
func randomHolds(n int) []hold {
	rng := rand.New(rand.NewPCG(5, 6))
	hs := make([]hold, n)
	for i := range hs {
		hs[i] = hold{digest: rng.Uint64(), ent: rng.Uint32N(1000)}
		if i > 0 && i%10 == 0 {
			hs[i].digest = hs[i-1].digest
		}
	}
	return hs
}

func TestSortHolds_SameOrderAsAComparisonSort(t *testing.T) {
	for _, n := range []int{0, 1, 2, 1000, 300_000} {
		hs := randomHolds(n)
		hs = append(hs, hold{digest: 0, ent: 2}, hold{digest: 0, ent: 1}, hold{digest: ^uint64(0), ent: 0})
		want := slices.Clone(hs)
		slices.SortFunc(want, compareHolds)
		sortHolds(hs)
		if !slices.Equal(hs, want) {
			t.Fatalf("%d holds: radix order differs", n)
		}
	}
}

func BenchmarkSortHolds(b *testing.B) {
	src := randomHolds(1_000_000)
	hs := make([]hold, len(src))
	for _, bc := range []struct {
		name string
		sort func([]hold)
	}{
		{"radix", sortHolds},
		{"comparison", func(hs []hold) { slices.SortFunc(hs, compareHolds) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				copy(hs, src)
				bc.sort(hs)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}
