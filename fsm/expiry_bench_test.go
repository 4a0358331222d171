package fsm

import (
	"fmt"
	"testing"

	"github.com/wlns/wlns/command"
)

// scales are the index sizes (pairs) the touch and sweep benchmarks run
// at, 10 pairs per entity: their cost must not grow with the index.
var scales = []struct {
	name  string
	pairs int
}{{"100k", 100_000}, {"1M", 1_000_000}}

// BenchmarkFSM_Touch5000 applies touch commands of 5000 pairs (about the
// 256 KiB default chunk of 30-octet senders) to a 100k- and a 1M-pair index.
func BenchmarkFSM_Touch5000(b *testing.B) {
	for _, sc := range scales {
		b.Run(sc.name, func(b *testing.B) {
			n := sc.pairs
			h := &fsmHarness{tb: b, f: bigFSM(n/10, n), idx: 1, now: t0}
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				var body command.TouchBody
				for j := range 5000 {
					k := (i*5000 + j) * 197 % n // spread over the index
					body.Entities = append(body.Entities, command.TouchEntity{ID: uint64(k%(n/10) + 1),
						Pairs: []command.TouchItem{{Key: fmt.Sprintf("user%d@domain%d.example", k, k%5000), Age: 1}}})
				}
				h.now = t0 + 2_000_000 + int64(i)
				if r := h.do(command.Touch, body); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkFSM_ExpireSweep is a sweep over 100k and 1M pairs that deletes
// nothing (the daily case: few records are due at once).
func BenchmarkFSM_ExpireSweep(b *testing.B) {
	for _, sc := range scales {
		b.Run(sc.name, func(b *testing.B) {
			h := &fsmHarness{tb: b, f: bigFSM(sc.pairs/10, sc.pairs), idx: 1, now: t0 + 10}
			cpu := cpuTime()
			for b.Loop() {
				if r := h.do(command.Expire, command.ExpireBody{Pairs: t0 - 1, DomainPairs: t0 - 1, Verps: t0 - 1, Relays: t0 - 1, Orphans: t0 - 1}); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}
