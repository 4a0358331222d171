package raftstore

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

func BenchmarkStore_ApplyPair(b *testing.B) {
	s := openStore(b, b.TempDir(), nil)
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		e := env(b, command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: fmt.Sprintf("u%d@example.org", i), IP: "192.0.2.1"})
		if _, err := s.Apply(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

func BenchmarkStore_ApplyPairParallel(b *testing.B) {
	s := openStore(b, b.TempDir(), nil)
	cpu := cpuTime()
	var mu sync.Mutex
	n := 0
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			i := n
			mu.Unlock()
			e := env(b, command.PairPut, time.Now().Unix(), "", command.PairBody{Sender: fmt.Sprintf("u%d@example.org", i), IP: "192.0.2.1"})
			if _, err := s.Apply(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

func BenchmarkStore_ApplyBatch1000(b *testing.B) {
	s := openStore(b, b.TempDir(), nil)
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Apply(context.Background(), pairBatch(b, fmt.Sprintf("192.0.2.%d", i%250), i*1000, 1000)); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "pairs/s")
}

// importEnvelope is n pairs (over 1000 relay addresses, named by IP as an
// import names them) as one Import or, with batch, as the Batch of PairPut
// commands imports sent before.
func importEnvelope(tb testing.TB, from, n int, batch bool) *command.Envelope {
	var w command.ImportWriter
	var b command.BatchBody
	for i := from; i < from+n; i++ {
		ip := netip.AddrFrom4([4]byte{198, 51, byte(i % 1000 / 250), byte(i%250 + 1)})
		sender := fmt.Sprintf("user%d@domain%d.example", i, i%5000)
		if !batch {
			w.Add(command.ImportRelay{IP: ip}, command.ImportRecord{Text: sender})
			continue
		}
		b.Commands = append(b.Commands, *env(tb, command.PairPut, 0, "", command.PairBody{Sender: sender, IP: ip.String(), By: "admin", Method: "import"}))
	}
	if batch {
		return env(tb, command.Batch, time.Now().Unix(), "", b)
	}
	recs, _ := w.Encode()
	return env(tb, command.Import, time.Now().Unix(), "", command.ImportBody{By: "admin", Method: "import", Records: recs})
}

// BenchmarkStore_Import10000 commits 10,000 new pairs per log entry on a
// one-node store, as an Import and as the Batch of PairPut commands
// imports sent before it. cpu-s/op counts only Store.Apply's time (commit
// and apply), not building the envelopes.
func BenchmarkStore_Import10000(b *testing.B) {
	for _, kind := range []string{"import", "batch"} {
		b.Run(kind, func(b *testing.B) {
			s := openStore(b, b.TempDir(), nil)
			var cpu time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				e := importEnvelope(b, i*10000, 10000, kind == "batch")
				b.StartTimer()
				start := cpuTime()
				if r, err := s.Apply(context.Background(), e); err != nil || r.Err != nil {
					b.Fatal(err, r.Err)
				}
				cpu += cpuTime() - start
			}
			b.ReportMetric(float64(b.N)*10000/b.Elapsed().Seconds(), "pairs/s")
			b.ReportMetric(cpu.Seconds()/float64(b.N)/10000*1e6, "cpu-µs/pair")
		})
	}
}
