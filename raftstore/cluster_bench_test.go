package raftstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

// clusterOf starts a TLS cluster of size voters in this process (each node
// its own store, inter-node port and certificate, all on loopback, LAN
// timings) and returns the leader and the followers once all are voters.
func clusterOf(b testing.TB, size int) (*Store, []*Store) {
	ca := newCA(b)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	a := benchNode(b, ca, "n0", true, size)
	if err := a.WaitReady(ctx); err != nil {
		b.Fatal(err)
	}
	var fs []*Store
	for i := 1; i < size; i++ {
		f := benchNode(b, ca, fmt.Sprintf("n%d", i), false, size)
		if err := f.JoinCluster(ctx, a.Addr(), "s"); err != nil {
			b.Fatal(err)
		}
		if err := f.WaitReady(ctx); err != nil {
			b.Fatal(err)
		}
		fs = append(fs, f)
	}
	for {
		ms, err := a.Members(ctx)
		if err != nil {
			b.Fatal(err)
		}
		voters := 0
		for _, m := range ms {
			if m.Voter {
				voters++
			}
		}
		if voters == size {
			return a, fs
		}
		select {
		case <-ctx.Done():
			b.Fatalf("%d of %d members are voters: %+v", voters, size, ms)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// benchNode opens one store of clusterOf: LAN timings, size voters, quick
// promotion of joined non-voters.
func benchNode(b testing.TB, caDir, id string, bootstrap bool, size int) *Store {
	b.Helper()
	n, err := nodenetOn(b, caDir, id, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Open(ctx, Config{Dir: b.TempDir(), NodeID: id, Net: n, Bootstrap: bootstrap, Logger: quietLogger(),
		JoinTokenHash: HashJoinToken("s"), Voters: size, PromoteAfter: 200 * time.Millisecond, Profile: ProfileLAN})
	if err != nil {
		n.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkCluster_Writes is committed pair writes per second through a
// 3-voter and a 7-voter cluster over the TLS port on loopback:
//
//   - serial: one write at a time on the leader (a commit round trip each);
//   - parallel16: 16 concurrent writers on the leader; raft groups their
//     entries into one append per round trip;
//   - forwarded16: the same through a follower, which forwards each write
//     and waits until it applied it itself;
//   - batch100: 4 concurrent writers each proposing one batch command of 100
//     pairs (one log entry), as the import does; pairs/s is what counts.
func BenchmarkCluster_Writes(b *testing.B) {
	for _, size := range []int{3, 7} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			leader, followers := clusterOf(b, size)
			var seq atomic.Int64
			pair := func(tb testing.TB) *command.Envelope {
				return env(tb, command.PairPut, time.Now().Unix(), "", command.PairBody{
					Sender: fmt.Sprintf("w%d@example.org", seq.Add(1)), IP: "192.0.2.1"})
			}
			b.Run("serial", func(b *testing.B) {
				cpu := cpuTime()
				for b.Loop() {
					if !commit(b, leader, pair(b)) {
						return
					}
				}
				reportCPU(b, cpu)
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
			})
			for _, tc := range []struct {
				name string
				s    *Store
			}{{"parallel16", leader}, {"forwarded16", followers[0]}} {
				b.Run(tc.name, func(b *testing.B) {
					cpu := cpuTime()
					b.SetParallelism(8) // 16 goroutines on 2 CPUs
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if !commit(b, tc.s, pair(b)) {
								return
							}
						}
					})
					reportCPU(b, cpu)
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
				})
			}
			b.Run("batch100", func(b *testing.B) {
				cpu := cpuTime()
				b.SetParallelism(2) // 4 goroutines on 2 CPUs
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						from := int(seq.Add(100))
						if !commit(b, leader, pairBatch(b, "192.0.2.2", from, 100)) {
							return
						}
					}
				})
				reportCPU(b, cpu)
				b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "pairs/s")
			})
		})
	}
}

// commit applies e through s; on any error it marks the benchmark failed
// and reports false (it is safe in RunParallel bodies).
func commit(b *testing.B, s *Store, e *command.Envelope) bool {
	r, err := s.Apply(context.Background(), e)
	if err != nil || r.Err != nil {
		b.Error(err, r.Err)
		return false
	}
	return true
}
