package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// result is one run's figures, written as JSON so that runs at 1M, 10M
// and 100M can be plotted as a curve. Every figure carries the command
// that produced it.
type result struct {
	Command string    `json:"command"`
	Commit  string    `json:"commit"`
	Started time.Time `json:"started"`
	Machine string    `json:"machine"`
	MemGiB  float64   `json:"mem_total_gib"`
	LoadAvg string    `json:"loadavg_before"`
	Dataset dataStats `json:"dataset"`
	Load    loadStats `json:"load"`
	Memory  memStats  `json:"memory"`
	// QuietWaitS is how long the node took to go idle after the import
	// (its snapshot, collections) before the queries were measured.
	QuietWaitS float64 `json:"quiet_wait_s"`
	Queries    []query `json:"queries"`
	// QueryRatio is wlns' CPU per answered query over rbldnsd's, per zone.
	QueryRatio map[string]float64 `json:"cpu_per_query_ratio_to_rbldnsd"`
	Latency    latencyStats       `json:"latency"`
	Start      startStats         `json:"start"`
	CatchUp    *catchUpStats      `json:"catch_up,omitempty"`
	Sweep      *sweepStats        `json:"sweep,omitempty"`
	Error      string             `json:"error,omitempty"`
}

type dataStats struct {
	Relays       int     `json:"relays"`
	Groups       int     `json:"groups"`
	GroupMembers int     `json:"group_members"`
	Pairs        int     `json:"pairs"`
	Verps        int     `json:"verp_sources"`
	Records      int     `json:"records"` // every import line
	Domains      int     `json:"domains"`
	DomainShare  float64 `json:"domain_share"`
	GroupShare   float64 `json:"group_share"`
	Seed         uint64  `json:"seed"`
	ImportBytes  int64   `json:"import_bytes"`
	// Counts are what the loaded node's /v1/status reported.
	Counts kit.Counts `json:"status_counts"`
}

type loadStats struct {
	Cmd           string    `json:"cmd"`
	Voters        int       `json:"voters"`
	WallS         float64   `json:"wall_s"` // CLI start → CLI exit (applied on the node it talks to)
	RecordsPerS   float64   `json:"records_per_s"`
	ReplicatedS   float64   `json:"replicated_s,omitempty"` // CLI start → every voter holds every record
	ServerCPUS    []float64 `json:"server_cpu_s"`           // per node, during the import and replication
	CLICPUS       float64   `json:"cli_cpu_s"`
	RSSEmptyMiB   float64   `json:"rss_empty_mib"`
	CPUPerRecordU float64   `json:"server_cpu_us_per_record"` // all nodes
}

type memStats struct {
	RSSMiB          float64 `json:"rss_after_import_mib"`
	HWMMiB          float64 `json:"hwm_mib"`
	SettledRSSMiB   float64 `json:"rss_settled_mib"` // after a forced GC and -settle idle
	SettledAnonMiB  float64 `json:"anon_settled_mib"`
	RestartRSSMiB   float64 `json:"rss_after_restart_mib"`
	RestartHWMMiB   float64 `json:"hwm_after_restart_mib"`
	HeapAllocMiB    float64 `json:"go_heap_alloc_mib"`
	HeapInuseMiB    float64 `json:"go_heap_inuse_mib"`
	SysMiB          float64 `json:"go_sys_mib"`
	BytesPerRecord  float64 `json:"settled_rss_bytes_per_record"`
	HeapPerRecord   float64 `json:"go_heap_bytes_per_record"`
	RbldnsdRSSMiB   float64 `json:"rbldnsd_rss_mib"`
	RbldnsdPerRelay float64 `json:"rbldnsd_bytes_per_relay"`
	GCCmd           string  `json:"gc_cmd"`
}

type query struct {
	Server  string  `json:"server"`
	Zone    string  `json:"zone"`
	Cmd     string  `json:"cmd"`
	QPS     float64 `json:"qps"`
	CPUUs   float64 `json:"cpu_us_per_answer"`
	Sent    uint64  `json:"sent"`
	Lost    uint64  `json:"lost"`
	NXPct   float64 `json:"nxdomain_pct"`
	LatMs   float64 `json:"avg_latency_ms"`
	LoadS   float64 `json:"load_s,omitempty"` // rbldnsd: exec → last relay answers
	Pinned  bool    `json:"pinned"`
	Answers uint64  `json:"answered"`
}

type latencyStats struct {
	Rate          int     `json:"probes_per_s"`
	Idle          latency `json:"idle"`
	Importing     latency `json:"while_importing"`
	StreamRecords int     `json:"stream_records"`
	StreamS       float64 `json:"stream_wall_s"`
	StreamPerS    float64 `json:"stream_records_per_s"`
	StreamCmd     string  `json:"stream_cmd"`
	// Pinned: the node on CPU 1, the prober and the import on CPU 0.
	Pinned        bool   `json:"pinned"`
	NodeProcs     int    `json:"node_gomaxprocs"`
	IdleLoad      string `json:"idle_loadavg"`      // when the idle window began
	ImportingLoad string `json:"importing_loadavg"` // when the import ended
}

type startStats struct {
	Cmd       string  `json:"cmd"`
	ReadyS    float64 `json:"ready_file_s"`
	ServeAllS float64 `json:"serve_all_s"` // exec → every sample answers right
	Samples   int     `json:"samples"`
	CPUS      float64 `json:"cpu_s"` // exec → serve all
}

type catchUpStats struct {
	ServeAllS float64 `json:"serve_all_s"`
	ReadyS    float64 `json:"ready_file_s"`
	CPUS      float64 `json:"cpu_s"`
	RSSMiB    float64 `json:"rss_mib"`
}

type sweepStats struct {
	Interval string  `json:"interval"`
	Sweeps   int     `json:"sweeps"`
	WindowS  float64 `json:"window_s"`
	CPUS     float64 `json:"cpu_s"`           // the node's CPU over the window
	BaseRate float64 `json:"base_cpu_per_s"`  // its median CPU rate, sampled every 100 ms
	PerSweep float64 `json:"cpu_s_per_sweep"` // CPU above the base rate within ±Around of each sweep
	AroundS  float64 `json:"around_s"`
	Expired  float64 `json:"records_expired"`
}

// save writes the result as JSON and the report as Markdown into dir.
func (r *result) save(dir, report string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the result: %w", err)
	}
	base := filepath.Join(dir, fmt.Sprintf("scale-%s-%s", short(r.Dataset.Pairs), r.Started.UTC().Format("20060102-150405")))
	files := []string{base + ".json", base + ".md"}
	for i, data := range [][]byte{append(b, '\n'), []byte(report)} {
		if err := os.WriteFile(files[i], data, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", files[i], err)
		}
	}
	return files, nil
}

// short is 1M for 1,000,000.
func short(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// render is the Markdown report: every figure with the command behind it.
func (r *result) render() string {
	var b strings.Builder
	d := r.Dataset
	fmt.Fprintf(&b, "## wlns bench-scale, %s pairs, %s\n\n", short(d.Pairs), r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- command: `%s` (commit %s)\n- machine: %s, %.0f GiB RAM; load average before: %s\n", r.Command, r.Commit, r.Machine, r.MemGiB, r.LoadAvg)
	fmt.Fprintf(&b, "- dataset (seed %d): %d registered relays, %d groups (%d CIDR members), %d pairs (%.0f%% whole domains, %d domains, Zipf s=1.1; "+
		"local parts 5–20 chars), %d VERP sources; %.0f%% of pairs and VERP sources through a group; %d import lines, %.0f MB of NDJSON\n",
		d.Seed, d.Relays, d.Groups, d.GroupMembers, d.Pairs, 100*d.DomainShare, d.Domains, d.Verps, 100*d.GroupShare, d.Records, float64(d.ImportBytes)/1e6)
	fmt.Fprintf(&b, "- the node's /v1/status after import: %+v\n\n", d.Counts)
	b.WriteString("| figure | value | command |\n|---|---|---|\n")
	l := r.Load
	row := func(fig, val, cmd string) { fmt.Fprintf(&b, "| %s | %s | `%s` |\n", fig, val, cmd) }
	row(fmt.Sprintf("load: %d records into %d voter(s)", d.Records, l.Voters),
		fmt.Sprintf("%.1f s, **%.0f records/s**; server CPU %s s (%.1f µs/record), CLI CPU %.1f s", l.WallS, l.RecordsPerS, floats(l.ServerCPUS), l.CPUPerRecordU, l.CLICPUS), l.Cmd)
	if l.ReplicatedS > 0 {
		row("load: until every voter holds every record", fmt.Sprintf("%.1f s (%.0f records/s)", l.ReplicatedS, float64(d.Records)/l.ReplicatedS), l.Cmd)
	}
	m := r.Memory
	row("memory after import (VmRSS / VmHWM)", fmt.Sprintf("%.0f / %.0f MiB (empty node %.0f MiB)", m.RSSMiB, m.HWMMiB, l.RSSEmptyMiB), "/proc/PID/status")
	row("memory settled (forced GC, then idle)", fmt.Sprintf("**%.0f MiB RSS = %.0f bytes/record**, anon %.0f MiB; Go heap alloc %.0f MiB (%.0f bytes/record), in use %.0f MiB, runtime total %.0f MiB",
		m.SettledRSSMiB, m.BytesPerRecord, m.SettledAnonMiB, m.HeapAllocMiB, m.HeapPerRecord, m.HeapInuseMiB, m.SysMiB), m.GCCmd)
	row("memory after restart (VmRSS / VmHWM)", fmt.Sprintf("%.0f / %.0f MiB", m.RestartRSSMiB, m.RestartHWMMiB), r.Start.Cmd)
	row("rbldnsd, the same relays", fmt.Sprintf("%.1f MiB RSS, %.0f bytes/relay", m.RbldnsdRSSMiB, m.RbldnsdPerRelay), "rbldnsd ip4set")
	s := r.Start
	row("start: restart on the data folder → every sample answers", fmt.Sprintf("**%.1f s** (ready file %.1f s; %d samples; %.1f CPU-s)", s.ServeAllS, s.ReadyS, s.Samples, s.CPUS), s.Cmd)
	row("wait for the node to go idle after the import (snapshot, GC)", fmt.Sprintf("%.1f s", r.QuietWaitS), fmt.Sprintf("/proc/PID/stat: under 0.05 CPU-s in %d consecutive seconds", quietSeconds))
	for _, q := range r.Queries {
		val := fmt.Sprintf("**%.1f µs CPU/answer**, %.0f q/s, avg %.2f ms, lost %d/%d, NXDOMAIN %.1f%%", q.CPUUs, q.QPS, q.LatMs, q.Lost, q.Sent, q.NXPct)
		if q.LoadS > 0 {
			val += fmt.Sprintf(", loaded in %.2f s", q.LoadS)
		}
		row(fmt.Sprintf("queries: %s, %s zone", q.Server, q.Zone), val, q.Cmd)
	}
	for _, z := range []string{"relay", "sender"} {
		if v, ok := r.QueryRatio[z]; ok {
			row(fmt.Sprintf("queries: CPU/answer, wlns %s zone ÷ rbldnsd relay zone", z), fmt.Sprintf("**×%.2f**", v), "same run")
		}
	}
	lt := r.Latency
	how := "UDP, 1 s timeout; node GOMAXPROCS " + strconv.Itoa(lt.NodeProcs)
	if lt.Pinned {
		how += "; node on CPU 1, prober and import on CPU 0"
	}
	row(fmt.Sprintf("DNS latency, %d probes/s over the samples, no import", lt.Rate), lat(lt.Idle)+"; load "+lt.IdleLoad, how)
	row(fmt.Sprintf("DNS latency while %d new pairs stream in", lt.StreamRecords), lat(lt.Importing)+fmt.Sprintf("; the import: %.1f s, %.0f records/s; load %s", lt.StreamS, lt.StreamPerS, lt.ImportingLoad), lt.StreamCmd)
	if c := r.CatchUp; c != nil {
		row("catch-up: fresh mirror joins → every sample answers", fmt.Sprintf("**%.1f s** (ready file %.1f s; %.1f CPU-s; RSS %.0f MiB)", c.ServeAllS, c.ReadyS, c.CPUS, c.RSSMiB), "wlns serve --join")
	}
	if w := r.Sweep; w != nil {
		row(fmt.Sprintf("expiry: %d sweeps at --sweep-interval %s, nothing expired (%.0f)", w.Sweeps, w.Interval, w.Expired),
			fmt.Sprintf("%.2f CPU-s per sweep (above the node's median %.2f CPU-s/s within ±%.1f s of each; %.1f CPU-s in the %.0f s window)",
				w.PerSweep, w.BaseRate, w.AroundS, w.CPUS, w.WindowS), "wlns serve --sweep-interval "+w.Interval)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "\n**The run stopped early:** %s\n", r.Error)
	}
	return b.String()
}

// lat is a latency window: the node's figure (kernel receive time − send)
// first, then the prober's, then what did not answer right.
func lat(l latency) string {
	return fmt.Sprintf("node: p50 %.2f ms, **p99 %.2f ms**, max %.1f ms; prober: p50 %.2f, p99 %.2f, max %.1f ms; of %d: %d skipped (no free slot), %d lost, %d wrong",
		l.NodeP50Ms, l.NodeP99Ms, l.NodeMaxMs, l.P50Ms, l.P99Ms, l.MaxMs, l.Probes, l.Skipped, l.Lost, l.Wrong)
}

func floats(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%.1f", f)
	}
	return strings.Join(parts, " / ")
}

// perfRow turns a dnsperf run into a query row.
func perfRow(server, zone, cmd string, p kit.PerfResult, pinned bool) query {
	return query{Server: server, Zone: zone, Cmd: cmd, QPS: p.QPS, CPUUs: p.CPUPerQuery(), Sent: p.Sent, Lost: p.Lost,
		NXPct: p.Share("NXDOMAIN"), LatMs: p.LatMs, Pinned: pinned, Answers: p.Answered()}
}
