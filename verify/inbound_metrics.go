package verify

import "github.com/prometheus/client_golang/prometheus"

// Inbound SMTP metric names, listed in docs/verification.md.
const (
	MetricInboundRcpts    = "wlns_inbound_smtp_recipients_total"
	MetricInboundMessages = "wlns_inbound_smtp_messages_total"
	MetricInboundConns    = "wlns_inbound_smtp_connections"
	MetricInboundRefused  = "wlns_inbound_smtp_connections_refused_total"
)

// Results of RCPT, the values of the result label.
const (
	rcptAccepted = "accepted"
	rcptRelay    = "relay_denied"
	rcptUnknown  = "unknown_token"
	// rcptPostmaster is postmaster@MailDomain, forwarded.
	rcptPostmaster = "postmaster"
)

// Outcomes of a message, the values of the outcome label.
const (
	msgConfirmed   = "confirmed"
	msgIgnoredAuto = "ignored_auto"
	msgMalformed   = "malformed"
	msgGone        = "token_gone"
	msgFailed      = "failed"
	msgForwarded   = "forwarded"
	msgLoop        = "loop"
)

type inboundMetrics struct {
	rcpts, messages *prometheus.CounterVec
	conns           prometheus.Gauge
	refused         prometheus.Counter
}

func newInboundMetrics(reg prometheus.Registerer) (*inboundMetrics, error) {
	m := &inboundMetrics{
		rcpts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricInboundRcpts,
			Help: "RCPT commands to the inbound SMTP service, by result: accepted (an open challenge's reply address), postmaster (the mail domain's postmaster, forwarded), relay_denied (another domain), unknown_token (unknown, used or expired, or postmaster without a forward address).",
		}, []string{"result"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricInboundMessages,
			Help: "Messages taken by the inbound SMTP service, by outcome: confirmed (per token), forwarded (postmaster mail), ignored_auto (bounce, auto-reply, list mail: never confirms), malformed, token_gone, loop (postmaster mail already forwarded once, 554), failed (store or relay unavailable, 451).",
		}, []string{"outcome"}),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: MetricInboundConns,
			Help: "Open inbound SMTP connections.",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricInboundRefused,
			Help: "Inbound SMTP connections answered 421 because the connection limit was reached.",
		}),
	}
	for _, r := range []string{rcptAccepted, rcptPostmaster, rcptRelay, rcptUnknown} {
		m.rcpts.WithLabelValues(r)
	}
	for _, o := range []string{msgConfirmed, msgForwarded, msgIgnoredAuto, msgMalformed, msgGone, msgLoop, msgFailed} {
		m.messages.WithLabelValues(o)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.rcpts, m.messages, m.conns, m.refused} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *inboundMetrics) rcpt(result string)     { m.rcpts.WithLabelValues(result).Inc() }
func (m *inboundMetrics) message(outcome string) { m.messages.WithLabelValues(outcome).Inc() }
