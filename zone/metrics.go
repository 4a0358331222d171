package zone

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// durationBuckets are the upper bounds of wlns_dns_query_duration_seconds.
var durationBuckets = [...]float64{1e-6, 2.5e-6, 5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 1e-3, 10e-3}

// stats are one reader's counters. Each UDP reader owns one, so the hot path
// adds to cache lines nobody else writes; the collector folds them at scrape
// time.
type stats struct {
	queries   [nZones][nResults]atomic.Uint64
	truncated atomic.Uint64
	buckets   [len(durationBuckets) + 1]atomic.Uint64
	sumNanos  atomic.Uint64
	_         [64]byte // keep neighbouring readers' stats off this cache line
}

func (s *stats) count(o outcome) {
	s.queries[o.zone][o.result].Add(1)
	if o.truncated {
		s.truncated.Add(1)
	}
}

// observe records n queries that took d in all (one batch).
func (s *stats) observe(d time.Duration, n int) {
	if n <= 0 {
		return
	}
	per := d.Seconds() / float64(n)
	i := 0
	for i < len(durationBuckets) && per > durationBuckets[i] {
		i++
	}
	s.buckets[i].Add(uint64(n))
	s.sumNanos.Add(uint64(d.Nanoseconds()))
}

// collector exposes the server's stats as Prometheus metrics.
type collector struct {
	srv *Server

	queries, duration, truncated      *prometheus.Desc
	tcpOpen, tcpAccepted, tcpRejected *prometheus.Desc
	tlsOpen, tlsAccepted, tlsRejected *prometheus.Desc
	rrlLimited                        *prometheus.Desc
	zoneRecords                       *prometheus.Desc
}

func newCollector(s *Server) *collector {
	return &collector{
		srv: s,
		queries: prometheus.NewDesc("wlns_dns_queries_total",
			"DNS queries answered (or dropped), by zone and result.", []string{"zone", "result"}, nil),
		duration: prometheus.NewDesc("wlns_dns_query_duration_seconds",
			"Time to answer a query, from receipt to send (UDP: averaged over each batch).", nil, nil),
		truncated: prometheus.NewDesc("wlns_dns_truncated_total",
			"UDP answers sent truncated (TC) because they did not fit the client's limit.", nil, nil),
		tcpOpen: prometheus.NewDesc("wlns_dns_tcp_connections",
			"TCP connections open now.", nil, nil),
		tcpAccepted: prometheus.NewDesc("wlns_dns_tcp_connections_total",
			"TCP connections accepted.", nil, nil),
		tcpRejected: prometheus.NewDesc("wlns_dns_tcp_rejected_total",
			"TCP connections closed at once because the connection limit was reached.", nil, nil),
		tlsOpen: prometheus.NewDesc("wlns_dns_tls_connections",
			"DNS-over-TLS connections open now.", nil, nil),
		tlsAccepted: prometheus.NewDesc("wlns_dns_tls_connections_total",
			"DNS-over-TLS connections accepted.", nil, nil),
		tlsRejected: prometheus.NewDesc("wlns_dns_tls_rejected_total",
			"DNS-over-TLS connections closed at once because the connection limit was reached.", nil, nil),
		rrlLimited: prometheus.NewDesc("wlns_dns_rrl_limited_total",
			"UDP answers held back by response rate limiting, by kind (answer, nodata, error) and action (dropped, or slipped: sent truncated).",
			[]string{"kind", "action"}, nil),
		zoneRecords: prometheus.NewDesc("wlns_dns_zone_records",
			"The zone's own replicated records, by state: served, or unserved (a name too long under this node's apex).",
			[]string{"state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.queries, c.duration, c.truncated, c.tcpOpen, c.tcpAccepted, c.tcpRejected,
		c.tlsOpen, c.tlsAccepted, c.tlsRejected, c.rrlLimited, c.zoneRecords} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	var q [nZones][nResults]uint64
	var b [len(durationBuckets) + 1]uint64
	var trunc, sum uint64
	for _, s := range c.srv.allStats() {
		for z := range q {
			for r := range q[z] {
				q[z][r] += s.queries[z][r].Load()
			}
		}
		for i := range b {
			b[i] += s.buckets[i].Load()
		}
		trunc += s.truncated.Load()
		sum += s.sumNanos.Load()
	}
	for z := range q {
		for r := range q[z] {
			ch <- prometheus.MustNewConstMetric(c.queries, prometheus.CounterValue, float64(q[z][r]), zoneNames[z], resultNames[r])
		}
	}
	cum := map[float64]uint64{}
	var total uint64
	for i, ub := range durationBuckets {
		total += b[i]
		cum[ub] = total
	}
	total += b[len(durationBuckets)]
	ch <- prometheus.MustNewConstHistogram(c.duration, total, float64(sum)/1e9, cum)
	ch <- prometheus.MustNewConstMetric(c.truncated, prometheus.CounterValue, float64(trunc))
	own := c.srv.resp.own.Load()
	ch <- prometheus.MustNewConstMetric(c.zoneRecords, prometheus.GaugeValue, float64(own.served), "served")
	ch <- prometheus.MustNewConstMetric(c.zoneRecords, prometheus.GaugeValue, float64(own.unserved), "unserved")
	c.conns(ch, &c.srv.tcp, c.tcpOpen, c.tcpAccepted, c.tcpRejected)
	c.conns(ch, &c.srv.tls, c.tlsOpen, c.tlsAccepted, c.tlsRejected)
	if l := c.srv.rrl; l != nil {
		for k := range l.limited {
			for a, action := range []string{"dropped", "slipped"} {
				ch <- prometheus.MustNewConstMetric(c.rrlLimited, prometheus.CounterValue, float64(l.limited[k][a].Load()), rrlKindNames[k], action)
			}
		}
	}
}

// conns sends one listener's connection counts.
func (c *collector) conns(ch chan<- prometheus.Metric, cc *connCounters, open, accepted, rejected *prometheus.Desc) {
	ch <- prometheus.MustNewConstMetric(open, prometheus.GaugeValue, float64(cc.open.Load()))
	ch <- prometheus.MustNewConstMetric(accepted, prometheus.CounterValue, float64(cc.accepted.Load()))
	ch <- prometheus.MustNewConstMetric(rejected, prometheus.CounterValue, float64(cc.rejected.Load()))
}
