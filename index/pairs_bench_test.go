package index

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/wlns/wlns/index/internal/oracle"
	"github.com/wlns/wlns/record"
)

// benchSender is the i-th sender of the benchmarks: realistic lengths
// (about 22 bytes), and every tenth a domain-wide entry.
func benchSender(i int) string {
	if i%10 == 9 {
		return fmt.Sprintf("d%d.example.org", i)
	}
	return fmt.Sprintf("user%d@example.org", i)
}

func benchPair(i int) *record.Pair {
	return &record.Pair{Entity: uint64(i%100_000 + 1), Sender: benchSender(i), By: "import", Method: "import",
		Meta: record.Meta{Created: 1_760_000_000 + int64(i), Updated: 1_760_000_000 + int64(i)}}
}

func buildPairs(n int) *Index {
	ix := New()
	tx := ix.Begin()
	for i := 0; i < n; i++ {
		tx.PutPair(benchPair(i))
	}
	tx.Commit()
	return ix
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// BenchmarkPairMemory_1M reports the heap bytes per pair of 1M pairs, in
// the compact store and in the old store's shape (the oracle: a map of
// record pointers keyed by entity and sender, a second keyed by hash).
func BenchmarkPairMemory_1M(b *testing.B) {
	const n = 1_000_000
	b.Run("compact", func(b *testing.B) {
		for b.Loop() {
			before := heapInUse()
			ix := buildPairs(n)
			b.ReportMetric(float64(heapInUse()-before)/n, "bytes/record")
			runtime.KeepAlive(ix)
		}
	})
	b.Run("old", func(b *testing.B) {
		for b.Loop() {
			before := heapInUse()
			ix := oracle.New()
			tx := ix.Begin()
			for i := 0; i < n; i++ {
				tx.PutPair(benchPair(i))
			}
			tx.Commit()
			b.ReportMetric(float64(heapInUse()-before)/n, "bytes/record")
			runtime.KeepAlive(ix)
		}
	})
}

func BenchmarkLookupPair_1M(b *testing.B) {
	v := buildPairs(1_000_000).Load()
	keys := make([][]byte, 1024)
	sums := make([][32]byte, len(keys))
	for k := range keys {
		keys[k] = []byte(benchSender(k * 977))
		sums[k] = sha256.Sum256(keys[k])
	}
	b.Run("text", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			k := i % len(keys)
			if !v.LookupPair(uint64(k*977%100_000+1), keys[k]).Found() {
				b.Fatal("miss")
			}
		}
	})
	b.Run("hash", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			k := i % len(keys)
			if k*977%10 != 9 && !v.LookupPairHash(uint64(k*977%100_000+1), &sums[k]).Found() {
				b.Fatal("miss")
			}
		}
	})
	b.Run("absent", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			k := i % len(keys)
			if v.LookupPair(uint64(k*977%100_000+2), keys[k]).Found() {
				b.Fatal("hit")
			}
		}
	})
	b.Run("mark-seen", func(b *testing.B) {
		b.ReportAllocs()
		r := v.LookupPair(1, []byte(benchSender(0)))
		for i := 0; b.Loop(); i++ {
			r.MarkSeen(int64(i))
		}
	})
}

// BenchmarkCommitPairs writes one new pair, then touches 100 in one
// commit, at 100k and 1M pairs: the cost must not grow with the index.
func BenchmarkCommitPairs(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		ix := buildPairs(n)
		b.Run(fmt.Sprintf("put-one/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				tx := ix.Begin()
				tx.PutPair(&record.Pair{Entity: uint64(i%1000 + 1), Sender: fmt.Sprintf("new%d@example.org", i)})
				tx.Commit()
			}
		})
		b.Run(fmt.Sprintf("touch-100/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				tx := ix.Begin()
				for j := 0; j < 100; j++ {
					k := (i*100 + j) * 7919 % n
					p := benchPair(k)
					tx.TouchPair(p.Entity, p.Sender, 1_800_000_000+int64(i))
				}
				tx.Commit()
			}
		})
	}
}

// BenchmarkEntityMemory_1M reports the heap bytes per registered lone
// relay (contact and PTR set) of 1M relays: the entity side of a record.
func BenchmarkEntityMemory_1M(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		before := heapInUse()
		ix := New()
		tx := ix.Begin()
		for i := 0; i < n; i++ {
			tx.PutEntity(&record.Entity{ID: uint64(i + 1), Registered: true, Prefixes: []netip.Prefix{netip.PrefixFrom(ipOf(i), 32)},
				Contact: fmt.Sprintf("postmaster@relay%d.example", i), PTR: fmt.Sprintf("mx%d.example.net", i),
				Meta: record.Meta{Created: 1_760_000_000, Updated: 1_760_000_000}})
		}
		tx.Commit()
		b.ReportMetric(float64(heapInUse()-before)/n, "bytes/relay")
		runtime.KeepAlive(ix)
	}
}

// BenchmarkPairMemory_10M is BenchmarkPairMemory_1M's compact store at
// 10M pairs, with the look-up cost at that size.
func BenchmarkPairMemory_10M(b *testing.B) {
	const n = 10_000_000
	for b.Loop() {
		before := heapInUse()
		ix := buildPairs(n)
		b.ReportMetric(float64(heapInUse()-before)/n, "bytes/record")
		v := ix.Load()
		const probes = 200_000
		keys := make([][]byte, probes)
		for i := range keys {
			keys[i] = []byte(benchSender(i * 7919 % n))
		}
		start := time.Now()
		for i, key := range keys {
			if !v.LookupPair(uint64(i*7919%n%100_000+1), key).Found() {
				b.Fatal("miss")
			}
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/probes, "ns/lookup")
	}
}
