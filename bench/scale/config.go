package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

// config is everything one scale run depends on.
type config struct {
	// Dataset.
	pairs       int     // sender/relay pairs (the scale)
	relays      int     // registered single relays
	groups      int     // registered relay groups, 1–4 CIDR members each
	groupShare  float64 // share of pairs and VERP sources through a group
	domains     int     // distinct sender domains
	domainShare float64 // share of pairs that are whole-domain pairs
	verps       int     // VERP sources
	seed        uint64
	apex        string

	// Cluster and load.
	voters int // 1 or 3 wlns processes
	batch  int // `wlns import --batch`

	// Measurements.
	samples    int           // records of each kind checked for correctness
	settle     time.Duration // idle time before the settled RSS
	queries    int           // lines per dnsperf query file
	load       kit.Load      // dnsperf -c -T -q -l
	pin        bool          // server on CPU 1, dnsperf on CPU 0 while dnsperf runs
	probeRate  int           // DNS probes per second for latency
	probeIdle  time.Duration // probe window with no import
	streamN    int           // new pairs the second import streams while probing
	catchup    bool          // a fresh mirror joins and must answer every sample
	sweep      time.Duration // 0, or watch expiry sweeps at this interval for 3 of them
	startLimit time.Duration // bound on a restart's time to serve all

	// Resources.
	estBytes  int      // expected RSS bytes per record, for the memory check
	estDisk   int      // expected data-folder bytes per record and voter
	nodeEnv   []string // KEY=VALUE added to every wlns serve's environment
	pipe      bool     // generate the main import into `wlns import -` instead of a file
	check     string   // -check: the DNS address of a server to check the samples against, instead of a run
	kinds     []string // -check-kinds: the sample kinds -check asks for (nil: all)
	minFree   float64  // GiB of MemAvailable below which the run stops
	timeout   time.Duration
	work, out string
	wlns      string
	commit    string        // what the -wlns binary was built from, for the report
	args      []string      // the command line, for the report
	curve     []string      // -curve: result files to tabulate instead of a run
	until     string        // the last phase to run ("" all)
	profile   time.Duration // CPU profile of node 1 this long from the import's start (0: none)
}

// scales are the -scale presets: pairs.
var scales = map[string]int{"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}

func parseFlags(args []string) (config, error) {
	c := config{args: args}
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	scale := fs.String("scale", "", "preset for -n: 100k, 1M, 10M or 100M (make bench-scale SCALE=10M)")
	fs.IntVar(&c.pairs, "n", 1_000_000, "sender/relay pairs to import (the scale)")
	fs.IntVar(&c.relays, "relays", 1_000_000, "registered single relays (random public IPv4, as in make bench; rbldnsd lists the same)")
	fs.IntVar(&c.groups, "groups", 10_000, "registered relay groups, each with 1–4 members (/26–/29 inside 10.0.0.0/8), at most 65536")
	fs.Float64Var(&c.groupShare, "group-share", 0.10, "share of pairs and VERP sources through a group (the rest through a single relay)")
	fs.IntVar(&c.domains, "domains", 0, "distinct sender domains, drawn Zipf-skewed (s=1.1) (default n/10, within 2,000–1,000,000)")
	fs.Float64Var(&c.domainShare, "domain-share", 0.05, "share of pairs that whitelist a whole sender domain")
	fs.IntVar(&c.verps, "verps", 0, "VERP sources (default n/100, at least 10)")
	fs.Uint64Var(&c.seed, "seed", 20261123, "dataset seed")
	fs.StringVar(&c.apex, "apex", "wl.bench", "zone apex")
	fs.IntVar(&c.voters, "voters", 1, "wlns processes on loopback: 1, or 3 voters (the import must reach every voter)")
	fs.IntVar(&c.batch, "batch", 10_000, "records per import batch (wlns import --batch)")
	fs.IntVar(&c.samples, "samples", 200, "records of each kind (relay, group, pair, domain pair, VERP) checked after load, restart and catch-up")
	fs.DurationVar(&c.settle, "settle", 10*time.Second, "idle time after a forced GC before the settled RSS is read")
	fs.IntVar(&c.queries, "queries", 200_000, "lines per dnsperf query file (80% listed, 20% unlisted)")
	fs.IntVar(&c.load.Clients, "c", 8, "dnsperf clients (-c)")
	fs.IntVar(&c.load.Threads, "T", 1, "dnsperf threads (-T)")
	fs.IntVar(&c.load.Outstanding, "q", 200, "dnsperf outstanding queries (-q)")
	fs.DurationVar(&c.load.Duration, "duration", 15*time.Second, "dnsperf run time per server and zone (-l)")
	fs.BoolVar(&c.pin, "pin", true, "while dnsperf runs, pin the server to CPU 1 and dnsperf to CPU 0 (taskset)")
	fs.IntVar(&c.probeRate, "probe-rate", 500, "DNS probes per second while timing latency with and without an import")
	fs.DurationVar(&c.probeIdle, "probe-idle", 10*time.Second, "latency window without an import")
	fs.IntVar(&c.streamN, "stream-n", 0, "new pairs the second import streams while latency is probed (default n/10, within 10,000–1,000,000)")
	fs.BoolVar(&c.catchup, "catchup", false, "also time a fresh mirror joining until it answers every sample")
	fs.DurationVar(&c.sweep, "sweep", 0, "also restart the node with --sweep-interval this and time 3 sweeps that delete nothing (0: skip)")
	fs.DurationVar(&c.startLimit, "start-limit", 15*time.Minute, "how long a restart may take to answer every sample")
	fs.IntVar(&c.estBytes, "est-bytes", 2048, "expected RSS bytes per record and node, for the up-front memory check (2048 fits the copy-on-write index; lower it for a compact one)")
	fs.IntVar(&c.estDisk, "est-disk", 1500, "expected data-folder bytes per record and node, for the up-front disk check")
	nodeEnv := fs.String("node-env", "", "comma-separated KEY=VALUE added to every wlns serve's environment, e.g. GOMEMLIMIT=12GiB")
	fs.BoolVar(&c.pipe, "pipe-import", false, "generate the main import straight into `wlns import -` (stdin) instead of writing it to a file first (100M pairs: ~8.5 GB of NDJSON not on disk)")
	fs.Float64Var(&c.minFree, "min-free", 2, "GiB of MemAvailable below which the run stops at once")
	fs.DurationVar(&c.timeout, "timeout", 4*time.Hour, "bound on the whole run")
	fs.StringVar(&c.work, "work", "", "work folder to keep (default: a temp folder, removed)")
	fs.StringVar(&c.until, "until", "", "stop after this phase (load, memory, queries, latency, start; default: all)")
	fs.DurationVar(&c.profile, "profile-import", 0, "write a CPU profile of node 1 covering this long from the import's start to <out>/import-cpu.pprof (0: none)")
	fs.StringVar(&c.out, "out", "bench/out", "folder for scale-<n>-<time>.json and .md (empty: none)")
	fs.StringVar(&c.wlns, "wlns", "", "wlns binary (default: build ./cmd/wlns)")
	fs.StringVar(&c.commit, "commit", "", "with -wlns: the commit it was built from, for the report (default: this tree's)")
	fs.StringVar(&c.check, "check", "", "instead of a run: ask the DNS server at this address (host:port) for the samples of the dataset the other flags describe, until every one answers right (-start-limit) or the limit passes, and print how long it took; "+
		"for a server loaded by an import cut short, give -n the pairs it holds (with -domains and -verps of the full run) and leave out verp")
	kinds := fs.String("check-kinds", "", "with -check: comma-separated sample kinds to ask (relay, group, pair, domain, verp, unlisted; default all)")
	asCurve := fs.Bool("curve", false, "print one table row per result file given after the flags (bench/out/scale-*.json), by size, instead of running")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *asCurve {
		if c.curve = fs.Args(); len(c.curve) == 0 {
			return c, fmt.Errorf("-curve needs result files, e.g. bench/out/scale-*.json")
		}
		return c, nil
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (flags only, or -curve FILES)", fs.Arg(0))
	}
	for _, k := range strings.Split(*kinds, ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.kinds = append(c.kinds, k)
		}
	}
	for _, kv := range strings.Split(*nodeEnv, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			c.nodeEnv = append(c.nodeEnv, kv)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *scale != "" {
		n, ok := scales[*scale]
		switch {
		case !ok:
			return c, fmt.Errorf("-scale %q: want one of 100k, 1M, 10M, 100M", *scale)
		case set["n"] && n != c.pairs:
			return c, fmt.Errorf("-scale %s and -n %d disagree", *scale, c.pairs)
		}
		c.pairs = n
	}
	if !set["domains"] {
		c.domains = min(max(c.pairs/10, 2000), 1_000_000)
	}
	if !set["verps"] {
		c.verps = max(c.pairs/100, 10)
	}
	if !set["stream-n"] {
		c.streamN = min(max(c.pairs/10, 10_000), 1_000_000)
	}
	return c, c.validate()
}

// validate rejects settings the run cannot honour.
func (c config) validate() error {
	var errs []string
	check := func(bad bool, msg string) {
		if bad {
			errs = append(errs, msg)
		}
	}
	check(c.pairs < 100, "-n must be at least 100")
	check(c.relays < 10, "-relays must be at least 10")
	check(c.groups < 0 || c.groups > 65536, "-groups must be 0 to 65536 (they live in 10.0.0.0/8)")
	check(c.groupShare < 0 || c.groupShare > 1, "-group-share must be 0 to 1")
	check(c.domainShare < 0 || c.domainShare > 1, "-domain-share must be 0 to 1")
	check(c.domains < 2, "-domains must be at least 2")
	check(c.verps < 1, "-verps must be at least 1")
	check(c.voters != 1 && c.voters != 3, "-voters must be 1 or 3")
	check(c.batch < 1, "-batch must be at least 1")
	check(c.samples < 1, "-samples must be at least 1")
	check(c.queries < 10, "-queries must be at least 10")
	check(c.load.Duration < time.Second, "-duration must be at least 1s")
	check(c.probeRate < 1 || c.probeRate > 10_000, "-probe-rate must be 1 to 10000")
	check(c.probeIdle < time.Second, "-probe-idle must be at least 1s")
	check(c.streamN < 1, "-stream-n must be at least 1")
	check(c.sweep < 0, "-sweep must not be negative")
	check(c.sweep > 0 && c.voters != 1, "-sweep needs -voters 1 (it times the restarted node's own sweeps)")
	for _, kv := range c.nodeEnv {
		k, _, ok := strings.Cut(kv, "=")
		check(!ok || k == "", fmt.Sprintf("-node-env %q: want KEY=VALUE", kv))
	}
	check(c.estBytes < 1 || c.estDisk < 1 || c.minFree < 0, "-est-bytes and -est-disk must be positive, -min-free not negative")
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// records is every record the main import writes.
func (c config) records() int { return c.groups + c.relays + c.pairs + c.verps }
