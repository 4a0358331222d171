package kit

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Load is how dnsperf drives a server: its -c, -T, -q and -l.
type Load struct {
	// Clients, Threads and Outstanding are dnsperf's -c, -T and -q.
	Clients, Threads, Outstanding int
	// Duration is dnsperf's -l.
	Duration time.Duration
}

// PerfResult is what one dnsperf run reported, plus the server's CPU.
type PerfResult struct {
	Sent, Completed, Lost uint64
	// Rcodes counts responses by rcode name (NOERROR, NXDOMAIN, …).
	Rcodes  map[string]uint64
	QPS     float64
	LatMs   float64
	RunSecs float64
	// SrvCPU is the server tree's CPU seconds during the run.
	SrvCPU float64
}

// Answered is the number of responses of any rcode.
func (p PerfResult) Answered() uint64 {
	var n uint64
	for _, v := range p.Rcodes {
		n += v
	}
	return n
}

// CPUPerQuery is the server's CPU µs per answered query.
func (p PerfResult) CPUPerQuery() float64 {
	if p.Answered() == 0 {
		return 0
	}
	return p.SrvCPU * 1e6 / float64(p.Answered())
}

// Share is the percentage of answers with rcode.
func (p PerfResult) Share(rcode string) float64 {
	if p.Answered() == 0 {
		return 0
	}
	return 100 * float64(p.Rcodes[rcode]) / float64(p.Answered())
}

// DnsperfArgs builds dnsperf's command line; pinned runs it on CPU 0.
func DnsperfArgs(c Load, server, port, queries string, pinned bool) []string {
	args := []string{"dnsperf", "-s", server, "-p", port, "-d", queries,
		"-c", strconv.Itoa(c.Clients), "-T", strconv.Itoa(c.Threads),
		"-q", strconv.Itoa(c.Outstanding), "-l", strconv.Itoa(int(c.Duration.Seconds())),
		"-t", "2"}
	if pinned {
		args = append([]string{"taskset", "-c", "0"}, args...)
	}
	return args
}

// RunDnsperf runs dnsperf against the server at addr, measuring the CPU of
// the process tree rooted at pid around it.
func RunDnsperf(ctx context.Context, c Load, addr, queries string, pid int, pinned bool) (PerfResult, string, error) {
	host, port, _ := strings.Cut(addr, ":")
	argv := DnsperfArgs(c, host, port, queries, pinned)
	ctx, cancel := context.WithTimeout(ctx, c.Duration+60*time.Second)
	defer cancel()
	before := TreeCPU(pid)
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	after := TreeCPU(pid)
	cmdline := strings.Join(argv, " ")
	if err != nil {
		return PerfResult{}, cmdline, fmt.Errorf("running %s: %w\n%s", cmdline, err, out)
	}
	r, err := ParseDnsperf(string(out))
	if err != nil {
		return r, cmdline, fmt.Errorf("reading dnsperf output: %w\n%s", err, out)
	}
	r.SrvCPU = after - before
	return r, cmdline, nil
}

var (
	sentRE    = regexp.MustCompile(`Queries sent:\s+(\d+)`)
	doneRE    = regexp.MustCompile(`Queries completed:\s+(\d+)`)
	lostRE    = regexp.MustCompile(`Queries lost:\s+(\d+)`)
	rcodesRE  = regexp.MustCompile(`Response codes:\s+(.*)`)
	rcodeRE   = regexp.MustCompile(`([A-Z]+) (\d+) \(`)
	qpsRE     = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	latencyRE = regexp.MustCompile(`Average Latency \(s\):\s+([0-9.]+)`)
	runRE     = regexp.MustCompile(`Run time \(s\):\s+([0-9.]+)`)
)

// ParseDnsperf reads dnsperf's statistics block.
func ParseDnsperf(out string) (PerfResult, error) {
	r := PerfResult{Rcodes: map[string]uint64{}}
	num := func(re *regexp.Regexp) (float64, error) {
		m := re.FindStringSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("no match for %s", re)
		}
		return strconv.ParseFloat(m[1], 64)
	}
	var err error
	var v [6]float64
	for i, re := range []*regexp.Regexp{sentRE, doneRE, lostRE, qpsRE, latencyRE, runRE} {
		if v[i], err = num(re); err != nil {
			return r, err
		}
	}
	r.Sent, r.Completed, r.Lost = uint64(v[0]), uint64(v[1]), uint64(v[2])
	r.QPS, r.LatMs, r.RunSecs = v[3], v[4]*1000, v[5]
	if m := rcodesRE.FindStringSubmatch(out); m != nil {
		for _, rc := range rcodeRE.FindAllStringSubmatch(m[1], -1) {
			n, _ := strconv.ParseUint(rc[2], 10, 64)
			r.Rcodes[rc[1]] = n
		}
	}
	return r, nil
}
