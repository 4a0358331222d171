package verify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names, listed in docs/verification.md and docs/api.md.
const (
	MetricChallenges = "wlns_challenges_total"
	MetricMail       = "wlns_challenge_mail_seconds"
)

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
	mail       prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		challenges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricChallenges,
			Help: "Challenge requests and answers on this node, by outcome.",
		}, []string{"outcome"}),
		mail: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    MetricMail,
			Help:    "Time to hand one challenge mail to the relay, successful or not.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
	}
	for _, o := range countedOutcomes {
		m.challenges.WithLabelValues(o)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.challenges, m.mail} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) count(outcome string) { m.challenges.WithLabelValues(outcome).Inc() }

func (m *metrics) mailTime(d time.Duration) { m.mail.Observe(d.Seconds()) }
