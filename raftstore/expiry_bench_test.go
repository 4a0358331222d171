package raftstore

import (
	"fmt"
	"testing"

	"github.com/wlns/wlns/command"
)

// BenchmarkFSM_Touch5000Into1MPairs applies touch commands of 5000 pairs
// (about the 256 KiB default chunk of 30-octet senders) to a 1M-pair index.
func BenchmarkFSM_Touch5000Into1MPairs(b *testing.B) {
	f := bigFSM(100_000, 1_000_000)
	h := &fsmHarness{tb: b, f: f, idx: 1, now: t0}
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		var body command.TouchBody
		for j := range 5000 {
			k := (i*5000 + j) * 197 % 1_000_000 // spread over the index
			body.Entities = append(body.Entities, command.TouchEntity{ID: uint64(k%100_000 + 1),
				Pairs: []command.TouchItem{{Key: fmt.Sprintf("user%d@domain%d.example", k, k%5000), Age: 1}}})
		}
		h.now = t0 + 2_000_000 + int64(i)
		if r := h.do(command.Touch, body); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkFSM_ExpireSweep1MPairs is a sweep over 1M pairs that deletes
// nothing (the daily case: few records are due at once).
func BenchmarkFSM_ExpireSweep1MPairs(b *testing.B) {
	f := bigFSM(100_000, 1_000_000)
	h := &fsmHarness{tb: b, f: f, idx: 1, now: t0 + 10}
	cpu := cpuTime()
	for b.Loop() {
		if r := h.do(command.Expire, command.ExpireBody{Pairs: t0 - 1, DomainPairs: t0 - 1, Verps: t0 - 1, Relays: t0 - 1, Orphans: t0 - 1}); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	reportCPU(b, cpu)
}
