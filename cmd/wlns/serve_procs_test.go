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
