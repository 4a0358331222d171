package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
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
	if err := kit.LookTools("dnsperf", "rbldnsd", "nsd", "taskset"); err != nil {
		return nil, err
	}
	work, cleanup, err := kit.WorkDir(c.WorkDir)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if c.Wlns == "" && (len(c.Servers) == 0 || slices.Contains(c.Servers, "wlns")) {
		if c.Wlns, err = kit.BuildWlns(ctx, work); err != nil {
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
