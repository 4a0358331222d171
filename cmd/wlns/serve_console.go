package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/console"
	"github.com/wlns/wlns/expiry"
	"github.com/wlns/wlns/raftstore"
)

// The values of --console-secure-cookies.
const (
	secureAuto   = "auto"
	secureAlways = "always"
	secureTLS    = "tls"
)

// secureCookies reports whether the console marks its cookies Secure on
// plain-HTTP requests too (console.Config.SecureCookies; over TLS it
// always does): always, or auto when the public base URL the sign-in
// links lead to is https:// (the browser reaches the console over TLS,
// which a proxy in front ends).
func secureCookies(mode, baseURL string) (bool, error) {
	switch mode {
	case secureAlways:
		return true, nil
	case secureTLS:
		return false, nil
	case secureAuto:
		return strings.HasPrefix(strings.ToLower(baseURL), "https://"), nil
	}
	return false, fmt.Errorf("--console-secure-cookies %q: want auto, always or tls", mode)
}

// newConsole builds the web console over the store and serves it at
// /console/ beside next; it mails sign-in links through the verification
// relay when verification is on, draws the query rate from reg and shows
// delegations' cuts under the apex with this node's lame check, shares the
// API's suggested groups (sugg), draws the answers the zone counts, asks
// the other members for theirs and answers their asking (nodenet), and
// checks
// relays' reverse DNS through --console-resolver. Its
// token sweep and rate sampling stop with the node.
func (n *node) newConsole(store *raftstore.Store, exp *expiry.Runner, reg prometheus.Gatherer, sc *serveConfig, sugg *admin.SuggestionCache, next http.Handler) (http.Handler, error) {
	cfg := console.Config{NodeID: store.NodeID(), Cluster: clusterAPI{store}, Expiring: exp.Expiring, Gatherer: reg, Suggestions: sugg, SampleEvery: sc.consoleSample,
		Apex: sc.apex, DelegationCheck: n.delegationResult(), Logger: n.log.With("subsystem", "console")}
	if n.answers != nil {
		cfg.Answers = n.answers
	}
	if n.inter != nil {
		cfg.Peers = n.inter
	}
	if sc.consoleResolver != "" {
		cfg.Resolver = console.NewResolver(sc.consoleResolver)
	}
	if n.verify != nil {
		cfg.Mailer, cfg.BaseURL, cfg.Challenger = n.verify.svc, n.verify.svc.BaseURL(), n.verify.svc
	}
	secure, err := secureCookies(sc.consoleSecure, sc.verify.baseURL)
	if err != nil {
		return nil, err
	}
	cfg.SecureCookies = secure
	c, err := console.New(cfg, store)
	if err != nil {
		return nil, fmt.Errorf("building the web console: %w", err)
	}
	if n.inter != nil {
		n.inter.SetStats(c.ServeStats)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go c.Run(ctx)
	n.onStop(func(context.Context) error { cancel(); return nil })
	mux := http.NewServeMux()
	mux.Handle(console.Path, c)
	mux.Handle("/", next)
	return mux, nil
}
