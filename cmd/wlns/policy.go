package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wlns/wlns/policy"
)

// policyConfig is the configuration of `wlns policy`; every field is a flag,
// also settable as WLNS_<FLAG>.
type policyConfig struct {
	listen                 listFlag
	dns, apex              string
	dnsTimeout, cacheTTL   time.Duration
	dnsAttempts, cacheSize int
	listed, whyURL         string
	reportOnly, failClosed bool
	passNetworks           string
	maxConns               int
	idleTimeout            time.Duration
	// allowFailedProbe starts even when the start-up probe fails;
	// probeInterval is how often the probe runs afterwards.
	allowFailedProbe    bool
	probeInterval       time.Duration
	metrics, readyFile  string
	logLevel, logFormat string
	// challengeAPI and challengeTokenFile turn on challenge requests.
	challengeAPI, challengeTokenFile string
	// challengeCAFile holds extra CAs for an https --challenge-api.
	challengeCAFile string
}

func policyCommand() *subcommand {
	return &subcommand{
		name: "policy", nargs: [2]int{0, 0},
		summary: "run the Postfix policy service (check_policy_service) against a wlns DNS server",
		setup: func(fs *flag.FlagSet) runFunc {
			var c policyConfig
			c.declare(fs)
			return func(ctx context.Context, e *invocation) error { return runPolicy(ctx, e.cli, &c) }
		},
	}
}

func (c *policyConfig) declare(fs *flag.FlagSet) {
	fs.Var(&c.listen, "listen", "listen address: host:port or unix:/path (repeat, or separate with commas; default 127.0.0.1:10040)")
	fs.StringVar(&c.dns, "dns", defaultDNS, "wlns DNS server to ask, host:port")
	fs.StringVar(&c.apex, "apex", defaultApex, "whitelist zone apex")
	fs.DurationVar(&c.dnsTimeout, "dns-timeout", 2*time.Second, "time limit of each DNS attempt")
	fs.IntVar(&c.dnsAttempts, "dns-attempts", 2, "UDP attempts per question before the whitelist counts as unreachable")
	fs.IntVar(&c.cacheSize, "cache-size", 10000, "answers kept in the cache (within their DNS TTLs); -1 disables it")
	fs.DurationVar(&c.cacheTTL, "cache-max-ttl", 5*time.Minute, "longest time an answer is cached, below its DNS TTL")
	fs.StringVar(&c.listed, "listed-action", "DUNNO", "reply for a listed sender: DUNNO, OK or PREPEND (adds an X-Wlns header)")
	fs.StringVar(&c.whyURL, "why-url", "", "URL appended to the 451 text; {sender} and {client} are replaced")
	fs.BoolVar(&c.reportOnly, "report-only", false, "never defer: log and count what would have been deferred")
	fs.BoolVar(&c.failClosed, "fail-closed", false, "answer 451 4.3.0 when the whitelist cannot be asked (default: DUNNO, fail open)")
	fs.StringVar(&c.passNetworks, "pass-networks", "", "client networks that pass without a lookup, e.g. 127.0.0.0/8,::1/128")
	fs.IntVar(&c.maxConns, "max-conns", 512, "most concurrent connections from Postfix; more are closed at once, logged and counted in wlns_policy_connections_refused_total")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 10*time.Minute, "close a connection with no request for this long")
	fs.BoolVar(&c.allowFailedProbe, "allow-failed-probe", false, "start even when the start-up probe of the RFC 5782 test entries fails (logged at ERROR, wlns_policy_probe_ok 0); default: refuse to start")
	fs.DurationVar(&c.probeInterval, "probe-interval", time.Minute, "how often the test entries are probed again while serving (wlns_policy_probe_ok); 0 only probes at start-up")
	fs.StringVar(&c.challengeAPI, "challenge-api", "", "wlns HTTP API base URL (e.g. http://127.0.0.1:8053) to ask for a challenge for each deferred sender (default: none, no sender is challenged)")
	fs.StringVar(&c.challengeTokenFile, "challenge-token-file", "", "file holding the bearer token (mta or admin role) for --challenge-api")
	fs.StringVar(&c.challengeCAFile, "challenge-ca-file", "", "CA certificates (PEM) to trust for an https --challenge-api whose certificate the system does not trust")
	fs.StringVar(&c.metrics, "metrics", "", "HTTP listen address for /metrics (default: none)")
	fs.StringVar(&c.readyFile, "ready-file", "", "write the listen addresses as JSON to this file once serving")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
}

// config turns the flags into a policy.Config.
func (c *policyConfig) config() (policy.Config, error) {
	nets, err := policy.ParseNetworks(c.passNetworks)
	if err != nil {
		return policy.Config{}, &exitError{code: exitUsage, err: err}
	}
	return policy.Config{
		Apex: c.apex, DNSServer: c.dns, DNSTimeout: c.dnsTimeout, DNSAttempts: c.dnsAttempts,
		CacheSize: c.cacheSize, CacheMaxTTL: c.cacheTTL, Listed: c.listed, WhyURL: c.whyURL,
		ReportOnly: c.reportOnly, FailClosed: c.failClosed, PassNetworks: nets,
		MaxConns: c.maxConns, IdleTimeout: c.idleTimeout,
	}, nil
}

// challenger builds the API challenger when --challenge-api is set, or
// returns nil (no challenges).
func (c *policyConfig) challenger(log *slog.Logger, reg prometheus.Registerer) (*policy.APIChallenger, error) {
	if c.challengeAPI == "" {
		if c.challengeTokenFile != "" {
			return nil, usageErrorf("--challenge-token-file needs --challenge-api")
		}
		return nil, nil
	}
	if c.challengeTokenFile == "" {
		return nil, usageErrorf("--challenge-api needs --challenge-token-file")
	}
	b, err := os.ReadFile(c.challengeTokenFile)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("reading the challenge token: %w", err)}
	}
	pool, err := caPool(c.challengeCAFile, "--challenge-ca-file")
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	ch, err := policy.NewAPIChallenger(policy.ChallengerConfig{API: c.challengeAPI, Token: strings.TrimSpace(string(b)), RootCAs: pool}, log, reg)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return ch, nil
}

// policyReady is what --ready-file receives.
type policyReady struct {
	Listen  []string `json:"listen"`
	Metrics string   `json:"metrics,omitempty"`
}

// runPolicy serves until ctx ends.
func runPolicy(ctx context.Context, cl *cli, c *policyConfig) error {
	level, err := parseLevel(c.logLevel)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return usageErrorf("--log-format %q: want text or json", c.logFormat)
	}
	log := newLog(cl.stderr, level, c.logFormat)
	cfg, err := c.config()
	if err != nil {
		return err
	}
	reg := newRegistry()
	ch, err := c.challenger(log, reg)
	if err != nil {
		return err
	}
	if ch != nil {
		cfg.Challenger = ch
	}
	srv, err := policy.New(cfg, log, reg)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	probeOK, err := probeWhitelist(ctx, srv, log, c)
	if err != nil {
		return err
	}
	if len(c.listen) == 0 {
		c.listen = listFlag{"127.0.0.1:10040"}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ready policyReady
	var lns []net.Listener
	for _, a := range c.listen {
		ln, err := policy.Listen(ctx, a)
		if err != nil {
			closePolicyListeners(lns)
			return err
		}
		lns = append(lns, ln)
		ready.Listen = append(ready.Listen, policyListenName(ln))
	}
	var wg sync.WaitGroup
	errc := make(chan error, len(lns)+1)
	if c.metrics != "" {
		addr, err := servePolicyMetrics(ctx, &wg, errc, c.metrics, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		if err != nil {
			closePolicyListeners(lns)
			return err
		}
		ready.Metrics = addr
	}
	for _, ln := range lns {
		wg.Go(func() { errc <- srv.Serve(ctx, ln) })
	}
	if ch != nil {
		wg.Go(func() { ch.Run(ctx) })
	}
	wg.Go(func() { srv.WatchProbe(ctx, c.probeInterval, probeOK) })
	if err := writePolicyReady(c.readyFile, &ready); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	log.Info("policy service ready", "listen", ready.Listen, "dns", c.dns, "apex", c.apex,
		"report_only", c.reportOnly, "fail_closed", c.failClosed, "metrics", ready.Metrics, "challenge_api", c.challengeAPI)
	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	cancel()
	wg.Wait()
	log.Info("policy service stopped")
	return first
}

// probeWhitelist asks the RFC 5782 test entries once before serving: a
// policy service whose whitelist answers them wrongly (a resolver refusing
// it, a wrong apex) would decide every mail without the whitelist. It
// refuses to start then, unless --allow-failed-probe, and reports whether
// the probe passed.
func probeWhitelist(ctx context.Context, srv *policy.Server, log *slog.Logger, c *policyConfig) (bool, error) {
	err := srv.Probe(ctx)
	switch {
	case err == nil:
		return true, nil
	case !c.allowFailedProbe:
		return false, &exitError{code: exitFailure, err: fmt.Errorf("start-up probe of %s failed, not starting (--allow-failed-probe starts anyway): %w", c.dns, err)}
	}
	log.Error("START-UP PROBE FAILED; starting anyway (--allow-failed-probe): decisions do not reflect the whitelist until the probe passes (wlns_policy_probe_ok 0)",
		"dns", c.dns, "apex", c.apex, "err", err)
	return false, nil
}

func policyListenName(ln net.Listener) string {
	if ln.Addr().Network() == "unix" {
		return "unix:" + ln.Addr().String()
	}
	return ln.Addr().String()
}

func closePolicyListeners(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// servePolicyMetrics serves /metrics on addr until ctx ends and returns the bound
// address.
func servePolicyMetrics(ctx context.Context, wg *sync.WaitGroup, errc chan<- error, addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listening for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	wg.Go(func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serving metrics: %w", err)
		}
	})
	wg.Go(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	})
	return ln.Addr().String(), nil
}

func writePolicyReady(path string, r *policyReady) error {
	if path == "" {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding ready file: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'), 0o644)
}
