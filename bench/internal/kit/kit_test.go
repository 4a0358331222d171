package kit

import (
	"slices"
	"testing"
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
	r, err := ParseDnsperf(out)
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
	if got := r.CPUPerQuery(); got < 4.02 || got > 4.03 {
		t.Errorf("CPUPerQuery = %v, want 15 s / 3730615 answers = 4.02 µs", got)
	}
}

func TestParseDnsperf_RejectsTruncatedOutput(t *testing.T) {
	if _, err := ParseDnsperf("Queries sent: 10\n"); err == nil {
		t.Fatal("want an error for output without statistics")
	}
}

func TestGenerateAddrs_DeterministicDistinctAndPublic(t *testing.T) {
	l1, u1 := GenerateAddrs(5000, 7)
	l2, u2 := GenerateAddrs(5000, 7)
	if !slices.Equal(l1, l2) || !slices.Equal(u1, u2) {
		t.Fatal("same seed gave different datasets")
	}
	l3, _ := GenerateAddrs(5000, 8)
	if slices.Equal(l1, l3) {
		t.Fatal("different seeds gave the same dataset")
	}
	seen := map[IP4]bool{}
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
