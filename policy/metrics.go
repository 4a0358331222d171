package policy

import "github.com/prometheus/client_golang/prometheus"

// Decision outcomes, the values of the decision label.
const (
	DecisionPass       = "pass"
	DecisionWouldDefer = "would_defer"
	DecisionDefer      = "defer"
	DecisionReject     = "reject"
	DecisionError      = "error"
)

// metrics are the policy service's Prometheus series.
type metrics struct {
	decisions *prometheus.CounterVec
	passes    *prometheus.CounterVec
	lookups   *prometheus.CounterVec
	cacheHits prometheus.Counter
	malformed prometheus.Counter
	conns     prometheus.Gauge
	refused   prometheus.Counter
	probeOK   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wlns_policy_decisions_total",
			Help: "Policy requests answered, by decision: pass, would_defer (report-only), defer, reject (an address no whitelist entry can hold), error (whitelist unreachable).",
		}, []string{"decision"}),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wlns_policy_passes_total",
			Help: "Passed requests by reason: sender, verp, null_sender, role, network, sasl, state, no_client.",
		}, []string{"reason"}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wlns_policy_dns_lookups_total",
			Help: "DNS questions sent to the whitelist, by outcome: listed, not_listed, error.",
		}, []string{"outcome"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wlns_policy_cache_hits_total",
			Help: "Whitelist answers served from the cache without a DNS question.",
		}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wlns_policy_malformed_requests_total",
			Help: "Connections closed without a reply because a request was malformed.",
		}),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wlns_policy_connections",
			Help: "Open connections from Postfix.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wlns_policy_connections_refused_total",
			Help: "Connections closed at once because --max-conns were open.",
		}),
		probeOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wlns_policy_probe_ok",
			Help: "1 when the last probe of the RFC 5782 test entries (127.0.0.2 listed, 127.0.0.1 not) was answered right, 0 when not: the whitelist is then not being checked.",
		}),
	}
	for _, d := range []string{DecisionPass, DecisionWouldDefer, DecisionDefer, DecisionReject, DecisionError} {
		m.decisions.WithLabelValues(d)
	}
	for _, o := range []string{"listed", "not_listed", "error"} {
		m.lookups.WithLabelValues(o)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.decisions, m.passes, m.lookups, m.cacheHits, m.malformed, m.conns, m.refused, m.probeOK} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
