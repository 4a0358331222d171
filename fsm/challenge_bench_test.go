package fsm

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/wlns/wlns/command"
)

// benchChallenges is how many challenges the benchmarks start from.
const benchChallenges = 100_000

// benchOpen is challenge i: a distinct sender (1000 per domain) through
// the registered group 10.0.0.0/8 of challengeFSM, with limits that pass.
func benchOpen(i int) command.ChallengeOpenBody {
	b := chOpen(fmt.Sprintf("c%d", i), fmt.Sprintf("u%d@d%d.example", i, i/1000), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	b.Limits = command.ChallengeLimits{Window: 3600, PerSender: 3, PerDomain: 1 << 20, PerEntity: 1 << 30}
	return b
}

// challengeFSM returns a harness whose FSM holds n open challenges.
func challengeFSM(b *testing.B, n int) *fsmHarness {
	h := newHarness(b)
	h.ok(command.EntityPut, command.EntityBody{Name: "big", Group: true, Prefixes: []string{"10.0.0.0/8"}, Registered: true})
	for i := 0; i < n; i += 1000 {
		for _, r := range h.apply(benchLogs(b, h, i, min(1000, n-i), command.ChallengeOpen)...) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	return h
}

// benchLogs builds k envelopes of challenges from, of type typ.
func benchLogs(b *testing.B, h *fsmHarness, from, k int, typ command.Type) []*command.Envelope {
	out := make([]*command.Envelope, k)
	for j := range out {
		var body any = benchOpen(from + j)
		if typ == command.ChallengeConfirm {
			body = chConfirm(fmt.Sprintf("c%d", from+j), "link")
		}
		out[j] = env(b, typ, h.now, "", body)
	}
	return out
}

// benchApplyOneByOne applies challenge commands for IDs from `from` on,
// one per raft entry; encoding (and, for confirms past the challenges
// opened, opening more) happens with the timer stopped.
func benchApplyOneByOne(b *testing.B, h *fsmHarness, from int, typ command.Type) {
	var logs []Entry
	opened := benchChallenges
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if len(logs) == 0 {
			b.StopTimer()
			if typ == command.ChallengeConfirm && from+i+1000 > opened {
				h.apply(benchLogs(b, h, opened, 1000, command.ChallengeOpen)...)
				opened += 1000
			}
			logs = h.logs(benchLogs(b, h, from+i, 1000, typ)...)
			b.StartTimer()
		}
		if r := h.f.ApplyEntries(logs[:1])[0].(command.Result); r.Err != nil {
			b.Fatal(r.Err)
		}
		logs = logs[1:]
	}
}

// BenchmarkFSM_ChallengeOpen opens one challenge per raft entry into an
// FSM holding none and 100k: the cost must not grow with the number held.
func BenchmarkFSM_ChallengeOpen(b *testing.B) {
	for _, n := range []int{0, benchChallenges} {
		b.Run(fmt.Sprintf("held=%d", n), func(b *testing.B) {
			h := challengeFSM(b, n)
			benchApplyOneByOne(b, h, n, command.ChallengeOpen)
		})
	}
}

func BenchmarkFSM_ChallengeConfirm(b *testing.B) {
	h := challengeFSM(b, benchChallenges)
	benchApplyOneByOne(b, h, 0, command.ChallengeConfirm)
}

// BenchmarkSnapshot_Restore100kChallenges restores 100k open challenges
// (and their 100k per-sender rate windows); it reports the snapshot size
// and the heap a restored FSM holds per challenge.
func BenchmarkSnapshot_Restore100kChallenges(b *testing.B) {
	snap := persist(b, challengeFSM(b, benchChallenges).f)
	heap := heapPerChallenge(b, snap)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewFSM(nil, nil).Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(snap)), "snapshot-bytes")
	b.ReportMetric(heap, "heap-bytes/challenge")
}

// heapPerChallenge restores snap into a fresh FSM and returns the live
// heap it added, per challenge.
func heapPerChallenge(b *testing.B, snap []byte) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f := NewFSM(nil, nil)
	if _, err := f.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := f.ChallengeCount()
	runtime.KeepAlive(f)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}
