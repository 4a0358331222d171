package console

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestQPS_RatePerZoneFromTheQueryCounter(t *testing.T) {
	reg := prometheus.NewRegistry()
	q := prometheus.NewCounterVec(prometheus.CounterOpts{Name: qpsMetric, Help: "test"}, []string{"zone", "result"})
	reg.MustRegister(q)
	s := &qpsSampler{g: reg}
	at := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	step := func(relayListed, relayNX, sender float64) {
		t.Helper()
		q.WithLabelValues("relay", "listed").Add(relayListed)
		q.WithLabelValues("relay", "nxdomain").Add(relayNX)
		q.WithLabelValues("sender", "listed").Add(sender)
		if err := s.sample(at); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Minute)
	}
	step(1000, 0, 0) // the first sample only sets the base
	if s.chart() != nil {
		t.Error("a chart from one sample")
	}
	step(60, 60, 30)
	step(120, 120, 0)
	c := s.chart()
	if c == nil {
		t.Fatal("no chart after three samples")
	}
	got := map[string]float64{}
	for _, l := range c.Lines {
		got[l.Zone] = l.Last
		if n := len(strings.Fields(l.Points)); n != 2 {
			t.Errorf("zone %s has %d points, want 2", l.Zone, n)
		}
	}
	if got["relay"] != 4 || got["sender"] != 0 || got["verp"] != 0 {
		t.Errorf("last rates %v, want relay 4/s (listed and NXDOMAIN summed), sender 0", got)
	}
	if !strings.Contains(c.Summary, "relay 4.0") || c.From != "16:01" {
		t.Errorf("summary %q from %s", c.Summary, c.From)
	}
	for range qpsKeep + 5 {
		step(1, 0, 0)
	}
	if n := len(s.points); n != qpsKeep {
		t.Errorf("%d samples kept, want %d", n, qpsKeep)
	}
}

func TestClusterPage_DrawsTheQueryRateForAdminsOnly(t *testing.T) {
	r := newRig(t)
	reg := prometheus.NewRegistry()
	q := prometheus.NewCounterVec(prometheus.CounterOpts{Name: qpsMetric, Help: "test"}, []string{"zone", "result"})
	reg.MustRegister(q)
	r.c.qps = &qpsSampler{g: reg}
	at := time.Now()
	for i := range 3 {
		q.WithLabelValues("sender", "listed").Add(600)
		if err := r.c.qps.sample(at.Add(time.Duration(i) * time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	cookie, _ := r.signIn(adminSecret)
	w := r.do("GET", "/console/cluster", cookie, nil)
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `<polyline class="zone-sender"`) || !strings.Contains(body, "sender 10.0") {
		t.Errorf("the cluster page lacks the sender zone's 10/s line: %d\n%s", w.Code, body)
	}
	pm, _ := r.signInByLink("192.0.2.4")
	if w := r.do("GET", "/console/cluster", pm, nil); w.Code != 403 {
		t.Errorf("a postmaster on the cluster page: %d, want 403", w.Code)
	}
}
