package main

import (
	"log/slog"
	"os"
	"runtime"
)

// bulkStages is how many goroutines an import keeps running flat out at
// once: the API parsing its next batch, the state machine applying the one
// before, and the garbage collector's mark worker (an import allocates;
// while the GC marks, a quarter of the Ps, at least one, is its own).
const bulkStages = 3

// procsFor is the GOMAXPROCS a node runs with on cpus CPUs and readers DNS
// readers: room for the bulk stages (at least one P per CPU), plus one P
// for each reader.
//
// Go runs at most GOMAXPROCS goroutines at once, one per CPU by default. A
// DNS reader waits for its next datagram parked in the network poller, and
// is woken by a thread that polls it: at once by the kernel when some P is
// idle (a thread then blocks in epoll_wait), otherwise only by sysmon, every
// 10 ms; it then waits for a P, which a goroutine running flat out gives up
// when it is preempted, after 10 ms more. An import's parse and apply hold
// both Ps of a two-CPU node: in a runtime trace of the 1M bench-scale node
// during the streamed import, the reader waited up to 24–73 ms for a P
// (99th percentile 14–16 ms) while they ran, and probes' p99 went from 2–5
// to 36–51 ms (docs/performance.md "Latency while importing"). With one P
// more than the parse and apply (max(cpus, 2) + readers), the GC's
// fractional mark worker took the spare P ahead of the woken reader (99th
// percentile 1.9 ms, but up to 29 ms); from four Ps up the GC has whole
// dedicated workers and the spare P's idle worker polls the network. With
// Ps to spare, the kernel, not Go's 10 ms slices, shares the CPUs between
// the readers and the bulk work, and a waking reader is on a CPU in well
// under a millisecond.
func procsFor(cpus, readers int) int {
	return max(cpus, bulkStages) + readers
}

// procsPlan is what setProcs decides: the GOMAXPROCS to run with and what
// chose it, from the GOMAXPROCS environment variable, Go's default
// GOMAXPROCS (procs), the CPUs the process may run on (ncpu) and --readers.
// It keeps procs when the environment variable chose it or a CPU quota
// did: Go's default then follows the cgroup's limit, below the CPUs, and
// Ps beyond it would let the import's stages use up the quota early in
// each period, after which the kernel throttles the whole process, DNS
// included, for the rest of it.
func procsPlan(env string, procs, ncpu, readers int) (int, string) {
	switch {
	case env != "":
		return procs, "GOMAXPROCS"
	case procs < ncpu:
		return procs, "cpu quota"
	case readers == 0: // one per CPU, as the zone server counts them
		readers = ncpu
	}
	return procsFor(procs, readers), "cpus and dns readers"
}

// setProcs sets GOMAXPROCS as procsPlan says and logs it.
func setProcs(log *slog.Logger, readers int) {
	cpus := runtime.GOMAXPROCS(0)
	p, from := procsPlan(os.Getenv("GOMAXPROCS"), cpus, runtime.NumCPU(), readers)
	if p != cpus {
		runtime.GOMAXPROCS(p)
	}
	log.Info("go scheduler", "gomaxprocs", p, "from", from, "cpus", runtime.NumCPU(), "readers_flag", readers)
}
