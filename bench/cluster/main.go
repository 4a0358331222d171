// Command cluster is the `make bench-cluster` driver for the cluster figures
// of docs/performance.md: it loads N pairs into a one-node wlns cluster on
// loopback (with `wlns import`), times how long a fresh mirror takes to
// join and catch up on them (the import is a few hundred log entries, fewer
// than raft's trailing logs, so the mirror replays the log from its first
// entry; it gets no snapshot), and measures DNS
// answers per second and server CPU per answer on that follower with
// dnsperf, once idle and once while a bounded writer streams pair writes
// into the leader.
//
// It owns only this measurement. Like ./bench it talks to wlns only through
// the binary (serve, ca, import), the HTTP API and DNS, never through wlns
// packages.
//
// With -mode snapshot it answers issue 3's "large snapshots stream to a new
// mirror without stalling the others" instead: a two-voter cluster is
// filled with N pairs, W writers time single-pair writes into the leader
// and a prober times DNS answers on the follower, and after a baseline a
// third node joins, receives the leader's snapshot over the inter-node
// port, restores it and replays the log; write rate, latency percentiles
// and each process's CPU are reported before, during and after the join.
//
// Usage:
//
//	go run ./bench/cluster [-n 1000000] [-duration 15s] [-writers 8] [-out bench/out]
//	go run ./bench/cluster -mode snapshot [-n 1000000] [-writers 8] [-baseline 15s] [-after 15s] [-pin]
//	go run ./bench/cluster -mode writes [-n 0] [-writers 64] [-duration 15s] [-wlns bin/wlns]
//
// With -mode writes it answers issue 10's write rate: three voters (filled
// with -n pairs first), -writers clients each committing one new pair per
// `POST /v1/pairs` into the leader for -duration; committed writes per
// second, writes per log entry, latency percentiles and every process's
// CPU per write; CPU profiles of the leader and of one follower go to
// -out (writes-leader.pprof, writes-follower.pprof).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	pairs    int           // pairs to load (over relays relay addresses)
	relays   int           // relay addresses the pairs spread over
	duration time.Duration // each dnsperf run
	writers  int           // concurrent API writers while writes stream
	outDir   string        // where cluster.md goes; empty: stdout only
	workDir  string        // kept work folder; empty: a removed temp folder

	mode      string        // "catchup" (the figures above), "snapshot" or "writes"
	baseline  time.Duration // snapshot mode: writes before the mirror joins
	after     time.Duration // snapshot mode: writes after it caught up
	logPad    int           // snapshot mode: single writes that push the log past the trailing logs
	probeRate int           // snapshot mode: DNS probes per second at the follower
	pin       bool          // snapshot mode: leader and follower on CPU 0, the new node on CPU 1
	wlns      string        // writes mode: the wlns binary (default: build this tree)
}

// pinOthers is the CPU list of the leader and the follower in snapshot
// mode ("" when not pinned).
func (c config) pinOthers() string {
	if !c.pin {
		return ""
	}
	return "0"
}

// pinMirror is the CPU list of the node that joins in snapshot mode.
func (c config) pinMirror() string {
	if !c.pin {
		return ""
	}
	return "1"
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.IntVar(&c.pairs, "n", 1_000_000, "pairs to load before the mirror joins")
	fs.IntVar(&c.relays, "relays", 10_000, "relay addresses the pairs spread over")
	fs.DurationVar(&c.duration, "duration", 15*time.Second, "length of each dnsperf run")
	fs.IntVar(&c.writers, "writers", 8, "concurrent API writers against the leader while writes stream")
	fs.StringVar(&c.outDir, "out", "bench/out", "folder for cluster.md (empty: none)")
	fs.StringVar(&c.workDir, "work", "", "work folder to keep (default: a temp folder, removed)")
	fs.StringVar(&c.mode, "mode", "catchup", "catchup: import, fresh mirror catch-up, follower DNS under writes; "+
		"snapshot: two voters, writes timed before, while and after a third node joins from a snapshot")
	fs.DurationVar(&c.baseline, "baseline", 15*time.Second, "snapshot mode: timed writes before the third node joins")
	fs.DurationVar(&c.after, "after", 15*time.Second, "snapshot mode: timed writes after it caught up")
	fs.IntVar(&c.logPad, "log-pad", lanTrailingLogs+500, "snapshot mode: single writes before the pairs' import, so the log outgrows raft's trailing logs and a joining node needs the snapshot")
	fs.BoolVar(&c.pin, "pin", false, "snapshot mode: run the leader and the follower on CPU 0 and the joining node on CPU 1 (taskset), so its restore does not take their CPU")
	fs.StringVar(&c.wlns, "wlns", "", "writes mode: the wlns binary to measure (default: build this tree)")
	fs.IntVar(&c.probeRate, "probe-rate", 100, "snapshot mode: DNS probes per second at the follower (0: none)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.pairs < 0 || c.pairs < 1 && c.mode != "writes" || c.relays < 1 || c.relays > 65536 || c.writers < 1 || c.duration < time.Second {
		return c, fmt.Errorf("need -n ≥ 1 (≥ 0 in writes mode), 1 ≤ -relays ≤ 65536, -writers ≥ 1, -duration ≥ 1s")
	}
	if c.mode != "catchup" && c.mode != "snapshot" && c.mode != "writes" {
		return c, fmt.Errorf("-mode %q: want catchup, snapshot or writes", c.mode)
	}
	if c.baseline < time.Second || c.after < time.Second || c.logPad < 0 || c.probeRate < 0 || c.probeRate > 10000 {
		return c, fmt.Errorf("need -baseline ≥ 1s, -after ≥ 1s, -log-pad ≥ 0, 0 ≤ -probe-rate ≤ 10000")
	}
	if c.pin && (c.mode != "snapshot" || runtime.NumCPU() < 2) {
		return c, fmt.Errorf("-pin needs -mode snapshot and at least 2 CPUs")
	}
	return c, nil
}

func main() {
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/cluster:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/cluster:", err)
		os.Exit(1)
	}
}

// run performs the whole measurement and prints the report.
func run(ctx context.Context, c config, out io.Writer) error {
	work := c.workDir
	if work == "" {
		dir, err := os.MkdirTemp("", "wlns-bench-cluster-")
		if err != nil {
			return fmt.Errorf("making the work folder: %w", err)
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	report, name := "", "cluster.md"
	switch c.mode {
	case "writes":
		r, err := measureWrites(ctx, c, work, out)
		if err != nil {
			return err
		}
		report, name = r.render(c), "cluster-writes.md"
	case "snapshot":
		r, err := measureSnapshot(ctx, c, work, out)
		if err != nil {
			return err
		}
		report, name = r.render(c), "cluster-snapshot.md"
	default:
		r, err := measure(ctx, c, work, out)
		if err != nil {
			return err
		}
		report = r.render(c)
	}
	fmt.Fprint(out, "\n"+report)
	if c.outDir == "" {
		return nil
	}
	if err := os.MkdirAll(c.outDir, 0o755); err != nil {
		return fmt.Errorf("making %s: %w", c.outDir, err)
	}
	path := filepath.Join(c.outDir, name)
	if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintln(out, "report saved in", path)
	return nil
}
