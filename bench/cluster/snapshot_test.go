package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSnapshotMode_SmokeRun runs -mode snapshot on a tiny cluster (real
// wlns processes on loopback), so that `make bench-cluster` cannot rot: the
// third node must get the leader's snapshot, not the log, and every window
// must have committed writes and answered probes.
func TestSnapshotMode_SmokeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three wlns processes and commits ~11,000 writes (about 30 s)")
	}
	c, err := parseFlags([]string{"-mode", "snapshot", "-n", "2000", "-relays", "100",
		"-writers", "4", "-baseline", "2s", "-after", "2s", "-probe-rate", "50", "-out", ""})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	r, err := measureSnapshot(ctx, c, t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if r.restored == 0 || r.restoredSerial == 0 || r.snapBytes == 0 {
		t.Errorf("the new node restored no snapshot (restored after %v, serial %d, leader's snapshot %d bytes): it must not catch up from the log",
			r.restored, r.restoredSerial, r.snapBytes)
	}
	if r.pairs != c.pairs+c.logPad {
		t.Errorf("filled %d pairs, want %d", r.pairs, c.pairs+c.logPad)
	}
	for _, w := range r.windows {
		ws, ps := statsIn(r.writes, w), statsIn(r.probes, w)
		if w.name == "baseline" || w.name == "after" {
			if ws.n-ws.failed == 0 || ps.n-ps.failed == 0 {
				t.Errorf("%s: %d writes and %d probes answered, want some of each", w.name, ws.n-ws.failed, ps.n-ps.failed)
			}
		}
		if ws.failed > 0 || ps.failed > 0 {
			t.Errorf("%s: %d writes and %d DNS probes failed on a healthy cluster", w.name, ws.failed, ps.failed)
		}
	}
	report := r.render(c)
	for _, want := range []string{"| baseline |", "| after |", "sends its snapshot to n3", "installed the leader's snapshot"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
