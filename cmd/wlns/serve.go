package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wlns/wlns/activity"
	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/delegcheck"
	"github.com/wlns/wlns/expiry"
	"github.com/wlns/wlns/nodenet"
	"github.com/wlns/wlns/raftstore"
)

func serveCommand() *subcommand {
	return &subcommand{
		name: "serve", nargs: [2]int{0, 0},
		summary: "run a node: DNS server, HTTP API and Raft store",
		setup: func(fs *flag.FlagSet) runFunc {
			var cfg serveConfig
			cfg.declare(fs)
			return func(ctx context.Context, e *invocation) error {
				if err := cfg.validate(); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				return serve(ctx, e.cli, &cfg)
			}
		},
	}
}

// node is a running server and what must be closed when it stops, last
// started first.
type node struct {
	log     *slog.Logger
	closers []func(context.Context) error
	// storeReady and dnsReady feed /readyz.
	storeReady, dnsReady atomic.Bool
	// verify is the verification service; nil when it is off.
	verify *verifier
	// store is set once open, for /readyz's reasons.
	store *raftstore.Store
	// withdraw makes DNS answer REFUSED (serve_dns.go).
	withdraw withdrawal
	// deleg checks delegations for lameness; nil when off.
	deleg *delegcheck.Checker
	// answers counts DNS answers per entity and day (serve_activity.go);
	// nil on a read-only node.
	answers *activity.Counter
	// inter is the inter-node port; nil on a single node without
	// cluster TLS.
	inter *nodenet.Net
}

func (n *node) onStop(f func(context.Context) error) { n.closers = append(n.closers, f) }

// serve runs a node until ctx ends (SIGINT, SIGTERM), then shuts it down.
func serve(ctx context.Context, c *cli, cfg *serveConfig) error {
	n := &node{log: newLogger(cfg, c.stderr)}
	setProcs(n.log, cfg.readers)
	start := n.start
	if cfg.only.on() {
		start = n.startServeOnly
	}
	err := start(ctx, c, cfg)
	switch {
	case err == nil:
		<-ctx.Done()
		n.log.Info("shutting down", "timeout", cfg.shutdown)
	case ctx.Err() != nil: // a signal during start-up is a normal stop
		n.log.Info("interrupted during start-up", "err", err)
		err = nil
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdown)
	defer cancel()
	if serr := n.stop(sctx); serr != nil {
		n.log.Error("shutdown", "err", serr)
		err = errors.Join(err, serr)
	}
	if err == nil {
		n.log.Info("stopped")
	}
	return err
}

// start brings the subsystems up in order; whatever started is registered
// for stop even when a later step fails.
func (n *node) start(ctx context.Context, c *cli, cfg *serveConfig) error {
	reg := newRegistry()
	if err := n.startPprof(cfg.pprof); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.data, 0o700); err != nil {
		return fmt.Errorf("creating data folder: %w", err)
	}
	store, err := n.openStore(ctx, cfg, reg, c.stderr)
	if errors.Is(err, raftstore.ErrDamaged) {
		return n.startReadOnly(ctx, cfg, reg, err)
	}
	if err != nil {
		return err
	}
	n.newActivity(store.Index())
	exp, err := n.newExpiry(cfg, store, reg)
	if err != nil {
		return err
	}
	if err := n.newVerify(cfg, store, reg); err != nil {
		return err
	}
	if err := n.newDelegationCheck(cfg, reg); err != nil {
		return err
	}
	httpAddr, err := n.startHTTP(ctx, cfg, store, reg, exp)
	if err != nil {
		return err
	}
	// DNS answers from the local data as soon as the store is open, before
	// a leader is known (withdrawn while there is no data at all).
	dns, err := n.startDNS(ctx, cfg, store, reg)
	if err != nil {
		return err
	}
	xfrAddr, err := n.startXFR(ctx, cfg, dns)
	if err != nil {
		return err
	}
	n.dnsReady.Store(true)
	whoisAddr, err := n.startWhois(&cfg.whois, store.Index(), reg)
	if err != nil {
		return err
	}
	// Join only once the local listeners are up, so that a port clash does
	// not leave a dead member behind.
	if err := n.joinAndCatchUp(ctx, cfg, store); err != nil {
		return err
	}
	n.storeReady.Store(true)
	n.withdraw.check(n, store, cfg.maxStale)
	n.startExpiry(exp)
	n.startDelegationCheck(store)
	n.serveInbound()
	tokenFile, err := ensureAdminToken(ctx, store, cfg.data, c.stderr, n.log, n.watch)
	if err != nil {
		return err
	}
	info := readyInfo{DNSUDP: dns.UDPAddr().String(), DNSTCP: dns.TCPAddr().String(), DNSTLS: addrOrEmpty(dns.TLSAddr()), HTTP: httpAddr, HTTPTLS: cfg.httpTLS.on(),
		Raft: store.Addr(), SMTP: n.verify.smtpAddr(), WHOIS: whoisAddr, TokenFile: tokenFile, XFR: xfrAddr}
	if cfg.readyFile != "" {
		if err := writeReadyFile(cfg.readyFile, &info); err != nil {
			return err
		}
	}
	n.log.Info("ready", "node_id", store.NodeID(), "dns_udp", info.DNSUDP, "dns_tcp", info.DNSTCP,
		"http", info.HTTP, "raft", info.Raft, "apex", cfg.apex)
	return nil
}

// stop closes everything started, last first.
func (n *node) stop(ctx context.Context) error {
	var errs []error
	for i := len(n.closers) - 1; i >= 0; i-- {
		if err := n.closers[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func newLogger(cfg *serveConfig, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.logLevel) // validated
	return newLog(w, level, cfg.logFormat)
}

// newRegistry is the one Prometheus registry every subsystem registers on.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func (n *node) openStore(ctx context.Context, cfg *serveConfig, reg *prometheus.Registry, w io.Writer) (*raftstore.Store, error) {
	cl, err := n.openCluster(cfg, w)
	if err != nil {
		return nil, fmt.Errorf("opening the inter-node port: %w", err)
	}
	nodeID := cfg.nodeID
	if cl.nodeID != "" {
		nodeID = cl.nodeID
	}
	store, err := raftstore.Open(ctx, raftstore.Config{
		Dir: cfg.data, NodeID: nodeID, Bind: cfg.raft, Advertise: cfg.advertise,
		Bootstrap: cfg.bootstrap && cfg.join == "", Logger: n.log, Registerer: reg,
		Net: cl.net, JoinTokenHash: cl.joinHash, Voters: cfg.voters, Profile: cfg.raftProfile,
		PromoteAfter: promoteAfter(cfg.promoteAfter), Replace: cfg.replace, DiskReserve: uint64(cfg.minFreeDisk),
	})
	if err != nil {
		if cl.net != nil {
			cl.net.Close()
		}
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	n.onStop(func(ctx context.Context) error { return within(ctx, "closing the store", store.Close) })
	n.store = store
	n.inter = cl.net
	return store, nil
}

// joinAndCatchUp joins a new node to its cluster (with --join) and waits
// until the store knows a leader and has caught up. A new node gives up
// after --start-timeout, its join included (an unreachable --join target
// is otherwise retried twice a second); a node with data of its own waits
// as long as it takes (it answers DNS from that data meanwhile, and a
// mirror cut off from the others must keep doing so).
func (n *node) joinAndCatchUp(ctx context.Context, cfg *serveConfig, store *raftstore.Store) error {
	sctx, cancel := ctx, context.CancelFunc(func() {})
	if !store.HasData() {
		sctx, cancel = context.WithTimeout(ctx, cfg.startTimeout)
	}
	defer cancel()
	err := n.joinIfNew(sctx, cfg, store)
	if err == nil {
		err = waitStore(sctx, store)
	}
	if err != nil && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (gave up after --start-timeout %v)", err, cfg.startTimeout)
	}
	return err
}

// promoteAfter maps --promote-after to the store's setting, where 0 means
// the default: a flag value of 0 promotes at the first healthy check.
func promoteAfter(d time.Duration) time.Duration {
	if d == 0 {
		return time.Nanosecond
	}
	return d
}

// waitStore waits, until ctx ends, for the store to know a leader and
// catch up.
func waitStore(ctx context.Context, store *raftstore.Store) error {
	if err := store.WaitReady(ctx); err != nil {
		return fmt.Errorf("waiting for the store: %w", err)
	}
	return nil
}

// startHTTP serves the API; /readyz answers 503 until the node is ready.
// The suggested groups' runs end with ctx, and stopping waits for the one
// under way once the HTTP server is shut.
func (n *node) startHTTP(ctx context.Context, cfg *serveConfig, store *raftstore.Store, reg *prometheus.Registry, exp *expiry.Runner) (string, error) {
	api, err := admin.New(admin.Config{
		NodeID: store.NodeID(), Leader: store.Leader, Ready: n.ready, Cluster: clusterAPI{store}, Logger: n.log, Registerer: reg, Gatherer: reg,
		Expiring: exp.Expiring, Verify: n.verify.api(),
		Apex: cfg.apex, DelegationCheck: n.delegationResult(), Context: ctx,
	}, store)
	if err != nil {
		return "", fmt.Errorf("building the HTTP API: %w", err)
	}
	n.onStop(api.SuggestionCache().Wait)
	h, err := n.newConsole(store, exp, reg, cfg, api.SuggestionCache(), n.verify.mount(api))
	if err != nil {
		return "", err
	}
	return n.serveHTTP(cfg, reg, h)
}

// serveHTTP serves h on the --http listener (TLS when configured) until
// the node stops and returns the bound address.
func (n *node) serveHTTP(cfg *serveConfig, reg prometheus.Registerer, h http.Handler) (string, error) {
	ln, err := n.listenHTTP(cfg, reg)
	if err != nil {
		return "", err
	}
	n.log.Info("http server listening", "addr", ln.Addr().String(), "tls", cfg.httpTLS.on())
	srv := admin.NewServer(h, n.log)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("HTTP server stopped", "err", err)
		}
	}()
	n.onStop(func(ctx context.Context) error {
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close() // requests still running (a long import) are cut off
			return fmt.Errorf("shutting down HTTP: %w", err)
		}
		return nil
	})
	return ln.Addr().String(), nil
}

// ready is /readyz: not ready while DNS is not listening or is withdrawn,
// while the disk is full, until the store has caught up once after start,
// and whenever the node knows no leader (it lost its quorum, or an
// election is under way); the reason says which, and whether DNS answers
// meanwhile.
func (n *node) ready(context.Context) error {
	switch {
	case !n.dnsReady.Load():
		return errors.New("DNS server not listening yet")
	case n.withdraw.why() != "":
		return fmt.Errorf("DNS withdrawn (answering REFUSED): %s", n.withdraw.why())
	case n.store != nil && n.store.DiskFull() != nil:
		return fmt.Errorf("%w: this node stores no new log entries, so its answers age; DNS answers from local data meanwhile", n.store.DiskFull())
	case !n.storeReady.Load():
		reason := "waiting for the store"
		if n.store != nil {
			if err := n.store.CaughtUp(); err != nil {
				reason = err.Error()
			}
		}
		return fmt.Errorf("store not caught up: %s; DNS answers from local data meanwhile", reason)
	case n.store != nil && n.noLeader():
		if err := n.store.CaughtUp(); err != nil {
			return fmt.Errorf("store not caught up: %w; DNS answers from local data meanwhile", err)
		}
	}
	return nil
}

// noLeader reports whether the store knows no leader now.
func (n *node) noLeader() bool {
	id, _ := n.store.Leader()
	return id == ""
}

// within runs f but gives up waiting for it when ctx ends, so that a stuck
// subsystem cannot hold the process past the shutdown timeout.
func within(ctx context.Context, what string, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
}
