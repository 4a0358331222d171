package raftstore

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/fsm"
)

func TestMetrics_SweptCountsByKindAndSweepTime(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	if err := m.register(); err != nil {
		t.Fatal(err)
	}
	m.Swept(t0, fsm.Expired{"pairs": 2, "domain_pairs": 1, "challenges": 3})
	got := gather(t, reg)
	for kind, want := range map[string]float64{"pairs": 2, "domain_pairs": 1, "verp_sources": 0, "relays": 0, "groups": 0, "entities": 0, "challenges": 3} {
		name := `wlns_expiry_records_expired_total{kind="` + kind + `"}`
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	if got := got["wlns_expiry_last_sweep_timestamp_seconds"]; got != t0 {
		t.Errorf("last sweep = %v, want %d", got, t0)
	}
}
