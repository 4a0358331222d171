package main

import (
	"context"
	"slices"
	"sync"
	"time"
)

// latency summarises the DNS probes of one window.
type latency struct {
	Probes int     `json:"probes"`
	Wrong  int     `json:"wrong_or_lost"` // lost (1 s), or a wrong answer
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// probe asks addr for the samples in turn, rate per second, until ctx
// ends, and summarises the answers' latency. At most 64 probes are in
// flight; a probe that finds no slot counts as lost.
func probe(ctx context.Context, addr string, ss []sample, rate int) latency {
	var (
		mu    sync.Mutex
		took  []time.Duration
		wrong int
		wg    sync.WaitGroup
	)
	slots := make(chan struct{}, 64)
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			return summarise(took, wrong)
		case <-t.C:
		}
		select {
		case slots <- struct{}{}:
		default:
			mu.Lock()
			wrong++
			mu.Unlock()
			continue
		}
		s := ss[i%len(ss)]
		wg.Go(func() {
			defer func() { <-slots }()
			start := time.Now()
			bad := s.check(addr) != ""
			d := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			if bad {
				wrong++
				return
			}
			took = append(took, d)
		})
	}
}

func summarise(took []time.Duration, wrong int) latency {
	l := latency{Probes: len(took) + wrong, Wrong: wrong}
	if len(took) == 0 {
		return l
	}
	slices.Sort(took)
	at := func(q float64) float64 {
		i := min(int(q*float64(len(took))+0.5), len(took)) - 1
		return float64(took[max(i, 0)].Microseconds()) / 1000
	}
	l.P50Ms, l.P99Ms, l.MaxMs = at(0.50), at(0.99), at(1)
	return l
}
