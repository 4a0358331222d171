package childzone

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts what a serve-only node does; the zone gauges are read at
// scrape time.
type metrics struct {
	n         *Node
	queries   *prometheus.CounterVec
	transfers *prometheus.CounterVec
	notifies  *prometheus.CounterVec
	serial    *prometheus.Desc
	age       *prometheus.Desc
	expired   *prometheus.Desc
}

func newMetrics(n *Node) *metrics {
	return &metrics{n: n,
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wlns_serveonly_queries_total",
			Help: "DNS queries a serve-only node answered, by rcode."}, []string{"rcode"}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wlns_serveonly_refreshes_total",
			Help: "Zone refreshes, by result: ok (transferred), current (the primary's serial was not newer), failed (no primary answered)."}, []string{"result"}),
		notifies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wlns_serveonly_notifies_total",
			Help: "NOTIFYs received, by result: accepted, refused (not a primary, a bad key or a zone not served)."}, []string{"result"}),
		serial: prometheus.NewDesc("wlns_serveonly_zone_serial", "SOA serial of each cut zone served (absent before its first transfer).", []string{"zone"}, nil),
		age: prometheus.NewDesc("wlns_serveonly_zone_age_seconds",
			"Seconds since a primary last answered each zone's SOA.", []string{"zone"}, nil),
		expired: prometheus.NewDesc("wlns_serveonly_zone_expired",
			"1 while a zone is past its SOA expire time without a refresh (answered SERVFAIL), else 0.", []string{"zone"}, nil),
	}
}

func (m *metrics) register(r prometheus.Registerer) error {
	var errs []error
	for _, c := range []prometheus.Collector{m.queries, m.transfers, m.notifies, m} {
		errs = append(errs, r.Register(c))
	}
	return errors.Join(errs...)
}

// Describe implements prometheus.Collector for the zone gauges.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.serial
	ch <- m.age
	ch <- m.expired
}

// Collect implements prometheus.Collector for the zone gauges.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, s := range m.n.slots {
		d := s.cur.Load()
		if d == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(m.serial, prometheus.GaugeValue, float64(d.soa.Serial), s.origin)
		ch <- prometheus.MustNewConstMetric(m.age, prometheus.GaugeValue, m.n.now().Sub(time.Unix(0, s.ok.Load())).Seconds(), s.origin)
		exp := 0.0
		if m.n.expired(s) {
			exp = 1
		}
		ch <- prometheus.MustNewConstMetric(m.expired, prometheus.GaugeValue, exp, s.origin)
	}
}
