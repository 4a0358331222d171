package delegcheck

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the checker's Prometheus metrics.
type metrics struct {
	lame   prometheus.Gauge
	checks *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		lame: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wlns_delegation_lame_delegations",
			Help: "Delegations whose last check on this node found a name server that did not answer authoritatively for the cut.",
		}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wlns_delegation_checks_total",
			Help: "Name server addresses checked for delegations, by result (ok, lame).",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.lame, m.checks} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering delegation check metrics: %w", err)
		}
	}
	return m, nil
}

// checked counts one server address check.
func (m *metrics) checked(ok bool) {
	result := "lame"
	if ok {
		result = "ok"
	}
	m.checks.WithLabelValues(result).Inc()
}
