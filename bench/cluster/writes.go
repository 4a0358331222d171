package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// writesRun is -mode writes: issue 10's "committed single-record writes
// per second through the HTTP API on three voters", with latency
// percentiles and each process's CPU per write.
type writesRun struct {
	load    string // /proc/loadavg before the run
	bin     string // the wlns binary measured
	pairs   int    // pairs in the index before the timed writes
	writers int
	stats   opStats
	cpu     map[string]float64 // CPU seconds per node ID, "bench", "machine"
	entries float64            // log entries the leader committed while timed
}

// measureWrites starts three voters, fills them with -n pairs (-n 0: none),
// then times -writers concurrent `POST /v1/pairs` clients into the leader
// for -duration after a 2-s warm-up.
func measureWrites(ctx context.Context, c config, work string, out io.Writer) (*writesRun, error) {
	r := &writesRun{writers: c.writers}
	load, _ := os.ReadFile("/proc/loadavg")
	r.load = strings.TrimSpace(string(load))
	bin := c.wlns
	if bin == "" {
		var err error
		if bin, err = kit.BuildWlns(ctx, work); err != nil {
			return nil, err
		}
	}
	r.bin = bin
	if err := kit.RunCmd(ctx, bin, "ca", "init", "--dir", filepath.Join(work, "ca")); err != nil {
		return nil, err
	}
	port, err := kit.FreePort()
	if err != nil {
		return nil, err
	}
	fport, err := kit.FreePort()
	if err != nil {
		return nil, err
	}
	pprof, fpprof := "127.0.0.1:"+port, "127.0.0.1:"+fport
	nodes, err := startVoters(ctx, bin, work, 3, pprof, fpprof)
	for _, n := range nodes {
		defer n.Stop()
	}
	if err != nil {
		return nil, err
	}
	leader := nodes[0]
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c.writers + 4}}
	if c.pairs > 0 {
		c.logPad = 0
		if err := fill(ctx, c, hc, bin, work, leader); err != nil {
			return nil, err
		}
		st, err := leader.Status(ctx, hc)
		if err != nil {
			return nil, err
		}
		r.pairs = st.Counts.Pairs
		for _, n := range nodes[1:] {
			if err := n.WaitCaughtUp(ctx, hc, st, 30*time.Minute); err != nil {
				return nil, err
			}
		}
	}
	fmt.Fprintf(out, "three voters, %d pairs; %d writers for %v\n", r.pairs, c.writers, c.duration)
	var rec recorder
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range c.writers {
		wg.Add(1)
		go func() { defer wg.Done(); timedWrites(wctx, hc, leader, w, &rec) }()
	}
	time.Sleep(2 * time.Second)
	prof := profile(ctx, hc, pprof, c.duration, c.outDir, "writes-leader.pprof")
	fprof := profile(ctx, hc, fpprof, c.duration, c.outDir, "writes-follower.pprof")
	ia := commitIndex(ctx, leader)
	a := markCPU(nodes...)
	time.Sleep(c.duration)
	b := markCPU(nodes...)
	r.entries = commitIndex(ctx, leader) - ia
	for who, ch := range map[string]<-chan error{"leader": prof, "follower": fprof} {
		if err := <-ch; err != nil {
			fmt.Fprintln(out, who, "profile:", err)
		}
	}
	cancel()
	wg.Wait()
	r.stats = statsIn(rec.all(), window{from: a.at, to: b.at})
	r.cpu = map[string]float64{"machine": b.machine - a.machine, "bench": b.procs["bench"] - a.procs["bench"]}
	for _, n := range nodes {
		r.cpu[n.ID] = b.procs[n.ID] - a.procs[n.ID]
	}
	return r, nil
}

// commitIndex is the node's raft commit index (0 when unread).
func commitIndex(ctx context.Context, n *kit.Node) float64 {
	m, err := n.Metrics(ctx)
	if err != nil {
		return 0
	}
	return m["wlns_raft_commit_index"]
}

// startVoters starts n nodes, the first bootstrapping and the others
// joining it, and waits until all are voters; the first serves the Go
// profiler on pprof, the second on fpprof. The nodes started are
// returned also on an error, for the caller to stop.
func startVoters(ctx context.Context, bin, work string, n int, pprof, fpprof string) ([]*kit.Node, error) {
	first, err := kit.StartNode(ctx, kit.NodeSpec{Bin: bin, Work: work, ID: "n1", Apex: zone, Args: []string{"--pprof", pprof}})
	if err != nil {
		return nil, err
	}
	nodes := []*kit.Node{first}
	for i := 2; i <= n; i++ {
		var args []string
		if i == 2 {
			args = []string{"--pprof", fpprof}
		}
		nd, err := kit.StartNode(ctx, kit.NodeSpec{Bin: bin, Work: work, ID: fmt.Sprintf("n%d", i), Apex: zone, Join: first.Ready.Raft, Args: args})
		if err != nil {
			return nodes, err
		}
		nodes = append(nodes, nd)
	}
	return nodes, first.WaitVoters(ctx, &http.Client{Timeout: 30 * time.Second}, n, 2*time.Minute)
}

// render is the writes report: one table row per figure.
func (r *writesRun) render(c config) string {
	s := r.stats
	secs := c.duration.Seconds()
	ok := s.n - s.failed
	var b strings.Builder
	fmt.Fprintf(&b, "## Committed single-pair writes through the HTTP API, 3 voters\n\n")
	fmt.Fprintf(&b, "load average before: %s; binary %s\n\n", r.load, r.bin)
	fmt.Fprintf(&b, "| figure | value |\n|---|---|\n")
	fmt.Fprintf(&b, "| pairs in the index | %d |\n", r.pairs)
	fmt.Fprintf(&b, "| writers (`POST /v1/pairs` into the leader, keep-alive) | %d |\n", r.writers)
	fmt.Fprintf(&b, "| committed writes/s | **%.0f** (%d in %.0f s, %d failed) |\n", s.rate, ok, secs, s.failed)
	fmt.Fprintf(&b, "| writes per log entry | %.1f (%.0f entries) |\n", float64(ok)/max(r.entries, 1), r.entries)
	fmt.Fprintf(&b, "| latency p50 / p99 / max | %s / %s / %s ms |\n", ms(s.p50), ms(s.p99), ms(s.max))
	for _, id := range []string{"n1", "n2", "n3", "bench"} {
		who := id
		if id == "n1" {
			who = "n1 (leader)"
		}
		fmt.Fprintf(&b, "| CPU per write, %s | %.1f µs (%.2f cores) |\n", who, r.cpu[id]*1e6/float64(max(ok, 1)), r.cpu[id]/secs)
	}
	fmt.Fprintf(&b, "| machine busy | %.2f of %d cores |\n", r.cpu["machine"]/secs, runtime.NumCPU())
	return b.String()
}

// profile saves a CPU profile of the process serving the Go profiler on
// addr over d into dir/name (no dir: none); the channel gives the outcome.
func profile(ctx context.Context, hc *http.Client, addr string, d time.Duration, dir, name string) <-chan error {
	done := make(chan error, 1)
	if dir == "" {
		done <- nil
		return done
	}
	go func() {
		done <- func() error {
			url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds()))
			req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
			if err != nil {
				return err
			}
			resp, err := (&http.Client{Timeout: d + time.Minute, Transport: hc.Transport}).Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}()
	}()
	return done
}
