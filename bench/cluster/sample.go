package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// op is one timed operation: a write or a DNS probe.
type op struct {
	start   time.Time
	took    time.Duration
	ok      bool
	spooled bool // a write the node spooled (202) instead of committing: not ok
}

// recorder collects timed operations from several goroutines.
type recorder struct {
	mu  sync.Mutex
	ops []op
}

// add records one operation.
func (r *recorder) add(start time.Time, ok bool) {
	r.addOp(op{start: start, took: time.Since(start), ok: ok})
}

// addOp records one operation.
func (r *recorder) addOp(o op) {
	r.mu.Lock()
	r.ops = append(r.ops, o)
	r.mu.Unlock()
}

// all returns the operations so far, sorted by start.
func (r *recorder) all() []op {
	r.mu.Lock()
	out := slices.Clone(r.ops)
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b op) int { return a.start.Compare(b.start) })
	return out
}

// window is a named span of the run.
type window struct {
	name       string
	from, to   time.Time
	cpu0, cpu1 cpuMark
}

// secs is the window's length in seconds.
func (w window) secs() float64 { return w.to.Sub(w.from).Seconds() }

// opStats are the figures of the operations that started in one window.
type opStats struct {
	n, failed     int // failed includes spooled
	spooled       int
	rate          float64 // successful operations per second
	p50, p99, max time.Duration
	gap           time.Duration // longest span without a successful completion
}

// statsIn summarises the operations that started inside w.
func statsIn(ops []op, w window) opStats {
	var s opStats
	var lat []time.Duration
	var ends []time.Time
	for _, o := range ops {
		if o.start.Before(w.from) || !o.start.Before(w.to) {
			continue
		}
		s.n++
		if !o.ok {
			s.failed++
			if o.spooled {
				s.spooled++
			}
			continue
		}
		lat = append(lat, o.took)
		ends = append(ends, o.start.Add(o.took))
	}
	if secs := w.secs(); secs > 0 {
		s.rate = float64(len(lat)) / secs
	}
	if len(lat) == 0 {
		s.gap = w.to.Sub(w.from)
		return s
	}
	slices.Sort(lat)
	s.p50, s.p99, s.max = pct(lat, 0.50), pct(lat, 0.99), lat[len(lat)-1]
	slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
	prev := w.from
	for _, e := range ends {
		s.gap = max(s.gap, e.Sub(prev))
		prev = e
	}
	return s
}

// pct is the q-quantile of sorted durations (nearest rank).
func pct(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// cpuMark is the CPU seconds consumed so far by each process the benchmark
// watches, and by the whole machine.
type cpuMark struct {
	at      time.Time
	procs   map[string]float64 // by node ID, and "bench" for this process
	machine float64            // busy CPU seconds of all cores (/proc/stat)
	iowait  float64            // CPU seconds idle while waiting for the disk
}

// markCPU reads the CPU counters of nodes (nil entries skipped), this
// process and the machine.
func markCPU(nodes ...*kit.Node) cpuMark {
	m := cpuMark{at: time.Now(), procs: map[string]float64{}}
	for _, n := range nodes {
		if n == nil {
			continue
		}
		if s, err := n.CPUSeconds(); err == nil {
			m.procs[n.ID] = s
		}
	}
	if s, err := kit.ProcCPU(os.Getpid()); err == nil {
		m.procs["bench"] = s
	}
	m.machine, m.iowait, _ = machineBusy()
	return m
}

// cores is how many cores' worth of CPU who used between a and b.
func cores(a, b cpuMark, who string) float64 {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return 0
	}
	switch who {
	case "machine":
		return (b.machine - a.machine) / secs
	case "iowait":
		return (b.iowait - a.iowait) / secs
	}
	return (b.procs[who] - a.procs[who]) / secs
}

// machineBusy is the busy CPU seconds of all cores since boot (user,
// nice, system, irq, softirq from /proc/stat) and the iowait seconds.
func machineBusy() (busy, iowait float64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("unexpected /proc/stat: %q", line)
	}
	for i, v := range f[1:] {
		if i >= 8 { // guest time is already counted in user
			break
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("parsing /proc/stat: %q", line)
		}
		switch i {
		case 3, 7: // idle; steal (the hypervisor ran someone else)
		case 4:
			iowait += x
		default:
			busy += x
		}
	}
	return busy / 100, iowait / 100, nil
}

// cpuSeries is a time series of CPU marks, taken by a sampler and at the
// run's events, from which any window's CPU can be read afterwards.
type cpuSeries struct {
	mu    sync.Mutex
	marks []cpuMark
}

// add appends a mark (marks arrive in time order).
func (s *cpuSeries) add(m cpuMark) {
	s.mu.Lock()
	s.marks = append(s.marks, m)
	s.mu.Unlock()
}

// at is the mark nearest t.
func (s *cpuSeries) at(t time.Time) cpuMark {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := s.marks[0]
	for _, m := range s.marks[1:] {
		if m.at.Sub(t).Abs() < best.at.Sub(t).Abs() {
			best = m
		}
	}
	return best
}

// all returns the marks so far.
func (s *cpuSeries) all() []cpuMark {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.marks)
}
