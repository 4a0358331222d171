package expiry

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the touch loop's collectors; the records expired and the
// last sweep time are counted where expire commands apply (raftstore), so
// every node reports them.
type metrics struct {
	batches prometheus.Counter
	bytes   prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wlns_expiry_touch_batches_total",
			Help: "Touch commands this node proposed (reports of records it answered queries for).",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wlns_expiry_touch_bytes_total",
			Help: "Bytes of touch commands (encoded log entries) this node proposed.",
		}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.batches, m.bytes}
}

// register registers the collectors with reg (nil: none).
func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering expiry metrics: %w", err)
		}
	}
	return nil
}
