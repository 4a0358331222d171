package expiry

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// metricName is STYLE.md's rule: wlns_<subsystem>_<what>_<unit|total>.
var metricName = regexp.MustCompile(`^wlns_expiry_[a-z_]+_(total|seconds|bytes)$`)

func TestMetrics_NamedCountedAndDocumented(t *testing.T) {
	reg := prometheus.NewRegistry()
	n := fixture(t)
	r := runner(t, n, &clock{t: t0.Add(day)}, func(c *Config) { c.Registerer = reg })
	seen(t, n.fsm.Index().Load(), 1, "dave@umkc.edu", t0.Add(day))
	if err := r.Touch(context.Background()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/expiry.md")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if !metricName.MatchString(mf.GetName()) || mf.GetHelp() == "" {
			t.Errorf("metric %q breaks the naming rule or has no help", mf.GetName())
		}
		if !strings.Contains(string(doc), "`"+mf.GetName()+"`") {
			t.Errorf("docs/expiry.md does not list %s", mf.GetName())
		}
		got[mf.GetName()] = mf.GetMetric()[0].GetCounter().GetValue()
	}
	if got["wlns_expiry_touch_batches_total"] != 1 || got["wlns_expiry_touch_bytes_total"] < 40 {
		t.Errorf("after one touch: %v", got)
	}
	// Registering a second runner on the same registry fails cleanly.
	if _, err := New(Config{Index: n.fsm.Index(), Store: n, Registerer: reg}); err == nil {
		t.Error("a second runner registered the same metrics")
	}
}
