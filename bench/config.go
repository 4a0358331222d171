package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// config is everything one benchmark run depends on.
type config struct {
	// N is the number of listed relay addresses (and of wlns pairs).
	N int
	// Queries is the number of lines in each query file; dnsperf cycles it.
	Queries int
	// Seed makes the dataset and query order reproducible.
	Seed uint64
	// Duration is dnsperf's -l, per server and mode.
	Duration time.Duration
	// Clients, Threads and Outstanding are dnsperf's -c, -T and -q.
	Clients, Threads, Outstanding int
	// Modes are the pin modes to run: "pin" (server on CPU 1 with one
	// worker, dnsperf on CPU 0) and "nopin" (two workers, no affinity).
	Modes []string
	// Servers limits the run to these servers; empty means all.
	Servers []string
	// WorkDir holds datasets and server state; empty means a temp dir.
	WorkDir string
	// OutDir receives the report; empty means none is written.
	OutDir string
	// Wlns is the wlns binary; empty means build ./cmd/wlns.
	Wlns string
	// Zone is the apex every server answers for.
	Zone string
}

// load is dnsperf's share of the config.
func (c config) load() kit.Load {
	return kit.Load{Clients: c.Clients, Threads: c.Threads, Outstanding: c.Outstanding, Duration: c.Duration}
}

// defaultConfig is the full `make bench` run.
func defaultConfig() config {
	return config{
		N: 1_000_000, Queries: 200_000, Seed: 20261123,
		Duration: 15 * time.Second, Clients: 8, Threads: 1, Outstanding: 200,
		Modes: []string{"pin", "nopin"}, OutDir: "bench/out", Zone: "wl.bench",
	}
}

// parseFlags reads the command line into a config.
func parseFlags(args []string) (config, error) {
	c := defaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "about 100k entries and 5 s per run")
	fs.IntVar(&c.N, "n", c.N, "listed relay addresses (and wlns sender/relay pairs)")
	fs.IntVar(&c.Queries, "queries", c.Queries, "lines per query file (80% listed, 20% unlisted)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "dataset seed")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "dnsperf run time per server and mode (-l)")
	fs.IntVar(&c.Clients, "c", c.Clients, "dnsperf clients (-c)")
	fs.IntVar(&c.Threads, "T", c.Threads, "dnsperf threads (-T)")
	fs.IntVar(&c.Outstanding, "q", c.Outstanding, "dnsperf outstanding queries (-q)")
	modes := fs.String("modes", "pin,nopin", "pin modes to run")
	servers := fs.String("servers", "", "comma-separated subset of rbldnsd,nsd,wlns,wlns-sender")
	fs.StringVar(&c.WorkDir, "work", "", "work directory (default: a temp dir, removed afterwards)")
	fs.StringVar(&c.OutDir, "out", c.OutDir, "directory for the report")
	fs.StringVar(&c.Wlns, "wlns", "", "wlns binary (default: build ./cmd/wlns)")
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("parsing flags: %w", err)
	}
	if *quick {
		// Flags given explicitly win over the quick preset.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["n"] {
			c.N = 100_000
		}
		if !set["duration"] {
			c.Duration = 5 * time.Second
		}
	}
	c.Modes = splitList(*modes)
	c.Servers = splitList(*servers)
	return c, c.validate()
}

// validate rejects settings the run cannot honour.
func (c config) validate() error {
	switch {
	case c.N < 10:
		return fmt.Errorf("-n %d: need at least 10 entries", c.N)
	case c.Queries < 10:
		return fmt.Errorf("-queries %d: need at least 10", c.Queries)
	case c.Duration < time.Second:
		return fmt.Errorf("-duration %v: need at least 1s", c.Duration)
	}
	for _, m := range c.Modes {
		if m != "pin" && m != "nopin" {
			return fmt.Errorf("mode %q: want pin or nopin", m)
		}
	}
	return nil
}
