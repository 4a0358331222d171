package main

import "testing"

// TestProcsFor_ReadersGetPsOfTheirOwn: whatever the CPUs, the bulk stages
// of an import can hold Ps and every DNS reader still finds one idle.
func TestProcsFor_ReadersGetPsOfTheirOwn(t *testing.T) {
	for _, c := range []struct{ cpus, readers, want int }{
		{1, 1, 4},    // one CPU: the import's parse and apply, the GC, the reader
		{2, 1, 4},    // bench-scale's node (--readers 1)
		{2, 2, 5},    // two CPUs, the default readers
		{16, 16, 32}, // many CPUs: a P per CPU and per reader
	} {
		if got := procsFor(c.cpus, c.readers); got != c.want || got-c.readers < bulkStages {
			t.Errorf("procsFor(%d cpus, %d readers) = %d, want %d", c.cpus, c.readers, got, c.want)
		}
	}
}

// TestProcsPlan_KeepsWhatAnOperatorOrAQuotaChose: GOMAXPROCS set in the
// environment, or Go's default lowered by a CPU quota, is kept; otherwise
// the readers (0: one per CPU) get Ps on top.
func TestProcsPlan_KeepsWhatAnOperatorOrAQuotaChose(t *testing.T) {
	for _, c := range []struct {
		name                 string
		env                  string
		procs, ncpu, readers int
		want                 int
		from                 string
	}{
		{"environment", "2", 2, 2, 0, 2, "GOMAXPROCS"},
		{"environment above the CPUs", "8", 8, 2, 1, 8, "GOMAXPROCS"},
		{"quota of 2 on 8 CPUs", "", 2, 8, 0, 2, "cpu quota"},
		{"taskset to one CPU", "", 1, 1, 0, 4, "cpus and dns readers"},
		{"two CPUs, --readers 1", "", 2, 2, 1, 4, "cpus and dns readers"},
		{"eight CPUs, default readers", "", 8, 8, 0, 16, "cpus and dns readers"},
	} {
		got, from := procsPlan(c.env, c.procs, c.ncpu, c.readers)
		if got != c.want || from != c.from {
			t.Errorf("%s: procsPlan = %d (%s), want %d (%s)", c.name, got, from, c.want, c.from)
		}
	}
}
