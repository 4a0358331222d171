package verify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/command"
)

// Metric names, listed in docs/verification.md and docs/api.md.
const (
	MetricChallenges = "wlns_challenges_total"
	MetricLimited    = "wlns_challenges_limited_total"
	MetricMail       = "wlns_challenge_mail_seconds"
)

// limitNames are the values of wlns_challenges_limited_total's limit label.
var limitNames = []string{command.LimitSender, command.LimitDomainRelay, command.LimitDomain, command.LimitRelay}

// Counted outcomes of wlns_challenges_total, besides the Request results.
const (
	countConfirmedLink  = "confirmed_link"
	countConfirmedReply = "confirmed_reply"
	countForgery        = "forgery"
	countList           = "list"
)

// countedOutcomes are pre-created so that every series exists from start.
var countedOutcomes = []string{
	string(Sent), string(Open), string(Listed), string(Refused), string(Limited), string(NoEntity),
	string(SendFailed), countConfirmedLink, countConfirmedReply, countForgery, countList,
}

type metrics struct {
	challenges *prometheus.CounterVec
	limits     *prometheus.CounterVec
	mail       prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		challenges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricChallenges,
			Help: "Challenge requests and answers on this node, by outcome.",
		}, []string{"outcome"}),
		limits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricLimited,
			Help: "Challenge requests this node answered limited, by the rate limit that refused them.",
		}, []string{"limit"}),
		mail: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    MetricMail,
			Help:    "Time to hand one challenge mail to the relay, successful or not.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
	}
	for _, o := range countedOutcomes {
		m.challenges.WithLabelValues(o)
	}
	for _, l := range limitNames {
		m.limits.WithLabelValues(l)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.challenges, m.limits, m.mail} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) count(outcome string) { m.challenges.WithLabelValues(outcome).Inc() }

// limited counts a request refused by limit.
func (m *metrics) limited(limit string) { m.limits.WithLabelValues(limit).Inc() }

func (m *metrics) mailTime(d time.Duration) { m.mail.Observe(d.Seconds()) }
