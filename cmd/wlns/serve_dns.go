package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/raftstore"
	"github.com/wlns/wlns/zone"
)

// startDNS starts the DNS server on the store's index at once, before the
// store knows a leader: a mirror restarted while it cannot reach the others
// answers from the data it has. The withdrawal switch (see withdrawal)
// makes it answer REFUSED while it has nothing to serve or is staler than
// --max-stale.
func (n *node) startDNS(ctx context.Context, cfg *serveConfig, store *raftstore.Store, reg *prometheus.Registry) (*zone.Server, error) {
	n.withdraw.check(n, store, cfg.maxStale)
	srv, err := n.serveZone(ctx, cfg, reg, store.Index(), store.NodeID())
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.withdraw.watch(wctx, n, store, cfg.maxStale)
	}()
	n.onStop(func(context.Context) error {
		cancel()
		<-done
		return nil
	})
	return srv, nil
}

// serveZone starts the DNS server on ix, behind the withdrawal switch, and
// registers its shutdown. nodeID is the default NSID ("" when unknown).
func (n *node) serveZone(ctx context.Context, cfg *serveConfig, reg *prometheus.Registry, ix index.Reader, nodeID string) (*zone.Server, error) {
	dot, err := n.zoneTLS(&cfg.dnsTLS, reg)
	if err != nil {
		return nil, err
	}
	cookies, err := cfg.hygiene.cookieSecret(cfg.data)
	if err != nil { // DNS matters more than cookies (a full disk, a damaged folder)
		n.log.Warn("DNS cookies off", "err", err)
	}
	srv, err := zone.New(zone.Config{
		Apex: cfg.apex, Listen: cfg.dns, TLSListen: cfg.dnsTLS.listen, TLS: dot, Readers: cfg.readers,
		RRL: cfg.hygiene.zone(), NSID: cfg.hygiene.nsidFor(nodeID), CookieSecret: cookies, TTL: uint32(cfg.ttl),
		NegativeTTL: uint32(cfg.negTTL), NS: cfg.ns, Hostmaster: cfg.hostmaster,
		Logger: n.log, Registerer: reg, Withdrawn: &n.withdraw.on, Answers: n.answers,
	}, ix)
	if err != nil {
		return nil, fmt.Errorf("building the DNS server: %w", err)
	}
	if err := reg.Register(n.withdraw.gauge()); err != nil {
		return nil, fmt.Errorf("registering wlns_dns_withdrawn: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the DNS server: %w", err)
	}
	n.onStop(func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			return fmt.Errorf("shutting down DNS: %w", err)
		}
		return nil
	})
	return srv, nil
}

// withdrawEvery is how often the withdrawal switch is re-evaluated.
const withdrawEvery = time.Second

// staler is what the withdrawal switch asks the store.
type staler interface {
	// HasData reports whether the node started with data of its own.
	HasData() bool
	// Stale reports why the node is staler than limit, or nil.
	Stale(limit time.Duration) error
	// ReplayPending reports why the node holds less than it had before an
	// unclean stop, or nil.
	ReplayPending() error
	// NotMember reports why the node is not in the cluster it knows (it was
	// removed), or nil.
	NotMember() error
}

// withdrawal is the switch that makes the DNS server refuse every query,
// and why. Until it has caught up once after start, a node withdraws while
// it has no data at all (a new node still joining or installing its first
// snapshot) or holds less than it had before an unclean stop (it would
// answer "not listed" for names it had answered as listed). With
// --max-stale it also withdraws while it is not the leader and has not
// heard from one for longer than that.
type withdrawal struct {
	on     atomic.Bool
	reason atomic.Pointer[string]
}

// why returns the reason DNS is withdrawn, "" when it serves.
func (w *withdrawal) why() string {
	if p := w.reason.Load(); p != nil && w.on.Load() {
		return *p
	}
	return ""
}

// watch re-evaluates the switch until ctx ends.
func (w *withdrawal) watch(ctx context.Context, n *node, store staler, maxStale time.Duration) {
	t := time.NewTicker(withdrawEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.check(n, store, maxStale)
	}
}

// check sets the switch from the store's state and logs each change.
func (w *withdrawal) check(n *node, store staler, maxStale time.Duration) {
	reason := ""
	switch starting := !n.storeReady.Load(); {
	case starting && !store.HasData():
		reason = "no data yet: this node is new and has not caught up with the cluster"
	case starting && store.ReplayPending() != nil:
		reason = store.ReplayPending().Error()
	case store.NotMember() != nil:
		reason = store.NotMember().Error()
	default:
		if err := store.Stale(maxStale); err != nil {
			reason = err.Error()
		}
	}
	was := w.on.Load()
	w.reason.Store(&reason)
	w.on.Store(reason != "")
	switch {
	case reason != "" && !was:
		n.log.Warn("DNS withdrawn: answering REFUSED to every query", "reason", reason)
	case reason == "" && was:
		n.log.Info("DNS answering again")
	}
}

// gauge is wlns_dns_withdrawn.
func (w *withdrawal) gauge() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wlns_dns_withdrawn",
		Help: "1 while this node answers REFUSED to every DNS query (no data yet, or staler than --max-stale), else 0.",
	}, func() float64 {
		if w.on.Load() {
			return 1
		}
		return 0
	})
}
