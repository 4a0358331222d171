package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// runner holds one run's state between its phases.
type runner struct {
	c    config
	out  io.Writer
	work string
	r    *result
	bin  string
	d    *dataset
	ss   []sample
	hc   *http.Client

	importFile, streamFile, rbldnsdFile, relayQueries, senderQueries string

	nodes []*kit.Node // nodes[0] takes the imports and the queries
	pprof string      // nodes[0]'s profiler address, for a forced GC
}

// all runs the phases in order; each fills its part of the result.
func (s *runner) all(ctx context.Context) error {
	s.hc = &http.Client{Timeout: 5 * time.Minute}
	defer func() {
		for _, n := range s.nodes {
			n.Stop()
		}
	}()
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"build", s.build}, {"dataset", s.generate}, {"load", s.load}, {"memory", s.memory},
		{"queries", s.queries}, {"latency", s.latency}, {"start", s.start},
	}
	if s.c.catchup {
		steps = append(steps, struct {
			name string
			fn   func(context.Context) error
		}{"catch-up", s.catchUp})
	}
	for _, st := range steps {
		t := time.Now()
		s.logf("== %s", st.name)
		if err := st.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		s.logf("   %s done in %.1f s", st.name, time.Since(t).Seconds())
		if st.name == s.c.until {
			break
		}
	}
	return nil
}

func (s *runner) logf(format string, args ...any) {
	fmt.Fprintf(s.out, time.Now().UTC().Format("15:04:05 ")+format+"\n", args...)
}

// build compiles wlns (unless -wlns) and makes the cluster CA.
func (s *runner) build(ctx context.Context) error {
	s.bin = s.c.wlns
	if s.bin == "" {
		bin, err := kit.BuildWlns(ctx, s.work)
		if err != nil {
			return err
		}
		s.bin = bin
	}
	return kit.RunCmd(ctx, s.bin, "ca", "init", "--dir", filepath.Join(s.work, "ca"))
}

// generate writes the import files, rbldnsd's file and the query files,
// and picks the samples.
func (s *runner) generate(ctx context.Context) error {
	c := s.c
	s.d = newDataset(c)
	s.importFile = filepath.Join(s.work, "import.ndjson")
	s.streamFile = filepath.Join(s.work, "stream.ndjson")
	s.rbldnsdFile = filepath.Join(s.work, "relays.ip4set")
	s.relayQueries = filepath.Join(s.work, "queries-relay.txt")
	s.senderQueries = filepath.Join(s.work, "queries-sender.txt")
	files := []struct {
		path string
		fill func(*bufio.Writer) error
	}{
		{s.streamFile, func(w *bufio.Writer) error { return s.d.writeImport(w, c.pairs, c.pairs+c.streamN, false) }},
		{s.rbldnsdFile, func(w *bufio.Writer) error { return kit.WriteRbldnsd(w, s.d.relays, c.apex) }},
		{s.relayQueries, s.d.writeRelayQueries},
		{s.senderQueries, s.d.writeSenderQueries},
	}
	if !c.pipe {
		files = append(files, struct {
			path string
			fill func(*bufio.Writer) error
		}{s.importFile, s.writeMainImport})
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := kit.WriteFile(f.path, f.fill); err != nil {
			return err
		}
	}
	s.ss = s.d.samples(c.samples)
	var size int64 // -pipe-import: counted while the import runs
	if !c.pipe {
		st, err := os.Stat(s.importFile)
		if err != nil {
			return err
		}
		size = st.Size()
	}
	members := 0
	for _, g := range s.d.groups {
		members += len(g)
	}
	s.r.Dataset = dataStats{Relays: c.relays, Groups: c.groups, GroupMembers: members, Pairs: c.pairs, Verps: c.verps,
		Records: s.d.importLines(), Domains: c.domains, DomainShare: c.domainShare, GroupShare: c.groupShare,
		Seed: c.seed, ImportBytes: size}
	s.logf("   %d import lines (%.0f MB; 0: generated during the import), %d streamed pairs, %d samples", s.d.importLines(), float64(size)/1e6, c.streamN, len(s.ss))
	return nil
}

// spec is how node id runs; dns fixes its DNS port ("" picks one).
func (s *runner) spec(id, join, dns string) kit.NodeSpec {
	// --voters keeps a -catchup mirror a non-voting mirror: promoted, it
	// would make a one-node cluster need both nodes for a quorum while it
	// still catches up.
	args := []string{"--readers", "1", "--voters", strconv.Itoa(s.c.voters)}
	if dns != "" {
		args = append(args, "--dns", dns)
	}
	if id == "n1" {
		args = append(args, "--pprof", s.pprof)
	}
	return kit.NodeSpec{Bin: s.bin, Work: s.work, ID: id, Apex: s.c.apex, Join: join, Args: args, Env: s.c.nodeEnv}
}

// load starts the nodes and imports the dataset through the CLI.
func (s *runner) load(ctx context.Context) error {
	port, err := kit.FreePort()
	if err != nil {
		return err
	}
	s.pprof = "127.0.0.1:" + port
	n1, err := kit.StartNode(ctx, s.spec("n1", "", ""))
	if err != nil {
		return err
	}
	s.nodes = append(s.nodes, n1)
	for i := 2; i <= s.c.voters; i++ {
		n, err := kit.StartNode(ctx, s.spec(fmt.Sprintf("n%d", i), n1.Ready.Raft, ""))
		if err != nil {
			return err
		}
		s.nodes = append(s.nodes, n)
	}
	if s.c.voters > 1 {
		if err := n1.WaitVoters(ctx, s.hc, s.c.voters, 5*time.Minute); err != nil {
			return err
		}
	}
	l := &s.r.Load
	l.Voters, l.RSSEmptyMiB = s.c.voters, n1.RSSMiB()
	cpu0 := s.cpu()
	prof := s.profileImport(ctx)
	var wall time.Duration
	var cli float64
	var cmdline string
	if s.c.pipe {
		wall, cli, cmdline, err = s.runImportFrom(ctx, "-", s.pipeMainImport)
	} else {
		wall, cli, cmdline, err = s.runImport(ctx, s.importFile)
	}
	if perr := <-prof; perr != nil {
		s.logf("   import profile: %v", perr)
	}
	l.Cmd, l.WallS, l.CLICPUS = cmdline, wall.Seconds(), cli
	if err != nil {
		return err
	}
	l.RecordsPerS = float64(s.d.importLines()) / l.WallS
	s.logf("   imported %d records in %.1f s: %.0f records/s", s.d.importLines(), l.WallS, l.RecordsPerS)
	want, err := n1.Status(ctx, s.hc)
	if err != nil {
		return err
	}
	if len(s.nodes) > 1 {
		t0 := time.Now().Add(-wall)
		for _, n := range s.nodes[1:] {
			if err := n.WaitCaughtUp(ctx, s.hc, want, time.Hour); err != nil {
				return err
			}
		}
		l.ReplicatedS = time.Since(t0).Seconds()
		s.logf("   every voter holds every record %.1f s after the import started", l.ReplicatedS)
	}
	cpu1 := s.cpu()
	l.ServerCPUS = make([]float64, len(cpu0))
	total := 0.0
	for i := range cpu0 {
		l.ServerCPUS[i] = cpu1[i] - cpu0[i]
		total += l.ServerCPUS[i]
	}
	l.CPUPerRecordU = total * 1e6 / float64(s.d.importLines())
	s.r.Dataset.Counts = want.Counts
	return nil
}

// cpu is every node's CPU seconds so far.
func (s *runner) cpu() []float64 {
	out := make([]float64, len(s.nodes))
	for i, n := range s.nodes {
		out[i], _ = n.CPUSeconds()
	}
	return out
}

// writeMainImport writes the main import: groups, relays, every pair and
// VERP source.
func (s *runner) writeMainImport(w *bufio.Writer) error {
	return s.d.writeImport(w, 0, s.c.pairs, true)
}

// pipeMainImport feeds the main import to cmd's stdin as it is generated
// and counts its bytes into the dataset's ImportBytes.
func (s *runner) pipeMainImport(cmd *exec.Cmd) (wait func() error, err error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		cw := &countingWriter{w: in}
		w := bufio.NewWriterSize(cw, 1<<20)
		err := s.writeMainImport(w)
		if err == nil {
			err = w.Flush()
		}
		if cerr := in.Close(); err == nil {
			err = cerr
		}
		s.r.Dataset.ImportBytes = cw.n
		done <- err
	}()
	return func() error { return <-done }, nil
}

// countingWriter counts what it passes on.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// runImport runs `wlns import` of file against nodes[0] and returns its
// wall time, its own CPU seconds and its command line (token elided).
func (s *runner) runImport(ctx context.Context, file string) (time.Duration, float64, string, error) {
	return s.runImportFrom(ctx, file, nil)
}

// runImportFrom is runImport; with feed, file is "-" and feed connects the
// command's stdin before it starts (wait reports the feeding's outcome
// once the command has ended).
func (s *runner) runImportFrom(ctx context.Context, file string, feed func(*exec.Cmd) (wait func() error, err error)) (time.Duration, float64, string, error) {
	n := s.nodes[0]
	args := []string{"import", "--server", "http://" + n.Ready.HTTP, "--token", n.Token, "--batch", strconv.Itoa(s.c.batch), file}
	cmdline := strings.Replace("wlns "+strings.Join(args, " "), n.Token, "TOKEN", 1)
	ictx, cancel := context.WithTimeout(ctx, 3*time.Hour)
	defer cancel()
	cmd := exec.CommandContext(ictx, s.bin, args...)
	wait := func() error { return nil }
	if feed != nil {
		w, err := feed(cmd)
		if err != nil {
			return 0, 0, cmdline, err
		}
		wait = w
		cmdline = "bench/scale's generator | " + cmdline
	}
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(t0)
	if ferr := wait(); err == nil && ferr != nil {
		err = fmt.Errorf("generating the import: %w", ferr)
	}
	var cli float64
	if cmd.ProcessState != nil {
		cli = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	if err != nil {
		return wall, cli, cmdline, fmt.Errorf("%s: %w\n%s", cmdline, err, kit.LastLines(string(out), 20))
	}
	return wall, cli, cmdline, nil
}

// memory reads nodes[0]'s memory after the import, then after a forced GC
// (the profiler's heap endpoint with gc=1) and -settle of idle time.
func (s *runner) memory(ctx context.Context) error {
	n := s.nodes[0]
	m := &s.r.Memory
	m.RSSMiB = n.RSSMiB()
	m.HWMMiB = kit.KibField(fmt.Sprintf("/proc/%d/status", n.PID()), "VmHWM:") / 1024
	// Settled is idle: after the snapshot the import leaves (it holds
	// the View it started from, so every leaf written since is a copy).
	quiet, err := waitQuiet(ctx, n, 15*time.Minute)
	if err != nil {
		return err
	}
	s.r.QuietWaitS = quiet.Seconds()
	m.GCCmd = "node idle, then GET /debug/pprof/heap?gc=1 (wlns serve --pprof), then " + s.c.settle.String() + " idle"
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+s.pprof+"/debug/pprof/heap?gc=1", nil)
	if err != nil {
		return err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("forcing a GC: %w", err)
	}
	heap, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && s.c.out != "" {
		// The live heap after the collection: where each byte per record goes.
		err = os.WriteFile(filepath.Join(s.c.out, fmt.Sprintf("heap-%d.pprof", s.c.pairs)), heap, 0o644)
	}
	if err != nil {
		return fmt.Errorf("saving the heap profile: %w", err)
	}
	if err := kit.Sleep(ctx, s.c.settle); err != nil {
		return err
	}
	tm := kit.TreeMemory(n.PID())
	m.SettledRSSMiB, m.SettledAnonMiB = tm.RSSMiB, tm.AnonMiB
	vals, err := n.Metrics(ctx)
	if err != nil {
		return err
	}
	m.HeapAllocMiB = vals["go_memstats_heap_alloc_bytes"] / (1 << 20)
	m.HeapInuseMiB = vals["go_memstats_heap_inuse_bytes"] / (1 << 20)
	m.SysMiB = vals["go_memstats_sys_bytes"] / (1 << 20)
	recs := float64(s.d.importLines())
	m.BytesPerRecord = m.SettledRSSMiB * (1 << 20) / recs
	m.HeapPerRecord = vals["go_memstats_heap_alloc_bytes"] / recs
	s.logf("   RSS %.0f MiB after import (HWM %.0f), %.0f MiB settled = %.0f bytes/record; Go heap %.0f MiB",
		m.RSSMiB, m.HWMMiB, m.SettledRSSMiB, m.BytesPerRecord, m.HeapAllocMiB)
	return nil
}

// queries checks every sample on nodes[0], then runs dnsperf against
// rbldnsd (relay zone) and wlns (relay and sender zones).
func (s *runner) queries(ctx context.Context) error {
	n := s.nodes[0]
	n.Addr = n.Ready.DNSUDP
	if _, err := serveAll(ctx, n.Addr, s.ss, time.Now(), time.Minute, n.Done()); err != nil {
		return fmt.Errorf("the loaded node answers wrong: %w", err)
	}
	server, client := "", false
	if s.c.pin && runtime.NumCPU() >= 2 {
		server, client = "1", true
	}
	// The import leaves a snapshot (minutes at 10M) and collections
	// behind: their CPU would count as the queries'.
	quiet, err := waitQuiet(ctx, n, 15*time.Minute)
	if err != nil {
		return err
	}
	s.r.QuietWaitS += quiet.Seconds()
	rb, err := kit.StartRbldnsd(s.rbldnsdFile, s.c.apex, filepath.Join(s.work, "rbldnsd.log"), server)
	if err != nil {
		return err
	}
	defer rb.Stop()
	last := s.d.relays[len(s.d.relays)-1].Rev() + ".relay." + s.c.apex
	loadS, err := rb.WaitAnswer(ctx, last, codeRelay, 10*time.Minute)
	if err != nil {
		return err
	}
	if err := kit.Sleep(ctx, time.Second); err != nil {
		return err
	}
	rbMem := kit.TreeMemory(rb.PID())
	s.r.Memory.RbldnsdRSSMiB = rbMem.RSSMiB
	s.r.Memory.RbldnsdPerRelay = rbMem.RSSMiB * (1 << 20) / float64(len(s.d.relays))
	p, cmd, err := kit.RunDnsperf(ctx, s.c.load, rb.Addr, s.relayQueries, rb.PID(), client)
	if err != nil {
		return err
	}
	rbRow := perfRow("rbldnsd", "relay", cmd, p, client)
	rbRow.LoadS = loadS
	s.r.Queries = append(s.r.Queries, rbRow)
	rb.Stop()
	if server != "" {
		if err := pin(ctx, n.PID(), server); err != nil {
			return err
		}
		defer pin(ctx, n.PID(), fmt.Sprintf("0-%d", runtime.NumCPU()-1))
	}
	s.r.QueryRatio = map[string]float64{}
	for _, z := range []struct{ zone, file string }{{"relay", s.relayQueries}, {"sender", s.senderQueries}} {
		p, cmd, err := kit.RunDnsperf(ctx, s.c.load, n.Addr, z.file, n.PID(), client)
		if err != nil {
			return err
		}
		q := perfRow("wlns", z.zone, cmd, p, client)
		s.r.Queries = append(s.r.Queries, q)
		if rbRow.CPUUs > 0 {
			s.r.QueryRatio[z.zone] = q.CPUUs / rbRow.CPUUs
		}
		s.logf("   wlns %s zone: %.1f µs CPU/answer (rbldnsd %.1f), %.0f q/s", z.zone, q.CPUUs, rbRow.CPUUs, q.QPS)
	}
	return nil
}

// quietSeconds is how many consecutive idle seconds waitQuiet wants:
// longer than the node waits with nothing applied before it snapshots
// what an import left (raftstore SnapshotQuiet, 10 s, checked every 2 s),
// so that the snapshot, and the memory returned after it, are behind it
// and not inside the figures read next. With 3 s the 10M run's settled
// RSS was read before its quiet snapshot, and the relay zone's dnsperf
// ran during it (19.9 µs per answer).
const quietSeconds = 15

// waitQuiet waits until n has used under 0.05 CPU-s in each of
// quietSeconds consecutive seconds, at most limit, and returns how long it
// waited.
func waitQuiet(ctx context.Context, n *kit.Node, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	prev, err := n.CPUSeconds()
	if err != nil {
		return 0, err
	}
	for calm := 0; calm < quietSeconds && time.Since(start) < limit; {
		if err := kit.Sleep(ctx, time.Second); err != nil {
			return 0, err
		}
		cur, err := n.CPUSeconds()
		if err != nil {
			return 0, err
		}
		if cur-prev < 0.05 {
			calm++
		} else {
			calm = 0
		}
		prev = cur
	}
	return time.Since(start), nil
}

// pin sets the CPU affinity of every thread of pid.
func pin(ctx context.Context, pid int, cpus string) error {
	return kit.RunCmd(ctx, "taskset", "-a", "-p", "-c", cpus, strconv.Itoa(pid))
}

// latency probes the samples on nodes[0] with no import, then while the
// stream file is imported. With -pin both windows run with the node on
// CPU 1 and this process (the prober) and the import command it starts on
// CPU 0, so the import's work inside the node competes with DNS on the
// node's CPU, not with the prober.
func (s *runner) latency(ctx context.Context) error {
	n := s.nodes[0]
	lt := &s.r.Latency
	lt.Rate, lt.StreamRecords = s.c.probeRate, s.c.streamN
	if vals, err := n.Metrics(ctx); err == nil {
		lt.NodeProcs = int(vals["go_sched_gomaxprocs_threads"])
	}
	if s.c.pin && runtime.NumCPU() >= 2 {
		all := fmt.Sprintf("0-%d", runtime.NumCPU()-1)
		if err := pin(ctx, n.PID(), "1"); err != nil {
			return err
		}
		defer pin(ctx, n.PID(), all)
		if err := pin(ctx, os.Getpid(), "0"); err != nil {
			return err
		}
		defer pin(ctx, os.Getpid(), all)
		lt.Pinned = true
	}
	pctx, cancel := context.WithTimeout(ctx, s.c.probeIdle)
	lt.IdleLoad = loadAvg()
	lt.Idle = probe(pctx, n.Addr, s.ss, s.c.probeRate)
	cancel()
	pctx, cancel = context.WithCancel(ctx)
	got := make(chan latency, 1)
	go func() { got <- probe(pctx, n.Addr, s.ss, s.c.probeRate) }()
	wall, _, cmdline, err := s.runImport(ctx, s.streamFile)
	lt.ImportingLoad = loadAvg()
	cancel()
	lt.Importing = <-got
	lt.StreamCmd, lt.StreamS = cmdline, wall.Seconds()
	if lt.Pinned {
		lt.StreamCmd = "taskset -c 0 " + cmdline
	}
	if err != nil {
		return err
	}
	lt.StreamPerS = float64(s.c.streamN) / lt.StreamS
	s.logf("   node GOMAXPROCS %d, pinned %v; p99 %.2f ms idle, %.2f ms while %d pairs streamed in %.1f s (load %s → %s)",
		lt.NodeProcs, lt.Pinned, lt.Idle.P99Ms, lt.Importing.P99Ms, s.c.streamN, lt.StreamS, lt.IdleLoad, lt.ImportingLoad)
	s.logf("   by the kernel's receive time: p50/p99/max %.2f/%.2f/%.1f ms idle → %.2f/%.2f/%.1f ms importing",
		lt.Idle.NodeP50Ms, lt.Idle.NodeP99Ms, lt.Idle.NodeMaxMs, lt.Importing.NodeP50Ms, lt.Importing.NodeP99Ms, lt.Importing.NodeMaxMs)
	return nil
}

// loadAvg is the machine's 1-, 5- and 15-minute load average, as
// /proc/loadavg says ("" where it cannot be read).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// start restarts nodes[0] on its data folder (SIGTERM, serve) and times
// it until every sample answers right. With -sweep the node restarts
// with that sweep interval and the sweeps are timed once it serves.
func (s *runner) start(ctx context.Context) error {
	old := s.nodes[0]
	old.Stop()
	port, err := kit.FreePort()
	if err != nil {
		return err
	}
	spec := s.spec("n1", "", "127.0.0.1:"+port)
	// The same inter-node address: the other voters know the node by it.
	spec.Args = append(spec.Args, "--raft", old.Ready.Raft)
	if s.c.sweep > 0 {
		spec.Args = append(spec.Args, "--sweep-interval", s.c.sweep.String())
	}
	n, err := kit.LaunchNode(ctx, spec)
	if err != nil {
		return err
	}
	s.nodes[0] = n
	n.Addr = "127.0.0.1:" + port
	st := &s.r.Start
	st.Cmd = "wlns " + strings.Join(append([]string{"serve", "--data", "DATA"}, spec.Args...), " ")
	st.Samples = len(s.ss)
	took, err := serveAll(ctx, n.Addr, s.ss, n.Started, s.c.startLimit, n.Done())
	if err != nil {
		return err
	}
	st.ServeAllS = took.Seconds()
	st.CPUS, _ = n.CPUSeconds()
	if err := n.WaitReady(ctx, 10*time.Minute); err != nil {
		return err
	}
	st.ReadyS = n.ReadyAfter.Seconds()
	s.r.Memory.RestartRSSMiB = n.RSSMiB()
	s.r.Memory.RestartHWMMiB = kit.KibField(fmt.Sprintf("/proc/%d/status", n.PID()), "VmHWM:") / 1024
	s.logf("   restart: every sample right after %.1f s (ready file %.1f s)", st.ServeAllS, st.ReadyS)
	if s.c.sweep > 0 {
		return s.sweeps(ctx, n)
	}
	return nil
}

// catchUp starts a fresh mirror joining the cluster and times it until it
// answers every sample.
func (s *runner) catchUp(ctx context.Context) error {
	port, err := kit.FreePort()
	if err != nil {
		return err
	}
	m, err := kit.LaunchNode(ctx, s.spec("m1", s.nodes[0].Ready.Raft, "127.0.0.1:"+port))
	if err != nil {
		return err
	}
	s.nodes = append(s.nodes, m)
	m.Addr = "127.0.0.1:" + port
	took, err := serveAll(ctx, m.Addr, s.ss, m.Started, s.c.startLimit, m.Done())
	if err != nil {
		return err
	}
	cu := &catchUpStats{ServeAllS: took.Seconds(), RSSMiB: m.RSSMiB()}
	cu.CPUS, _ = m.CPUSeconds()
	if err := m.WaitReady(ctx, 10*time.Minute); err == nil {
		cu.ReadyS = m.ReadyAfter.Seconds()
	}
	s.r.CatchUp = cu
	s.logf("   fresh mirror: every sample right after %.1f s", cu.ServeAllS)
	return nil
}

// profileImport fetches a CPU profile of nodes[0] for -profile-import
// from now into <out>/import-cpu.pprof; the channel gives its outcome.
func (s *runner) profileImport(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	if s.c.profile <= 0 || s.c.out == "" {
		done <- nil
		return done
	}
	go func() {
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.pprof, int(s.c.profile.Seconds()))
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			done <- err
			return
		}
		resp, err := s.hc.Do(req)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil {
			err = os.WriteFile(filepath.Join(s.c.out, "import-cpu.pprof"), b, 0o644)
		}
		done <- err
	}()
	return done
}
