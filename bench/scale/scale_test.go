package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/bench/internal/kit"
)

func TestParseFlags_ScalePresetsAndDerivedDefaults(t *testing.T) {
	tests := []struct {
		args                      []string
		pairs, domains, verps, sn int
		err                       string
	}{
		{args: nil, pairs: 1_000_000, domains: 100_000, verps: 10_000, sn: 100_000},
		{args: []string{"-scale", "10M"}, pairs: 10_000_000, domains: 1_000_000, verps: 100_000, sn: 1_000_000},
		{args: []string{"-n", "5000"}, pairs: 5000, domains: 2000, verps: 50, sn: 10_000},
		{args: []string{"-scale", "1M", "-domains", "7", "-verps", "3", "-stream-n", "9"}, pairs: 1_000_000, domains: 7, verps: 3, sn: 9},
		{args: []string{"-scale", "2M"}, err: `-scale "2M"`},
		{args: []string{"-scale", "1M", "-n", "5"}, err: "disagree"},
		{args: []string{"-voters", "2"}, err: "-voters must be 1 or 3"},
		{args: []string{"-voters", "3", "-sweep", "5s"}, err: "-sweep needs -voters 1"},
		{args: []string{"-groups", "70000"}, err: "-groups must be 0 to 65536"},
	}
	for _, tt := range tests {
		c, err := parseFlags(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: error %v, want one containing %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if c.pairs != tt.pairs || c.domains != tt.domains || c.verps != tt.verps || c.streamN != tt.sn {
			t.Errorf("%v: pairs %d domains %d verps %d stream %d, want %d %d %d %d",
				tt.args, c.pairs, c.domains, c.verps, c.streamN, tt.pairs, tt.domains, tt.verps, tt.sn)
		}
	}
}

func TestCheckResources_RefusesWhatTheMachineCannotHold(t *testing.T) {
	c, err := parseFlags([]string{"-scale", "100M"})
	if err != nil {
		t.Fatal(err)
	}
	// 100M pairs at the copy-on-write index's 2 KiB per record is ~190 GiB.
	err = checkResources(c, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), "-est-bytes") {
		t.Fatalf("got %v, want a refusal naming -est-bytes", err)
	}
	c, _ = parseFlags([]string{"-n", "1000", "-relays", "100"})
	if err := checkResources(c, t.TempDir()); err != nil {
		t.Fatalf("a 1,000-pair run was refused: %v", err)
	}
}

// TestDataset_ShapeIsAsDocumented checks the generator keeps its promises:
// same seed same data, local parts of 5–20 characters, the domain and
// group shares, group members disjoint inside 10/8, and samples of every
// kind.
func TestDataset_ShapeIsAsDocumented(t *testing.T) {
	c, err := parseFlags([]string{"-n", "20000", "-relays", "2000", "-groups", "300"})
	if err != nil {
		t.Fatal(err)
	}
	d := newDataset(c)
	if d.pair(123) != newDataset(c).pair(123) {
		t.Fatal("the same seed gave a different pair")
	}
	var domains, grouped int
	for i := range c.pairs {
		p := d.pair(i)
		if p.group >= 0 {
			grouped++
		}
		if p.domain {
			domains++
			continue
		}
		local, _, ok := strings.Cut(p.sender, "@")
		if !ok || len(local) < 5 || len(local) > 20 {
			t.Fatalf("pair %d: sender %q, want a 5–20 character local part", i, p.sender)
		}
	}
	if share := float64(domains) / float64(c.pairs); share < 0.04 || share > 0.06 {
		t.Errorf("domain pairs %.3f of all, want about 0.05", share)
	}
	if share := float64(grouped) / float64(c.pairs); share < 0.08 || share > 0.12 {
		t.Errorf("pairs through groups %.3f of all, want about 0.10", share)
	}
	ten := netip.MustParsePrefix("10.0.0.0/8")
	var seen []netip.Prefix
	for _, ms := range d.groups {
		for _, m := range ms {
			p := netip.MustParsePrefix(m.String())
			if !ten.Overlaps(p) || p.Bits() < 26 || p.Bits() > 29 {
				t.Fatalf("member %v: want a /26–/29 inside 10/8", p)
			}
			for _, q := range seen {
				if q.Overlaps(p) {
					t.Fatalf("members %v and %v overlap", p, q)
				}
			}
			seen = append(seen, p)
		}
	}
	kinds := map[string]int{}
	for _, s := range d.samples(50) {
		kinds[s.kind]++
	}
	for _, k := range []string{"relay", "group", "pair", "domain", "verp"} {
		if kinds[k] != 50 {
			t.Errorf("%d %s samples, want 50 (%v)", kinds[k], k, kinds)
		}
	}
	if kinds["unlisted"] != 12 {
		t.Errorf("%d unlisted samples, want 12", kinds["unlisted"])
	}
}

// TestScale_SmokeRun runs the whole driver on a tiny dataset against the
// real binary, once on three voters with a fresh mirror's catch-up and
// once on one node with expiry sweeps, so that `make bench-scale` cannot
// rot: every sample must answer right after the import, the restart and
// the catch-up, and every figure must be there.
func TestScale_SmokeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four wlns processes and rbldnsd, then two more (about 80 s)")
	}
	work := kit.SmokeWorkDir(t, "dnsperf", "rbldnsd", "taskset")
	bin, err := kit.BuildWlns(context.Background(), work)
	if err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{{"-voters", "3", "-catchup"}, {"-sweep", "1s"}} {
		t.Run(strings.Join(extra, ""), func(t *testing.T) { smokeRun(t, bin, extra) })
	}
}

func smokeRun(t *testing.T, bin string, extra []string) {
	work, out := kit.SmokeWorkDir(t), t.TempDir()
	c, err := parseFlags(append([]string{"-n", "3000", "-relays", "500", "-groups", "20", "-wlns", bin,
		"-duration", "1s", "-queries", "2000", "-probe-idle", "1s", "-probe-rate", "200", "-stream-n", "1000",
		"-settle", "1s", "-samples", "20", "-work", work, "-out", out}, extra...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := run(ctx, c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Dataset.Counts
	if d.Pairs+d.DomainPairs != c.pairs || d.VerpSources != c.verps || d.Registered != c.relays+c.groups {
		t.Errorf("status counts %+v, want %d pairs and domain pairs, %d VERP sources, %d registered", d, c.pairs, c.verps, c.relays+c.groups)
	}
	if l := r.Load; l.RecordsPerS <= 0 || (c.voters > 1) != (l.ReplicatedS > 0) || len(l.ServerCPUS) != c.voters || l.ServerCPUS[0] <= 0 {
		t.Errorf("load on %d voters: %+v", c.voters, l)
	}
	if m := r.Memory; m.SettledRSSMiB <= 0 || m.HeapAllocMiB <= 0 || m.RestartRSSMiB <= 0 || m.RbldnsdRSSMiB <= 0 {
		t.Errorf("memory: %+v", m)
	}
	if r.Start.ServeAllS <= 0 || r.Start.ReadyS <= 0 {
		t.Errorf("start: %+v", r.Start)
	}
	if cu := r.CatchUp; c.catchup && (cu == nil || cu.ServeAllS <= 0) {
		t.Errorf("catch-up: %+v", cu)
	}
	if w := r.Sweep; c.sweep > 0 && (w == nil || w.Sweeps != 3 || w.Expired != 0) {
		t.Errorf("sweep: %+v, want 3 sweeps that expire nothing", w)
	}
	var zones []string
	for _, q := range r.Queries {
		zones = append(zones, q.Server+"/"+q.Zone)
		if q.Answers == 0 || q.CPUUs <= 0 {
			t.Errorf("%s %s: nothing measured: %+v", q.Server, q.Zone, q)
		}
		if q.Zone == "relay" && (q.NXPct < 17 || q.NXPct > 23) {
			t.Errorf("%s relay: NXDOMAIN %.1f%%, want about 20%%", q.Server, q.NXPct)
		}
	}
	if strings.Join(zones, ",") != "rbldnsd/relay,wlns/relay,wlns/sender" || r.QueryRatio["relay"] <= 0 || r.QueryRatio["sender"] <= 0 {
		t.Errorf("queries %v, ratios %v", zones, r.QueryRatio)
	}
	if l := r.Latency; l.Idle.Probes == 0 || l.Idle.Wrong+l.Idle.Lost > 0 || l.Importing.Probes == 0 || l.StreamPerS <= 0 ||
		l.NodeProcs < 3 || l.Idle.NodeP50Ms <= 0 || l.Idle.NodeMaxMs > l.Idle.MaxMs || l.Importing.NodeP99Ms <= 0 || l.IdleLoad == "" {
		t.Errorf("latency: %+v", l)
	}
	files, _ := filepath.Glob(filepath.Join(out, "scale-3k-*.json"))
	if len(files) != 1 {
		t.Fatalf("result files %v, want one scale-3k-*.json", files)
	}
	var back result
	b, _ := os.ReadFile(files[0])
	if err := json.Unmarshal(b, &back); err != nil || back.Load.RecordsPerS != r.Load.RecordsPerS || back.Machine == "" {
		t.Errorf("the JSON result does not read back (%v): %.200s", err, b)
	}
}

func TestCurve_OneRowPerRunBySize(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, n := range []int{10_000_000, 1_000_000} {
		r := result{Dataset: dataStats{Pairs: n, Records: n + 1_020_000}, Commit: "abc"}
		r.Memory.BytesPerRecord = float64(n / 1000)
		b, _ := json.Marshal(&r)
		f := filepath.Join(dir, short(n)+".json")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	var sb strings.Builder
	if err := curve(files, &sb); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(sb.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], "| 1M | 2020000 |") || !strings.HasPrefix(lines[3], "| 10M | 11020000 |") {
		t.Errorf("got\n%s\nwant a header and the 1M row before the 10M row", sb.String())
	}
	if _, err := parseFlags([]string{"-curve"}); err == nil {
		t.Error("-curve without files: no error")
	}
}

func TestSweepCost_CountsOnlyTheSpikeAboveTheMedianRate(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	var marks []cpuAt
	cpu := 0.0
	for i := range 300 { // 30 s at 0.1 CPU-s/s, a 0.5 CPU-s sweep at 10 s and 20 s, a 2 CPU-s GC at 5 s
		switch i {
		case 100, 200:
			cpu += 0.5
		case 50:
			cpu += 2
		}
		cpu += 0.01
		marks = append(marks, cpuAt{t0.Add(time.Duration(i) * 100 * time.Millisecond), cpu})
	}
	base, per := sweepCost(marks, []time.Time{t0.Add(10 * time.Second), t0.Add(20 * time.Second)}, 2*time.Second)
	if base < 0.099 || base > 0.101 || per < 0.499 || per > 0.501 {
		t.Errorf("base %.3f CPU-s/s, %.3f CPU-s per sweep; want 0.1 and 0.5", base, per)
	}
}

// -check asks a running server for the samples of the kinds given: a
// server that knows nothing passes the unlisted ones and fails the rest
// once -start-limit has passed.
func TestCheckServer_AsksTheKindsGiven(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	defer srv.Shutdown()
	for _, tt := range []struct {
		kinds string
		ok    bool
	}{{"unlisted", true}, {"relay,unlisted", false}} {
		c, err := parseFlags([]string{"-n", "1000", "-relays", "100", "-groups", "10", "-samples", "5", "-check", pc.LocalAddr().String(), "-check-kinds", tt.kinds, "-start-limit", "300ms"})
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		err = checkServer(context.Background(), c, &out)
		if (err == nil) != tt.ok {
			t.Errorf("-check-kinds %s: %v (%s), want ok %v", tt.kinds, err, out.String(), tt.ok)
		}
		if tt.ok && !strings.Contains(out.String(), "every one of 1 samples") {
			t.Errorf("-check-kinds %s printed %q", tt.kinds, out.String())
		}
	}
}
