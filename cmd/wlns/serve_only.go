package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wlns/wlns/childzone"
	"github.com/wlns/wlns/record"
)

// onlyConfig holds the --serve-only flags: a postmaster's node serving
// only the cut zones of its delegated prefixes, a secondary of the
// cluster's transfer port (docs/delegation.md, "A wlns node of your own").
type onlyConfig struct {
	prefixes  listFlag
	primaries listFlag
	keyFile   string
	refresh   time.Duration
	retry     time.Duration
	expire    time.Duration
}

func (c *onlyConfig) declare(fs *flag.FlagSet) {
	fs.Var(&c.prefixes, "serve-only", "`PREFIX` delegated to this node: serve only the zones below its cuts in the relay, sender and VERP trees, pulled from the cluster's transfer port (repeat, or separate with commas); no Raft, no API; see docs/delegation.md")
	fs.Var(&c.primaries, "serve-only-primary", "with --serve-only: the cluster's transfer ports (host:port, their --xfr), tried in order")
	fs.StringVar(&c.keyFile, "serve-only-tsig-key", "", "with --serve-only: `FILE` holding the postmaster's TSIG key, one \"name hmac-sha256 base64-secret\" line, as the cluster's --xfr-tsig-keys has it")
	fs.DurationVar(&c.refresh, "serve-only-refresh", 5*time.Minute, "with --serve-only: the most time between two SOA checks (the SOA's refresh when shorter; NOTIFY checks at once)")
	fs.DurationVar(&c.retry, "serve-only-retry", time.Minute, "with --serve-only: the most time between checks after a failed one")
	fs.DurationVar(&c.expire, "serve-only-expire", 0, "with --serve-only: stop answering (SERVFAIL) a zone not refreshed for this long (default: the SOA's expire, a week)")
}

func (c *onlyConfig) on() bool { return len(c.prefixes) > 0 }

func (c *onlyConfig) validate(cfg *serveConfig) []error {
	if !c.on() {
		if len(c.primaries) > 0 || c.keyFile != "" {
			return []error{errors.New("--serve-only-primary and --serve-only-tsig-key need --serve-only")}
		}
		return nil
	}
	var errs []error
	if _, err := c.parsePrefixes(); err != nil {
		errs = append(errs, err)
	}
	if len(c.primaries) == 0 {
		errs = append(errs, errors.New("--serve-only needs --serve-only-primary: the cluster's transfer port"))
	}
	for _, p := range c.primaries {
		if _, err := netip.ParseAddrPort(p); err != nil {
			errs = append(errs, fmt.Errorf("--serve-only-primary %q: want ip:port", p))
		}
	}
	if cfg.join != "" || cfg.xfr.listen != "" {
		errs = append(errs, errors.New("--serve-only takes no --join nor --xfr: a serve-only node is no cluster member"))
	}
	return errs
}

func (c *onlyConfig) parsePrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.prefixes {
		p, err := netip.ParsePrefix(s)
		if err == nil {
			_, err = record.CutKey(p.Masked())
		}
		if err != nil {
			return nil, fmt.Errorf("--serve-only %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// key reads the postmaster's TSIG key ("" without --serve-only-tsig-key).
func (c *onlyConfig) key() (name, secret string, err error) {
	if c.keyFile == "" {
		return "", "", nil
	}
	keys, _, err := readTSIGKeys(c.keyFile)
	if err != nil {
		return "", "", err
	}
	if len(keys) != 1 {
		return "", "", fmt.Errorf("--serve-only-tsig-key %s: want one key, found %d", c.keyFile, len(keys))
	}
	for name, secret = range keys {
	}
	return name, secret, nil
}

// startServeOnly runs a serve-only node: the cut zones from the data
// folder's copies at once, then from the primaries; DNS on --dns, and
// /metrics, /healthz and /readyz on --http.
func (n *node) startServeOnly(ctx context.Context, _ *cli, cfg *serveConfig) error {
	c := &cfg.only
	prefixes, err := c.parsePrefixes()
	if err != nil {
		return err
	}
	name, secret, err := c.key()
	if err != nil {
		return err
	}
	reg := newRegistry()
	child, err := childzone.New(childzone.Config{Apex: cfg.apex, Prefixes: prefixes, Primaries: c.primaries, KeyName: name, KeySecret: secret,
		Dir: filepath.Join(cfg.data, "zones"), Refresh: c.refresh, Retry: c.retry, Expire: c.expire, Logger: n.log, Registerer: reg})
	if err != nil {
		return fmt.Errorf("serve-only: %w", err)
	}
	udp, tcp, err := n.serveOnlyDNS(cfg.dns, child, name, secret)
	if err != nil {
		return err
	}
	child.Start()
	n.onStop(func(context.Context) error { child.Shutdown(); return nil })
	httpAddr, err := n.serveHTTP(cfg, reg, serveOnlyHandler(reg, child))
	if err != nil {
		return err
	}
	if cfg.readyFile != "" {
		if err := writeReadyFile(cfg.readyFile, &readyInfo{DNSUDP: udp, DNSTCP: tcp, HTTP: httpAddr}); err != nil {
			return err
		}
	}
	n.log.Info("serving only delegated zones", "zones", child.Origins(), "primaries", c.primaries, "dns_udp", udp, "dns_tcp", tcp, "http", httpAddr)
	return nil
}

// serveOnlyDNS answers DNS for the node on addr, UDP and TCP (the same
// port), and returns the bound addresses.
func (n *node) serveOnlyDNS(addr string, h dns.Handler, keyName, secret string) (string, string, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return "", "", fmt.Errorf("serve-only DNS: %w", err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		return "", "", fmt.Errorf("serve-only DNS: %w", err)
	}
	var keys map[string]string
	if keyName != "" {
		keys = map[string]string{keyName: secret}
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h, TsigSecret: keys}, {Listener: ln, Handler: h, TsigSecret: keys}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() {
			if err := s.ActivateAndServe(); err != nil {
				n.log.Error("serve-only DNS listener stopped", "err", err)
			}
		}()
		<-started
		n.onStop(func(ctx context.Context) error { return s.ShutdownContext(ctx) })
	}
	return pc.LocalAddr().String(), ln.Addr().String(), nil
}

// serveOnlyHandler is the HTTP side of a serve-only node.
func serveOnlyHandler(g prometheus.Gatherer, child *childzone.Node) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ok, why := child.Ready(); !ok {
			http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return mux
}
