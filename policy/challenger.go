package policy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ChallengerConfig configures an APIChallenger. Zero fields take the
// defaults named on each.
type ChallengerConfig struct {
	// API is the base URL of a wlns node's HTTP API, for example
	// "http://127.0.0.1:8053". Required.
	API string
	// Token is the bearer token sent with each request (a token with the
	// mta or admin role). Required.
	Token string
	// Timeout bounds each request. Default 10s.
	Timeout time.Duration
	// RootCAs, when set, are the CAs trusted for an https API (a node
	// serving --http-cert from a private CA); nil: the system's.
	RootCAs *x509.CertPool
	// QueueSize is how many deferrals may wait for a request; more are
	// dropped and counted. Default 1024.
	QueueSize int
	// Workers is how many requests run at once. Default 2.
	Workers int
	// DedupFor is how long a (sender, client) pair is not asked about again
	// after a request (per-recipient calls, the MTA's retries). Default 10m.
	DedupFor time.Duration
	// DedupSize bounds how many pairs are remembered. Default 100000.
	DedupSize int
}

// Challenge request outcomes, the values of the outcome label of
// wlns_policy_challenge_requests_total.
const (
	// ChallengeSent: wlns opened a challenge and mails the sender (201).
	ChallengeSent = "sent"
	// ChallengeOpen: a challenge for the pair is already open (200).
	ChallengeOpen = "open"
	// ChallengeListed: the pair is already listed (200).
	ChallengeListed = "listed"
	// ChallengeRefused: wlns refused by policy: unregistered relay,
	// suppressed pair, address never challenged (403, 422).
	ChallengeRefused = "refused"
	// ChallengeLimited: a rate limit was reached (429).
	ChallengeLimited = "limited"
	// ChallengeSendFailed: the challenge is open but its mail did not
	// reach wlns's relay (502); a later request may send it again.
	ChallengeSendFailed = "send_failed"
	// ChallengeUnavailable: wlns cannot take challenges now or is not
	// configured for them (503).
	ChallengeUnavailable = "unavailable"
	// ChallengeError: the request failed (network, timeout, auth, other
	// status).
	ChallengeError = "error"
	// ChallengeDropped: the queue was full; no request was made.
	ChallengeDropped = "dropped"
	// ChallengeDuplicate: the pair was asked about within DedupFor.
	ChallengeDuplicate = "duplicate"
)

var challengeOutcomes = []string{ChallengeSent, ChallengeOpen, ChallengeListed, ChallengeRefused,
	ChallengeLimited, ChallengeSendFailed, ChallengeUnavailable, ChallengeError, ChallengeDropped, ChallengeDuplicate}

// APIChallenger is the Challenger that asks a wlns node, through
// POST /v1/challenges, to challenge a deferred sender. Deferred only
// queues; Run makes the requests. wlns decides whether to mail anyone.
type APIChallenger struct {
	cfg    ChallengerConfig
	url    string
	client *http.Client
	log    *slog.Logger
	queue  chan Deferral
	dedup  *dedup
	out    *prometheus.CounterVec
}

// NewAPIChallenger builds a challenger; its metric is registered with reg
// when reg is not nil. Run must be called for requests to be made.
func NewAPIChallenger(cfg ChallengerConfig, log *slog.Logger, reg prometheus.Registerer) (*APIChallenger, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("challenger configuration: %w", err)
	}
	out := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wlns_policy_challenge_requests_total",
		Help: "Deferrals handed to wlns as challenge requests, by outcome: sent, open, listed, refused, limited, send_failed, unavailable, error, dropped (queue full), duplicate (asked recently).",
	}, []string{"outcome"})
	for _, o := range challengeOutcomes {
		out.WithLabelValues(o)
	}
	if reg != nil {
		if err := reg.Register(out); err != nil {
			return nil, fmt.Errorf("registering challenger metrics: %w", err)
		}
	}
	return &APIChallenger{
		cfg: cfg, url: strings.TrimRight(cfg.API, "/") + "/v1/challenges",
		client: cfg.httpClient(), log: log,
		queue: make(chan Deferral, cfg.QueueSize),
		dedup: newDedup(cfg.DedupFor, cfg.DedupSize, time.Now), out: out,
	}, nil
}

// httpClient is the client of the requests: the configured timeout, and
// RootCAs when set.
func (c ChallengerConfig) httpClient() *http.Client {
	if c.RootCAs == nil {
		return &http.Client{Timeout: c.Timeout}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: c.Timeout, Transport: t}
}

func (c ChallengerConfig) withDefaults() ChallengerConfig {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.DedupFor <= 0 {
		c.DedupFor = 10 * time.Minute
	}
	if c.DedupSize <= 0 {
		c.DedupSize = 100000
	}
	return c
}

func (c *ChallengerConfig) validate() error {
	var errs []error
	if !strings.HasPrefix(c.API, "http://") && !strings.HasPrefix(c.API, "https://") {
		errs = append(errs, fmt.Errorf("challenge API %q: want an http:// or https:// URL", c.API))
	}
	if c.Token == "" {
		errs = append(errs, errors.New("challenge API token is empty"))
	}
	return errors.Join(errs...)
}

// Deferred queues a challenge request for d unless the pair was asked
// about within DedupFor; it never blocks.
func (c *APIChallenger) Deferred(_ context.Context, d Deferral) {
	if !c.dedup.claim(d.Sender, d.Client) {
		c.out.WithLabelValues(ChallengeDuplicate).Inc()
		return
	}
	select {
	case c.queue <- d:
	default:
		c.dedup.forget(d.Sender, d.Client)
		c.out.WithLabelValues(ChallengeDropped).Inc()
		c.log.Warn("challenge queue full, request dropped", slog.Int("queue", cap(c.queue)))
	}
}

// Run makes the queued requests until ctx ends; what is still queued then
// is dropped.
func (c *APIChallenger) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range c.cfg.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case d := <-c.queue:
					c.request(ctx, d)
				}
			}
		})
	}
	wg.Wait()
}

// request asks wlns once and counts and logs the outcome. A failure that
// may pass (network, 5xx) forgets the pair, so the MTA's next retry asks
// again.
func (c *APIChallenger) request(ctx context.Context, d Deferral) {
	outcome, err := c.post(ctx, d)
	c.out.WithLabelValues(outcome).Inc()
	attrs := append(senderAttrs(d.Sender), slog.String("client", d.Client.String()),
		slog.String("outcome", outcome), slog.String("queue_id", d.QueueID))
	switch outcome {
	case ChallengeError, ChallengeUnavailable, ChallengeSendFailed:
		c.dedup.forget(d.Sender, d.Client)
		c.log.LogAttrs(ctx, slog.LevelWarn, "challenge request failed", append(attrs, slog.Any("err", err))...)
	default:
		c.log.LogAttrs(ctx, slog.LevelInfo, "challenge requested", attrs...)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "challenge request detail", slog.String("sender", d.Sender), slog.String("outcome", outcome))
}

// challengeReply is the part of the API's answer the challenger reads.
type challengeReply struct {
	Status string `json:"status"`
	Error  string `json:"error"`
}

// post makes one request and maps the answer to an outcome.
func (c *APIChallenger) post(ctx context.Context, d Deferral) (string, error) {
	body, _ := json.Marshal(map[string]string{"sender": d.Sender, "ip": d.Client.String()})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return ChallengeError, fmt.Errorf("building the challenge request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return ChallengeError, fmt.Errorf("asking %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	var r challengeReply
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&r)
	return outcomeOf(resp.StatusCode, r)
}

// outcomeOf maps the API's status (and, for 200, its status field) to an
// outcome; err says why for the failures.
func outcomeOf(code int, r challengeReply) (string, error) {
	switch code {
	case http.StatusCreated:
		return ChallengeSent, nil
	case http.StatusOK:
		if r.Status == ChallengeListed {
			return ChallengeListed, nil
		}
		return ChallengeOpen, nil
	case http.StatusForbidden, http.StatusUnprocessableEntity:
		return ChallengeRefused, nil
	case http.StatusTooManyRequests:
		return ChallengeLimited, nil
	case http.StatusBadGateway:
		return ChallengeSendFailed, fmt.Errorf("wlns could not hand the challenge mail to its relay: %s", r.Error)
	case http.StatusServiceUnavailable:
		return ChallengeUnavailable, fmt.Errorf("wlns answered 503: %s", r.Error)
	default:
		return ChallengeError, fmt.Errorf("wlns answered %d: %s", code, r.Error)
	}
}

// dedup remembers which (sender, client) pairs were asked about recently.
type dedup struct {
	mu    sync.Mutex
	seen  map[dedupKey]time.Time
	ttl   time.Duration
	limit int
	now   func() time.Time
}

type dedupKey struct {
	sender string
	client netip.Addr
}

func newDedup(ttl time.Duration, limit int, now func() time.Time) *dedup {
	return &dedup{seen: make(map[dedupKey]time.Time), ttl: ttl, limit: limit, now: now}
}

// claim reports whether the pair may be asked about now, and if so
// remembers it. When the table is full of live entries the pair is asked
// about without being remembered (wlns still keeps one challenge per pair).
func (d *dedup) claim(sender string, client netip.Addr) bool {
	k := dedupKey{strings.ToLower(sender), client}
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.seen[k]; ok && now.Sub(t) < d.ttl {
		return false
	}
	if len(d.seen) >= d.limit {
		d.sweep(now)
	}
	if len(d.seen) < d.limit {
		d.seen[k] = now
	}
	return true
}

func (d *dedup) forget(sender string, client netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.seen, dedupKey{strings.ToLower(sender), client})
}

// sweep drops expired entries; the caller holds mu.
func (d *dedup) sweep(now time.Time) {
	for k, t := range d.seen {
		if now.Sub(t) >= d.ttl {
			delete(d.seen, k)
		}
	}
}
