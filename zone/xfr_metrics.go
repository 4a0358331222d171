package zone

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// xfrMetrics counts zone transfer out.
type xfrMetrics struct {
	transfers *prometheus.CounterVec
	refused   *prometheus.CounterVec
	notifies  *prometheus.CounterVec
	names     *prometheus.GaugeVec
	gaps      *prometheus.GaugeVec
	build     prometheus.Gauge
}

func newXFRMetrics() *xfrMetrics {
	return &xfrMetrics{
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wlns_xfr_transfers_total",
			Help: "Zone transfers served, by kind: axfr, ixfr (differences), ixfr_full (the journal did not reach back), ixfr_current."}, []string{"kind"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wlns_xfr_refused_total",
			Help: "Transfer-port requests refused or broken off, by reason: acl, tsig, opcode, zone, scope (a postmaster's key asking outside its prefixes), type, udp, starting, too_large, write."}, []string{"reason"}),
		notifies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wlns_xfr_notifies_total",
			Help: "NOTIFY messages to secondaries, by result: ok, failed (no answer after retries or an error rcode)."}, []string{"result"}),
		names: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wlns_xfr_zone_names",
			Help: "Owner names of each transferable zone as last written out."}, []string{"zone"}),
		gaps: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wlns_xfr_zone_gaps",
			Help: "Names where a standard secondary's answer differs from wlns's (see docs/operations.md, Secondaries)."}, []string{"zone"}),
		build: prometheus.NewGauge(prometheus.GaugeOpts{Name: "wlns_xfr_build_seconds",
			Help: "How long writing out the transferable zones took, last time."}),
	}
}

func (m *xfrMetrics) register(r prometheus.Registerer) error {
	var errs []error
	for _, c := range []prometheus.Collector{m.transfers, m.refused, m.notifies, m.names, m.gaps, m.build} {
		errs = append(errs, r.Register(c))
	}
	return errors.Join(errs...)
}

func (m *xfrMetrics) zone(z *xfrZone) {
	m.names.WithLabelValues(z.origin).Set(float64(len(z.recs)))
	m.gaps.WithLabelValues(z.origin).Set(float64(z.gaps))
}

func (m *xfrMetrics) built(d time.Duration) { m.build.Set(d.Seconds()) }
