package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// curve prints one Markdown row per result file, ordered by size: the
// figures docs/performance.md follows as the whitelist grows.
func curve(files []string, out io.Writer) error {
	var rs []result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading a result: %w", err)
		}
		var r result
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("reading %s: %w", f, err)
		}
		rs = append(rs, r)
	}
	slices.SortStableFunc(rs, func(a, b result) int { return a.Dataset.Records - b.Dataset.Records })
	fmt.Fprintln(out, "| pairs | records | voters | commit | import rec/s | import CPU µs/rec | settled RSS MiB | bytes/record | Go heap B/record | restart → all samples s (CPU-s) | "+
		"relay µs/q (×rb) | sender µs/q (×rb) | p99 ms idle → importing | catch-up s | CPU-s/sweep |")
	fmt.Fprintln(out, "|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		zone := map[string]float64{}
		for _, q := range r.Queries {
			if q.Server == "wlns" {
				zone[q.Zone] = q.CPUUs
			}
		}
		catch, sweep := "–", "–"
		if r.CatchUp != nil {
			catch = fmt.Sprintf("%.1f", r.CatchUp.ServeAllS)
		}
		if r.Sweep != nil {
			sweep = fmt.Sprintf("%.2f", r.Sweep.PerSweep)
		}
		row := []string{short(r.Dataset.Pairs), fmt.Sprint(r.Dataset.Records), fmt.Sprint(r.Load.Voters), r.Commit,
			fmt.Sprintf("%.0f", r.Load.RecordsPerS), fmt.Sprintf("%.0f", r.Load.CPUPerRecordU), fmt.Sprintf("%.0f", r.Memory.SettledRSSMiB),
			fmt.Sprintf("%.0f", r.Memory.BytesPerRecord), fmt.Sprintf("%.0f", r.Memory.HeapPerRecord),
			fmt.Sprintf("%.1f (%.1f)", r.Start.ServeAllS, r.Start.CPUS),
			fmt.Sprintf("%.1f (×%.2f)", zone["relay"], r.QueryRatio["relay"]), fmt.Sprintf("%.1f (×%.2f)", zone["sender"], r.QueryRatio["sender"]),
			fmt.Sprintf("%.2f → %.2f", r.Latency.Idle.P99Ms, r.Latency.Importing.P99Ms), catch, sweep}
		if r.Error != "" {
			row[0] += " (stopped early)"
		}
		fmt.Fprintln(out, "| "+strings.Join(row, " | ")+" |")
	}
	return nil
}
