package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// perfResult is what one dnsperf run reported, plus the server's CPU.
type perfResult struct {
	Sent, Completed, Lost uint64
	// Rcodes counts responses by rcode name (NOERROR, NXDOMAIN, …).
	Rcodes  map[string]uint64
	QPS     float64
	LatMs   float64
	RunSecs float64
	// SrvCPU is the server tree's CPU seconds during the run.
	SrvCPU float64
}

// answered is the number of responses of any rcode.
func (p perfResult) answered() uint64 {
	var n uint64
	for _, v := range p.Rcodes {
		n += v
	}
	return n
}

// cpuPerQuery is the server's CPU µs per answered query.
func (p perfResult) cpuPerQuery() float64 {
	if p.answered() == 0 {
		return 0
	}
	return p.SrvCPU * 1e6 / float64(p.answered())
}

// share is the percentage of answers with rcode.
func (p perfResult) share(rcode string) float64 {
	if p.answered() == 0 {
		return 0
	}
	return 100 * float64(p.Rcodes[rcode]) / float64(p.answered())
}

// dnsperfArgs builds dnsperf's command line; pinned runs it on CPU 0.
func dnsperfArgs(c config, server, port, queries string, pinned bool) []string {
	args := []string{"dnsperf", "-s", server, "-p", port, "-d", queries,
		"-c", strconv.Itoa(c.Clients), "-T", strconv.Itoa(c.Threads),
		"-q", strconv.Itoa(c.Outstanding), "-l", strconv.Itoa(int(c.Duration.Seconds())),
		"-t", "2"}
	if pinned {
		args = append([]string{"taskset", "-c", "0"}, args...)
	}
	return args
}

// runDnsperf runs dnsperf against the server at addr, measuring the CPU of
// the process tree rooted at pid around it.
func runDnsperf(ctx context.Context, c config, addr, queries string, pid int, pinned bool) (perfResult, string, error) {
	host, port, _ := strings.Cut(addr, ":")
	argv := dnsperfArgs(c, host, port, queries, pinned)
	ctx, cancel := context.WithTimeout(ctx, c.Duration+60*time.Second)
	defer cancel()
	before := treeCPU(pid)
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	after := treeCPU(pid)
	cmdline := strings.Join(argv, " ")
	if err != nil {
		return perfResult{}, cmdline, fmt.Errorf("running %s: %w\n%s", cmdline, err, out)
	}
	r, err := parseDnsperf(string(out))
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

// parseDnsperf reads dnsperf's statistics block.
func parseDnsperf(out string) (perfResult, error) {
	r := perfResult{Rcodes: map[string]uint64{}}
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
