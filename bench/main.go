package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run performs one benchmark and returns its rows; progress and the table
// go to out.
func run(ctx context.Context, c config, out io.Writer) ([]row, error) {
	for _, tool := range []string{"dnsperf", "rbldnsd", "nsd", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found (scripts/test-deps.sh installs it): %w", tool, err)
		}
	}
	work, cleanup, err := workDir(c.WorkDir)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if c.Wlns == "" && (len(c.Servers) == 0 || slices.Contains(c.Servers, "wlns")) {
		if c.Wlns, err = buildWlns(ctx, work); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	d, err := buildDataset(c, work)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "dataset: %d relays, %d pairs, %d queries per file (seed %d) in %.1fs\n",
		len(d.listed), len(d.listed), c.Queries, c.Seed, time.Since(t0).Seconds())
	servers := selectServers(c, d, work)
	for _, s := range servers {
		t := time.Now()
		if err := s.prepare(ctx); err != nil {
			return nil, fmt.Errorf("preparing %s: %w", s.name(), err)
		}
		if d := time.Since(t); d > time.Second {
			fmt.Fprintf(out, "%s prepared in %.1fs\n", s.name(), d.Seconds())
		}
	}
	var rows []row
	for _, mode := range c.Modes {
		for _, s := range servers {
			rs, err := measure(ctx, c, s, mode, out)
			if err != nil {
				return rows, fmt.Errorf("%s %s: %w", s.name(), mode, err)
			}
			rows = append(rows, rs...)
		}
	}
	report := renderReport(c, d, servers, rows)
	fmt.Fprint(out, "\n"+report)
	if c.OutDir != "" {
		if err := saveReport(c.OutDir, report); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// workDir returns the directory for datasets and server state, readable by
// rbldnsd's unprivileged user, and how to remove it.
func workDir(dir string) (string, func(), error) {
	cleanup := func() {}
	if dir == "" {
		d, err := os.MkdirTemp("", "wlns-bench-")
		if err != nil {
			return "", nil, fmt.Errorf("creating work dir: %w", err)
		}
		dir, cleanup = d, func() { os.RemoveAll(d) }
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("creating work dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("opening work dir to rbldnsd: %w", err)
	}
	return dir, cleanup, nil
}

// buildWlns compiles ./cmd/wlns (run from the module root).
func buildWlns(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "wlns")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/wlns").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building wlns: %w\n%s", err, out)
	}
	return bin, nil
}

// selectServers returns the servers the config asks for, rbldnsd first.
func selectServers(c config, d *dataset, work string) []server {
	all := []server{
		&rbldnsd{c: c, d: d, dir: work},
		&nsd{c: c, d: d, dir: work},
		&wlnsServer{c: c, d: d, dir: work, bin: c.Wlns},
	}
	if len(c.Servers) == 0 {
		return all
	}
	return slices.DeleteFunc(all, func(s server) bool { return !slices.Contains(c.Servers, s.name()) })
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
