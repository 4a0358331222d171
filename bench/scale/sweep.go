package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// cpuAt is a node's CPU seconds so far at a moment.
type cpuAt struct {
	t   time.Time
	cpu float64
}

// sweeps times three expiry sweeps on n, which runs with -sweep as its
// --sweep-interval and must delete nothing. It samples n's CPU every
// 100 ms and notes when wlns_expiry_last_sweep_timestamp_seconds moves; a
// sweep costs the CPU above the window's median rate within ±around of
// that moment, so that garbage collection or a snapshot elsewhere in the
// window does not count.
func (s *runner) sweeps(ctx context.Context, n *kit.Node) error {
	w := &sweepStats{Interval: s.c.sweep.String(), AroundS: min(2, s.c.sweep.Seconds()/3)}
	s.r.Sweep = w
	e0, first, err := expiryMetrics(ctx, n)
	if err != nil {
		return err
	}
	var (
		marks  []cpuAt
		sweeps []time.Time
		last   = first
	)
	limit := time.Now().Add(5*s.c.sweep + time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; len(sweeps) < 4; i++ {
		if time.Now().After(limit) {
			return fmt.Errorf("%d expiry sweeps in %v at --sweep-interval %v", len(sweeps), 5*s.c.sweep+time.Minute, s.c.sweep)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if c, err := n.CPUSeconds(); err == nil {
			marks = append(marks, cpuAt{time.Now(), c})
		}
		if i%3 != 0 {
			continue
		}
		if _, at, err := expiryMetrics(ctx, n); err == nil && at != last {
			last = at
			sweeps = append(sweeps, time.Now())
		}
	}
	// The first change may be a sweep already under way at the start:
	// count the three after it, and wait out the last one's window.
	sweeps = sweeps[1:]
	if err := kit.Sleep(ctx, time.Duration(w.AroundS*float64(time.Second))); err != nil {
		return err
	}
	if c, err := n.CPUSeconds(); err == nil {
		marks = append(marks, cpuAt{time.Now(), c})
	}
	e1, _, err := expiryMetrics(ctx, n)
	if err != nil {
		return err
	}
	w.Sweeps, w.Expired = len(sweeps), e1-e0
	w.WindowS = marks[len(marks)-1].t.Sub(marks[0].t).Seconds()
	w.CPUS = marks[len(marks)-1].cpu - marks[0].cpu
	w.BaseRate, w.PerSweep = sweepCost(marks, sweeps, time.Duration(w.AroundS*float64(time.Second)))
	s.logf("   %d sweeps: %.2f CPU-s each above the median %.2f CPU-s/s", w.Sweeps, w.PerSweep, w.BaseRate)
	return nil
}

// sweepCost is the median CPU rate between marks and the mean CPU above
// that rate within ±around of each sweep.
func sweepCost(marks []cpuAt, sweeps []time.Time, around time.Duration) (base, perSweep float64) {
	if len(marks) < 2 || len(sweeps) == 0 {
		return 0, 0
	}
	rates := make([]float64, 0, len(marks)-1)
	for i := 1; i < len(marks); i++ {
		rates = append(rates, (marks[i].cpu-marks[i-1].cpu)/marks[i].t.Sub(marks[i-1].t).Seconds())
	}
	slices.Sort(rates)
	base = rates[len(rates)/2]
	total := 0.0
	for _, at := range sweeps {
		for i := 1; i < len(marks); i++ {
			if marks[i].t.Before(at.Add(-around)) || marks[i-1].t.After(at.Add(around)) {
				continue
			}
			d := marks[i].t.Sub(marks[i-1].t).Seconds()
			total += marks[i].cpu - marks[i-1].cpu - base*d
		}
	}
	return base, total / float64(len(sweeps))
}

// expiryMetrics reads the records expired so far (all kinds) and the time
// of the last sweep n applied.
func expiryMetrics(ctx context.Context, n *kit.Node) (expired, lastSweep float64, err error) {
	v, err := n.Metrics(ctx)
	if err != nil {
		return 0, 0, err
	}
	for k, x := range v {
		if strings.HasPrefix(k, "wlns_expiry_records_expired_total") {
			expired += x
		}
	}
	return expired, v["wlns_expiry_last_sweep_timestamp_seconds"], nil
}
