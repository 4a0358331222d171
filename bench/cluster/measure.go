package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// zone is the apex every benchmark node serves.
const zone = "wl.bench"

// results are the figures of one run.
type results struct {
	load                  string
	importTime            time.Duration
	leaderRSS             float64
	catchUp, catchUpReady time.Duration // fresh mirror: to all pairs applied, to its ready file
	mirrorRSS             float64
	idle, streaming       perf
	writes                int64
	writeErrs             int64
	writeSecs             float64
	leaderCPUWr           float64
}

// perf is one dnsperf run against the follower.
type perf struct {
	qps, lostPct, cpuUs float64
	answered            int64
}

// relayAddr is relay i's address, inside 198.18.0.0/15 (benchmarking).
func relayAddr(i int) string { return fmt.Sprintf("198.18.%d.%d", i/256, i%256) }

// sender is pair i's sender.
func sender(i int) string { return fmt.Sprintf("user%d@example%d.com", i, i%5000) }

// measure runs every step and returns the figures.
func measure(ctx context.Context, c config, work string, out io.Writer) (*results, error) {
	r := &results{}
	load, _ := os.ReadFile("/proc/loadavg")
	r.load = strings.TrimSpace(string(load))
	bin, err := kit.BuildWlns(ctx, work)
	if err != nil {
		return nil, err
	}
	if err := kit.RunCmd(ctx, bin, "ca", "init", "--dir", filepath.Join(work, "ca")); err != nil {
		return nil, err
	}
	data, queries := filepath.Join(work, "pairs.ndjson"), filepath.Join(work, "queries.txt")
	if err := writeData(c, data, queries); err != nil {
		return nil, err
	}
	leader, err := kit.StartNode(ctx, kit.NodeSpec{Bin: bin, Work: work, ID: "n1", Apex: zone})
	if err != nil {
		return nil, err
	}
	defer leader.Stop()
	t0 := time.Now()
	if err := kit.RunCmd(ctx, bin, "import", "--server", "http://"+leader.Ready.HTTP, "--token", leader.Token, "--batch", "10000", data); err != nil {
		return nil, err
	}
	r.importTime, r.leaderRSS = time.Since(t0), leader.RSSMiB()
	fmt.Fprintf(out, "imported %d pairs over %d relays in %.1f s\n", c.pairs, c.relays, r.importTime.Seconds())

	hc := &http.Client{Timeout: 30 * time.Second}
	want, err := leader.Status(ctx, hc)
	if err != nil {
		return nil, err
	}
	mirror, err := kit.StartNode(ctx, kit.NodeSpec{Bin: bin, Work: work, ID: "n2", Apex: zone, Join: leader.Ready.Raft})
	if err != nil {
		return nil, err
	}
	defer mirror.Stop()
	r.catchUpReady = mirror.ReadyAfter
	if err := mirror.WaitCaughtUp(ctx, hc, want, 30*time.Minute); err != nil {
		return nil, err
	}
	r.catchUp, r.mirrorRSS = time.Since(mirror.Started), mirror.RSSMiB()
	fmt.Fprintf(out, "fresh mirror: ready after %.1f s, all %d pairs after %.1f s\n", r.catchUpReady.Seconds(), want.Counts.Pairs, r.catchUp.Seconds())

	if r.idle, err = dnsperf(ctx, c, mirror, queries); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "follower DNS, idle: %.0f q/s\n", r.idle.qps)
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var n, errs atomic.Int64
	lcpu, _ := leader.CPUSeconds()
	ws := time.Now()
	for w := range c.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream(wctx, hc, leader, w, &n, &errs)
		}()
	}
	r.streaming, err = dnsperf(ctx, c, mirror, queries)
	stop()
	wg.Wait()
	r.writeSecs = time.Since(ws).Seconds()
	lcpu2, _ := leader.CPUSeconds()
	r.leaderCPUWr = lcpu2 - lcpu
	r.writes, r.writeErrs = n.Load(), errs.Load()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "follower DNS while %d writers stream: %.0f q/s; %d writes committed (%.0f/s), %d failed\n",
		c.writers, r.streaming.qps, r.writes, float64(r.writes)/r.writeSecs, r.writeErrs)
	return r, nil
}

// writeData writes the import file (relays, then pairs) and a dnsperf
// query file: 80% listed pairs, 20% unknown senders, shuffled.
func writeData(c config, data, queries string) error {
	err := writeLines(data, func(w *bufio.Writer) {
		for i := range c.relays {
			fmt.Fprintf(w, `{"kind":"relay","ip":"%s","contact":"postmaster@bench.invalid"}`+"\n", relayAddr(i))
		}
		for i := range c.pairs {
			fmt.Fprintf(w, `{"kind":"pair","sender":"%s","ip":"%s"}`+"\n", sender(i), relayAddr(i%c.relays))
		}
	})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	return writeLines(queries, func(w *bufio.Writer) {
		for range 200_000 {
			i := rng.IntN(c.pairs)
			local, domain, _ := strings.Cut(sender(i), "@")
			if rng.IntN(5) == 0 {
				local = "nobody" + strconv.Itoa(i)
			}
			a := strings.Split(relayAddr(i%c.relays), ".")
			fmt.Fprintf(w, "%s.%s.%s.%s.%s.%s.sender.%s A\n", local, domain, a[3], a[2], a[1], a[0], zone)
		}
	})
}

func writeLines(path string, fill func(*bufio.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// stream writes new pairs into the leader until ctx ends, counting the
// committed ones.
func stream(ctx context.Context, hc *http.Client, leader *kit.Node, w int, n, errs *atomic.Int64) {
	for i := 0; ctx.Err() == nil; i++ {
		body := fmt.Sprintf(`{"sender":"stream%d-%d@example.org","ip":"%s"}`, w, i, relayAddr(i%256))
		code, _, err := leader.Call(ctx, hc, "POST", "/v1/pairs", []byte(body))
		switch {
		case ctx.Err() != nil:
		case err == nil && (code == http.StatusOK || code == http.StatusCreated):
			n.Add(1)
		default:
			errs.Add(1)
		}
	}
}

var (
	reQPS  = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	reLost = regexp.MustCompile(`Queries lost:\s+\d+ \(([0-9.]+)%\)`)
	reDone = regexp.MustCompile(`Queries completed:\s+(\d+)`)
)

// dnsperf runs dnsperf against n's DNS for the configured duration and
// measures n's CPU meanwhile.
func dnsperf(ctx context.Context, c config, n *kit.Node, queries string) (perf, error) {
	var p perf
	host, port, _ := strings.Cut(n.Ready.DNSUDP, ":")
	cpu0, err := n.CPUSeconds()
	if err != nil {
		return p, err
	}
	dctx, cancel := context.WithTimeout(ctx, c.duration+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(dctx, "dnsperf", "-s", host, "-p", port, "-d", queries,
		"-c", "4", "-T", strconv.Itoa(runtime.NumCPU()), "-q", "200", "-l", strconv.Itoa(int(c.duration.Seconds())), "-t", "2")
	b, err := cmd.CombinedOutput()
	if err != nil {
		return p, fmt.Errorf("dnsperf: %w\n%s", err, b)
	}
	cpu1, _ := n.CPUSeconds()
	s := string(b)
	for re, dst := range map[*regexp.Regexp]*float64{reQPS: &p.qps, reLost: &p.lostPct} {
		if m := re.FindStringSubmatch(s); m != nil {
			*dst, _ = strconv.ParseFloat(m[1], 64)
		}
	}
	if m := reDone.FindStringSubmatch(s); m != nil {
		p.answered, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if p.answered > 0 {
		p.cpuUs = (cpu1 - cpu0) * 1e6 / float64(p.answered)
	}
	if p.qps == 0 {
		return p, fmt.Errorf("dnsperf reported no rate:\n%s", s)
	}
	return p, nil
}

// render is the markdown block for docs/performance.md.
func (r *results) render(c config) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "cluster benchmark (go run ./bench/cluster -n %d -duration %v -writers %d) on %s, %d CPUs, load average before: %s\n\n",
		c.pairs, c.duration, c.writers, host, runtime.NumCPU(), r.load)
	fmt.Fprintf(&b, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| import of %d pairs over %d relays into the leader | %.1f s (leader RSS %.0f MiB) |\n", c.pairs, c.relays, r.importTime.Seconds(), r.leaderRSS)
	fmt.Fprintf(&b, "| fresh mirror joins: launch to ready file | %.1f s |\n", r.catchUpReady.Seconds())
	fmt.Fprintf(&b, "| fresh mirror joins: launch to all pairs applied | %.1f s (mirror RSS %.0f MiB) |\n", r.catchUp.Seconds(), r.mirrorRSS)
	fmt.Fprintf(&b, "| follower DNS, no writes | %.0f q/s, %.1f µs CPU/answer, %.2f%% lost |\n", r.idle.qps, r.idle.cpuUs, r.idle.lostPct)
	fmt.Fprintf(&b, "| follower DNS, %d writers streaming into the leader | %.0f q/s, %.1f µs CPU/answer (incl. applying the writes), %.2f%% lost |\n",
		c.writers, r.streaming.qps, r.streaming.cpuUs, r.streaming.lostPct)
	fmt.Fprintf(&b, "| writes committed meanwhile | %d (%.0f/s), %d failed; leader CPU %.1f s |\n",
		r.writes, float64(r.writes)/r.writeSecs, r.writeErrs, r.leaderCPUWr)
	return b.String()
}
