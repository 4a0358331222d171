package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// renderReport formats the run as Markdown: settings, machine, one table.
func renderReport(c config, d *dataset, servers []server, rows []row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## wlns bench %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- dataset: %d relay addresses (wlns: %d registered relays + %d sender/relay pairs), seed %d;"+
		" %d queries per file, 80%% listed / 20%% unlisted, shuffled\n", len(d.listed), len(d.listed), len(d.listed), c.Seed, c.Queries)
	fmt.Fprintf(&b, "- load: `%s`\n", strings.Join(kit.DnsperfArgs(c.load(), "127.0.0.1", "PORT", "QUERIES", false), " "))
	b.WriteString("- pin: server on CPU 1 with one worker (wlns --readers 1 and GOMAXPROCS=1, NSD server-count 1), dnsperf on CPU 0;" +
		" nopin: no affinity, two workers (wlns --readers 2, GOMAXPROCS=2; rbldnsd is single-threaded)\n")
	for _, s := range servers {
		if ws, ok := s.(*wlnsServer); ok {
			for _, m := range c.Modes {
				fmt.Fprintf(&b, "- wlns %s: serve on an empty data dir + `wlns import --batch 10000` of %d lines: %.1f s\n", m, 2*len(d.listed), ws.importSecs[m])
			}
			if ws.restart != "" {
				fmt.Fprintf(&b, "- wlns %s\n", ws.restart)
			}
			for _, h := range ws.heaps {
				fmt.Fprintf(&b, "- wlns after load, %s\n", h)
			}
		}
	}
	fmt.Fprintf(&b, "- machine: %s\n\n", kit.Machine())
	b.WriteString("| server | zone | pin | qps | CPU µs/q | ×rb | busy% | lat ms | RSS MiB | ×rb | PSS MiB | anon MiB | RSS after | load s | lost/sent | NX% |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rows {
		base := baseline(rows, r.mode)
		p := r.perf
		fmt.Fprintf(&b, "| %s | %s | %s | %.0fk | %.1f | %s | %.0f | %.2f | %.1f | %s | %.1f | %.1f | %.1f | %.2f | %d/%s | %.1f |\n",
			r.server, r.zone, r.mode, p.QPS/1000, p.CPUPerQuery(), ratio(p.CPUPerQuery(), base, func(x row) float64 { return x.perf.CPUPerQuery() }),
			100*p.SrvCPU/max(p.RunSecs, 1e-9), p.LatMs, r.memBefore.RSSMiB,
			ratio(r.memBefore.RSSMiB, base, func(x row) float64 { return x.memBefore.RSSMiB }),
			r.memBefore.PSSMiB, r.memBefore.AnonMiB, r.memAfter.RSSMiB, r.loadSecs, p.Lost, millions(p.Sent), p.Share("NXDOMAIN"))
	}
	b.WriteString("\nCPU µs/q = server process tree utime+stime (/proc/PID/stat) during the dnsperf run ÷ answered queries." +
		" ×rb = ratio to rbldnsd in the same pin mode. busy% = server CPU ÷ run time. RSS = largest process," +
		" 1 s after the server answered the last listed name; PSS = tree sum; anon = anonymous memory (heap, not file-mapped), tree sum; RSS after = after the run." +
		" load s = exec → correct answer for the last listed name (wlns: includes `wlns import` into the empty node). NX% = NXDOMAIN share of answers" +
		" (sender zone: unlisted senders at a listed relay are NODATA, not NXDOMAIN).\n")
	return b.String()
}

// baseline returns rbldnsd's relay row in mode, if measured.
func baseline(rows []row, mode string) *row {
	for i := range rows {
		if rows[i].server == "rbldnsd" && rows[i].mode == mode {
			return &rows[i]
		}
	}
	return nil
}

// ratio formats v over base's value, or "–" without a baseline.
func ratio(v float64, base *row, f func(row) float64) string {
	if base == nil || f(*base) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", v/f(*base))
}

// millions formats a count as 3.7M or 12k.
func millions(n uint64) string {
	if n >= 1_000_000 {
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	}
	return fmt.Sprintf("%dk", n/1000)
}

// saveReport writes the report to dir as a dated file and as latest.md.
func saveReport(dir, report string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	name := "bench-" + time.Now().UTC().Format("20060102-150405") + ".md"
	for _, n := range []string{name, "latest.md"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(report), 0o644); err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
	}
	return nil
}
