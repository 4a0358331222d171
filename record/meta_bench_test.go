package record

import "testing"

// BenchmarkMeta_MarkSeen is the query path's cost of marking a record:
// within one second of the coarse clock only the load runs.
func BenchmarkMeta_MarkSeen(b *testing.B) {
	b.Run("same-second", func(b *testing.B) {
		var p Pair
		p.MarkSeen(1)
		for b.Loop() {
			p.MarkSeen(1)
		}
	})
	b.Run("new-second", func(b *testing.B) {
		var p Pair
		var now int64
		for b.Loop() {
			now++
			p.MarkSeen(now)
		}
	})
	b.Run("parallel-one-record", func(b *testing.B) {
		var p Pair
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.MarkSeen(1_700_000_000)
			}
		})
	})
}
