// Command scale is the `make bench-scale` driver: it measures how wlns
// grows with the size of the whitelist, against the real binary built from
// the tree, on loopback only. A seeded dataset (registered relays, relay
// groups with CIDR members, sender/relay pairs with realistic sender
// lengths and a share of whole-domain pairs, VERP sources) is imported
// through `wlns import` into one node or three voters, and the run records:
//
//   - load: records/s, wall time and the servers' CPU of the import (and
//     until every voter holds every record);
//   - memory: VmRSS and VmHWM after the import, after a forced GC and an
//     idle settle, and after a restart; the Go heap from /metrics; bytes
//     per record;
//   - start: a restart on the data folder until a sample of every kind of
//     record, spread over the dataset, answers correctly over DNS;
//   - queries: dnsperf in the relay and sender zones and against rbldnsd
//     loaded with the same relays, server CPU per answered query and the
//     ratio; DNS latency percentiles with and without an import streaming;
//   - optionally a fresh mirror's catch-up and the CPU of expiry sweeps.
//
// Every figure is printed with the command that produced it and the
// machine, and written as JSON (bench/out/scale-<n>-<time>.json) so that
// runs at 1M, 10M and 100M pairs can be plotted as a curve. The run checks
// memory and disk first and refuses what the machine cannot hold, and
// stops when MemAvailable falls under -min-free.
//
// It talks to wlns only through the binary, the HTTP API and DNS, like
// ./bench and ./bench/cluster, with which it shares bench/internal/kit.
//
// Usage:
//
//	go run ./bench/scale [-scale 1M|10M|100M | -n PAIRS] [-voters 3] [-catchup] [-sweep 5s] ...
//	go run ./bench/scale -curve bench/out/scale-*.json   # one row per run, by size
//	go run ./bench/scale -h
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

func main() {
	c, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/scale:", err)
		os.Exit(2)
	}
	if len(c.curve) > 0 {
		if err := curve(c.curve, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench/scale:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.check != "" {
		if err := checkServer(ctx, c, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench/scale:", err)
			os.Exit(1)
		}
		return
	}
	if _, err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/scale:", err)
		os.Exit(1)
	}
}

// run performs the whole measurement, prints the report and saves it with
// the JSON result. A run that stops early still saves what it measured.
func run(ctx context.Context, c config, out io.Writer) (*result, error) {
	if err := kit.LookTools("dnsperf", "rbldnsd", "taskset"); err != nil {
		return nil, err
	}
	work, cleanup, err := kit.WorkDir(c.work)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if err := checkResources(c, work); err != nil {
		return nil, err
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, c.timeout)
	defer cancelTimeout()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go watchMemory(ctx, cancel, c.minFree)

	load, _ := os.ReadFile("/proc/loadavg")
	r := &result{Command: commandLine(c.args), Commit: c.commit, Started: time.Now(), Machine: kit.Machine(),
		MemGiB: kit.KibField("/proc/meminfo", "MemTotal:") * 1024 / gib, LoadAvg: strings.TrimSpace(string(load))}
	if r.Commit == "" {
		r.Commit = commit(ctx)
	}
	s := &runner{c: c, out: out, work: work, r: r}
	err = s.all(ctx)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = fmt.Errorf("%w (%v)", err, cause)
	}
	if err != nil {
		r.Error = err.Error()
	}
	report := r.render()
	fmt.Fprint(out, "\n"+report)
	files, serr := r.save(c.out, report)
	if len(files) > 0 {
		fmt.Fprintln(out, "\nsaved", strings.Join(files, " and "))
	}
	return r, errors.Join(err, serr)
}

// commandLine is the driver's command line as a shell would take it.
func commandLine(args []string) string {
	out := []string{"go", "run", "./bench/scale"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$") {
			a = strconv.Quote(a)
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

// commit names the tree measured: the short commit, "+dirty" when the work
// tree has changes.
func commit(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "+dirty"
	}
	return c
}
