package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

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
	work := kit.SmokeWorkDir(t, "dnsperf", "rbldnsd", "nsd", "taskset")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := kit.BuildWlns(ctx, work)
	if err != nil {
		t.Fatal(err)
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
		if p.Answered() == 0 || p.QPS <= 0 || p.SrvCPU <= 0 {
			t.Errorf("%s/%s: nothing measured: %+v", r.server, r.zone, p)
		}
		nx := p.Share("NXDOMAIN")
		if r.zone == "relay" && (nx < 17 || nx > 23) {
			t.Errorf("%s relay: NXDOMAIN share %.1f%%, want about 20%%", r.server, nx)
		}
		if r.zone == "sender" && (nx != 0 || p.Share("NOERROR") != 100) {
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
