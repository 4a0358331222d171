package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// wlnsServer runs the wlns binary. Each pin mode starts a node on a new data
// directory and loads the dataset with `wlns import`, the way an operator
// fills a node; after the last mode that node is restarted on its data
// directory to time a restart.
type wlnsServer struct {
	c   config
	d   *dataset
	dir string
	bin string
	// importSecs is exec → end of `wlns import`, per mode.
	importSecs map[string]float64
	// restart says how a restart on the loaded data directory went.
	restart string
	// http is the API address of the running server, for /metrics.
	http string
	// heaps records the Go heap after load, per mode.
	heaps []string
}

func (s *wlnsServer) name() string { return "wlns" }

func (s *wlnsServer) workloads() []workload {
	last := len(s.d.listed) - 1
	return []workload{
		relayWorkload(s.d, s.c.Zone),
		{
			zone: "sender", queries: s.d.senderQueries,
			listed: senderName(last) + "." + s.d.listed[last].Rev() + ".sender." + s.c.Zone,
			code:   "127.0.2.2",
			unlist: unknownSenderName(0) + "." + s.d.listed[0].Rev() + ".sender." + s.c.Zone, unRcode: "NOERROR",
		},
	}
}

// wlnsReady is the part of the ready file the benchmark reads.
type wlnsReady struct {
	DNSUDP    string `json:"dns_udp"`
	HTTP      string `json:"http"`
	TokenFile string `json:"token_file"`
}

func (s *wlnsServer) prepare(context.Context) error { return nil }

// start launches a node for mode on a new data directory and imports the
// dataset into it; measure's load time therefore includes the import.
func (s *wlnsServer) start(ctx context.Context, mode string) (*kit.Proc, error) {
	r, ready, err := s.launch(ctx, mode, s.dataDir(mode), mode == "pin")
	if err != nil {
		return nil, err
	}
	s.http = ready.HTTP
	if err := s.importData(ctx, ready); err != nil {
		r.Stop()
		return nil, err
	}
	if s.importSecs == nil {
		s.importSecs = map[string]float64{}
	}
	s.importSecs[mode] = time.Since(r.Started).Seconds()
	return r, nil
}

func (s *wlnsServer) dataDir(mode string) string { return filepath.Join(s.dir, "wlns-data-"+mode) }

// importData runs `wlns import` of the whole dataset against the node.
func (s *wlnsServer) importData(ctx context.Context, ready wlnsReady) error {
	token, err := os.ReadFile(ready.TokenFile)
	if err != nil {
		return fmt.Errorf("reading wlns admin token: %w", err)
	}
	ictx, cancel := context.WithTimeout(ctx, 2*time.Hour)
	defer cancel()
	cmd := exec.CommandContext(ictx, s.bin, "import", "--server", "http://"+ready.HTTP,
		"--token", strings.TrimSpace(string(token)), "--batch", "10000", s.d.wlnsImport)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("wlns import: %w\n%s", err, kit.LastLines(string(out), 20))
	}
	return nil
}

// afterMeasure restarts the node of the last mode on its data directory
// (SIGTERM, then serve again) and records how long until the last pair
// answers, or why it did not.
func (s *wlnsServer) afterMeasure(ctx context.Context, r *kit.Proc, mode string) {
	if mode != s.c.Modes[len(s.c.Modes)-1] {
		return
	}
	r.Stop()
	if r.WaitErr() != nil {
		s.restart = fmt.Sprintf("SIGTERM exit: %v; ", r.WaitErr())
	}
	r2, _, err := s.launch(ctx, "restart", s.dataDir(mode), false)
	if err != nil {
		s.restart += "restart on the loaded data directory FAILED: " + kit.LastLines(err.Error(), 1)
		return
	}
	defer r2.Stop()
	w := s.workloads()[1]
	secs, err := r2.WaitAnswer(ctx, w.listed, w.code, 15*time.Minute)
	if err != nil {
		s.restart += "restart on the loaded data directory FAILED: " + kit.LastLines(err.Error(), 1)
		return
	}
	s.restart += fmt.Sprintf("restart on the loaded data directory (SIGTERM, serve): %.1f s to the last pair's answer", secs)
}

// noteHeap reads the Go heap figures from /metrics once the data is loaded,
// so the report can tell live heap from GC headroom and mapped files.
func (s *wlnsServer) noteHeap(ctx context.Context, mode string) {
	vals, err := kit.Metrics(ctx, s.http)
	if err != nil {
		return
	}
	s.heaps = append(s.heaps, fmt.Sprintf("%s: Go heap allocated %.0f MiB, Go runtime total %.0f MiB",
		mode, vals["go_memstats_heap_alloc_bytes"]/(1<<20), vals["go_memstats_sys_bytes"]/(1<<20)))
}

// launch starts wlns serve on the data directory and waits for its ready
// file. GOMAXPROCS matches the mode's worker count.
func (s *wlnsServer) launch(ctx context.Context, label, dataDir string, pinned bool) (*kit.Proc, wlnsReady, error) {
	var ready wlnsReady
	readyFile := filepath.Join(s.dir, "ready-"+label+".json")
	os.Remove(readyFile)
	argv := []string{s.bin, "serve", "--data", dataDir, "--dns", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--raft", "127.0.0.1:0", "--apex", s.c.Zone, "--ready-file", readyFile}
	workers, cpus := "2", ""
	if pinned {
		workers, cpus = "1", "1"
	}
	argv = append(argv, "--readers", workers)
	procs := "GOMAXPROCS=" + workers
	r, err := kit.Launch("wlns", argv, []string{procs}, filepath.Join(s.dir, "wlns-"+label+".log"), cpus)
	if err != nil {
		return nil, ready, err
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		b, err := os.ReadFile(readyFile)
		if err == nil && json.Unmarshal(b, &ready) == nil && ready.DNSUDP != "" {
			break
		}
		select {
		case <-r.Done():
			return nil, ready, fmt.Errorf("wlns exited (%v) before it was ready:\n%s", r.WaitErr(), r.LogTail())
		case <-ctx.Done():
			r.Stop()
			return nil, ready, fmt.Errorf("waiting for wlns: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.Stop()
			return nil, ready, fmt.Errorf("wlns not ready after 10 minutes:\n%s", r.LogTail())
		}
	}
	if ready.TokenFile == "" {
		ready.TokenFile = filepath.Join(dataDir, "admin.token")
	}
	r.Addr = ready.DNSUDP
	return r, ready, nil
}
