package main

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// gaugeValue reads the one gauge a registry holds.
func gaugeValue(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gathering: %v %v", mfs, err)
	}
	return mfs[0].GetMetric()[0].GetGauge().GetValue()
}

// fakeStaler is a store whose data and staleness a test sets.
type fakeStaler struct {
	data                     bool
	stale, replay, notMember error
}

func (f *fakeStaler) HasData() bool             { return f.data }
func (f *fakeStaler) Stale(time.Duration) error { return f.stale }
func (f *fakeStaler) ReplayPending() error      { return f.replay }
func (f *fakeStaler) NotMember() error          { return f.notMember }

func TestWithdrawal_FollowsDataAndStaleness(t *testing.T) {
	n := &node{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	n.dnsReady.Store(true)
	st := &fakeStaler{}
	reg := prometheus.NewRegistry()
	reg.MustRegister(n.withdraw.gauge())
	steps := []struct {
		name                     string
		data, caught             bool
		stale, replay, notMember error
		want                     string // the reason, "" while serving
	}{
		{"new node without data", false, false, nil, nil, nil, "no data yet"},
		{"new node caught up", false, true, nil, nil, nil, ""},
		{"restarted node with data", true, false, nil, nil, nil, ""},
		{"restarted after a crash", true, false, nil, errors.New("restarted with log entries 5 to 9 past its snapshot"), nil, "past its snapshot"},
		{"caught up after a crash", true, true, nil, errors.New("restarted with log entries 5 to 9 past its snapshot"), nil, ""},
		{"stale", true, true, errors.New("stale: no contact with the leader for 12m3s (limit 10m0s)"), nil, nil, "stale: no contact"},
		{"contact again", true, true, nil, nil, nil, ""},
		{"removed from the cluster", true, true, nil, nil, errors.New("not a cluster member: this node's ID n3"), "not a cluster member"},
		{"removed, restarted", true, false, nil, nil, errors.New("not a cluster member: this node's ID n3"), "not a cluster member"},
	}
	for _, s := range steps {
		st.data, st.stale, st.replay, st.notMember = s.data, s.stale, s.replay, s.notMember
		n.storeReady.Store(s.caught)
		n.withdraw.check(n, st, 10*time.Minute)
		got := n.withdraw.why()
		if s.want == "" && got != "" || s.want != "" && !strings.Contains(got, s.want) {
			t.Fatalf("%s: reason %q, want %q", s.name, got, s.want)
		}
		if n.withdraw.on.Load() != (s.want != "") {
			t.Fatalf("%s: withdrawn = %v", s.name, n.withdraw.on.Load())
		}
		wantGauge := 0.0
		if s.want != "" {
			wantGauge = 1
		}
		if v := gaugeValue(t, reg); v != wantGauge {
			t.Fatalf("%s: wlns_dns_withdrawn = %v, want %v", s.name, v, wantGauge)
		}
		err := n.ready(t.Context())
		if s.want != "" && (err == nil || !strings.Contains(err.Error(), "DNS withdrawn (answering REFUSED): "+got)) {
			t.Fatalf("%s: /readyz says %v", s.name, err)
		}
	}
}
