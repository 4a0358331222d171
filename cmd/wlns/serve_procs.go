package main

import (
	"log/slog"
	"os"
	"runtime"
)

// bulkStages is how many goroutines a bulk write keeps running flat out at
// once: the API parsing an import's next batch while the state machine
// applies the one before.
const bulkStages = 2

// procsFor is the GOMAXPROCS a node runs with on cpus CPUs and readers DNS
// readers: room for the bulk stages (at least one P per CPU), plus one P
// for each reader.
//
// Go runs at most GOMAXPROCS goroutines at once, one per CPU by default. A
// DNS reader waits for its next datagram parked in the network poller, and
// is woken by a thread that polls it: at once by the kernel when some P is
// idle (a thread then blocks in epoll_wait), otherwise only by sysmon, every
// 10 ms; it then waits for a P, which a goroutine running flat out gives up
// when it is preempted, after 10 ms more. An import keeps two goroutines
// (bulkStages) busy for its whole length, which is every P of a
// two-CPU node: in a runtime trace of the 1M bench-scale node during the
// streamed import, the reader waited up to 24 ms for a P (99th percentile
// 15 ms) while the import's parse and apply held both, and probes' p99 went
// from 2 to 36 ms (docs/performance.md "Latency while importing"). With
// Ps to spare, the kernel, not Go's 10 ms slices, shares the CPUs between
// the readers and the bulk work, and a waking reader is on a CPU in well
// under a millisecond.
func procsFor(cpus, readers int) int {
	return max(cpus, bulkStages) + readers
}

// setProcs sets GOMAXPROCS to procsFor the CPUs Go found and the DNS
// readers (readers 0: one per CPU, as the zone server counts them), unless
// the GOMAXPROCS environment variable chose it.
func setProcs(log *slog.Logger, readers int) {
	cpus := runtime.GOMAXPROCS(0)
	if os.Getenv("GOMAXPROCS") != "" {
		log.Info("go scheduler", "gomaxprocs", cpus, "from", "GOMAXPROCS")
		return
	}
	if readers == 0 {
		readers = runtime.NumCPU()
	}
	p := procsFor(cpus, readers)
	runtime.GOMAXPROCS(p)
	log.Info("go scheduler", "gomaxprocs", p, "cpus", cpus, "dns_readers", readers)
}
