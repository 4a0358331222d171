package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseDnsperf_ReadsStatistics(t *testing.T) {
	out := `Statistics:

  Queries sent:         3731093
  Queries completed:    3730615 (99.99%)
  Queries lost:         478 (0.01%)

  Response codes:       NOERROR 2984492 (80.00%), NXDOMAIN 746123 (20.00%)
  Average packet size:  request 41, response 103
  Run time (s):         15.000094
  Queries per second:   248706.122906

  Average Latency (s):  0.000766 (min 0.000013, max 0.008823)
`
	r, err := parseDnsperf(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 3731093 || r.Completed != 3730615 || r.Lost != 478 {
		t.Errorf("counts = %d/%d/%d", r.Sent, r.Completed, r.Lost)
	}
	if r.Rcodes["NOERROR"] != 2984492 || r.Rcodes["NXDOMAIN"] != 746123 {
		t.Errorf("rcodes = %v", r.Rcodes)
	}
	if int(r.QPS) != 248706 || r.LatMs < 0.76 || r.LatMs > 0.77 || r.RunSecs < 15 {
		t.Errorf("qps %v lat %v run %v", r.QPS, r.LatMs, r.RunSecs)
	}
	r.SrvCPU = 15
	if got := r.cpuPerQuery(); got < 4.02 || got > 4.03 {
		t.Errorf("cpuPerQuery = %v, want 15 s / 3730615 answers = 4.02 µs", got)
	}
}

func TestParseDnsperf_RejectsTruncatedOutput(t *testing.T) {
	if _, err := parseDnsperf("Queries sent: 10\n"); err == nil {
		t.Fatal("want an error for output without statistics")
	}
}

func TestGenerateAddrs_DeterministicDistinctAndPublic(t *testing.T) {
	l1, u1 := generateAddrs(5000, 7)
	l2, u2 := generateAddrs(5000, 7)
	if !slices.Equal(l1, l2) || !slices.Equal(u1, u2) {
		t.Fatal("same seed gave different datasets")
	}
	l3, _ := generateAddrs(5000, 8)
	if slices.Equal(l1, l3) {
		t.Fatal("different seeds gave the same dataset")
	}
	seen := map[ip4]bool{}
	for _, a := range append(l1, u1...) {
		if seen[a] {
			t.Fatalf("%v drawn twice (listed and unlisted must be disjoint)", a)
		}
		seen[a] = true
		if a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 {
			t.Fatalf("%v is not a public-looking unicast address", a)
		}
	}
	if len(u1) != 1250 {
		t.Errorf("unlisted = %d, want n/4", len(u1))
	}
}

func TestQueryMix_EightyTwentyShuffled(t *testing.T) {
	c := defaultConfig()
	c.Queries = 1000
	mix := queryMix(c, 100, 25)
	hits := 0
	for _, k := range mix {
		if k >= 0 {
			hits++
		}
	}
	if hits != 800 {
		t.Errorf("listed queries = %d of 1000, want 800", hits)
	}
	tail := 0
	for _, k := range mix[800:] {
		if k < 0 {
			tail++
		}
	}
	if tail > 100 {
		t.Errorf("%d of the last 200 queries are unlisted: the mix is not shuffled", tail)
	}
}

func TestParseFlags_QuickKeepsExplicitValues(t *testing.T) {
	tests := []struct {
		args []string
		n    int
		dur  time.Duration
	}{
		{nil, 1_000_000, 15 * time.Second},
		{[]string{"-quick"}, 100_000, 5 * time.Second},
		{[]string{"-quick", "-n", "5000"}, 5000, 5 * time.Second},
		{[]string{"-quick", "-duration", "2s"}, 100_000, 2 * time.Second},
	}
	for _, tt := range tests {
		c, err := parseFlags(tt.args)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if c.N != tt.n || c.Duration != tt.dur {
			t.Errorf("%v: n=%d duration=%v, want %d %v", tt.args, c.N, c.Duration, tt.n, tt.dur)
		}
	}
	if _, err := parseFlags([]string{"-modes", "pinned"}); err == nil {
		t.Error("want an error for an unknown mode")
	}
}

// TestBench_SmokeRun runs the whole driver on a tiny dataset, so `make
// bench` cannot rot: every server loads the data, answers the checks and
// serves dnsperf, and the report is written.
func TestBench_SmokeRun(t *testing.T) {
	for _, tool := range []string{"dnsperf", "rbldnsd", "nsd", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			why := tool + " not found; scripts/test-deps.sh installs it"
			if os.Getenv("CI") == "true" {
				t.Fatal(why)
			}
			t.Skip(why)
		}
	}
	if os.Geteuid() != 0 {
		// rbldnsd must start as root to drop to its own user.
		if os.Getenv("CI") == "true" {
			t.Fatal("the bench smoke run needs root (rbldnsd -u rbldns)")
		}
		t.Skip("the bench smoke run needs root (rbldnsd -u rbldns)")
	}
	work, err := os.MkdirTemp("", "wlns-bench-smoke-") // rbldnsd's user must read it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(work, "wlns")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/wlns/wlns/cmd/wlns")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building wlns: %v\n%s", err, out)
	}
	c := defaultConfig()
	c.N, c.Queries, c.Duration = 2000, 2000, 2*time.Second
	c.Modes = []string{"pin"}
	c.WorkDir, c.OutDir, c.Wlns = filepath.Join(work, "run"), filepath.Join(work, "out"), bin
	rows, err := run(ctx, c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rbldnsd/relay", "nsd/relay", "wlns/relay", "wlns/sender"}
	var got []string
	for _, r := range rows {
		got = append(got, r.server+"/"+r.zone)
		p := r.perf
		if p.answered() == 0 || p.QPS <= 0 || p.SrvCPU <= 0 {
			t.Errorf("%s/%s: nothing measured: %+v", r.server, r.zone, p)
		}
		nx := p.share("NXDOMAIN")
		if r.zone == "relay" && (nx < 17 || nx > 23) {
			t.Errorf("%s relay: NXDOMAIN share %.1f%%, want about 20%%", r.server, nx)
		}
		if r.zone == "sender" && (nx != 0 || p.share("NOERROR") != 100) {
			t.Errorf("wlns sender: rcodes %v, want all NOERROR (listed or NODATA)", p.Rcodes)
		}
		if r.memBefore.RSSMiB <= 0 {
			t.Errorf("%s: no RSS read", r.server)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
	report, err := os.ReadFile(filepath.Join(c.OutDir, "latest.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(report), "| wlns | sender | pin |") {
		t.Errorf("report lacks the wlns sender row:\n%s", report)
	}
}
