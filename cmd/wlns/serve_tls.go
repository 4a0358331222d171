package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/certfile"
)

// MetricHTTPCertExpiry is when the HTTPS certificate in use expires.
const MetricHTTPCertExpiry = "wlns_http_tls_cert_expiry_timestamp_seconds"

// MetricDNSCertExpiry is when the DNS-over-TLS certificate in use expires.
const MetricDNSCertExpiry = "wlns_dns_tls_cert_expiry_timestamp_seconds"

// tlsFiles are the certificate and key flags of one TLS listener.
type tlsFiles struct {
	// flag is the flag-name prefix ("http", "dns-tls").
	flag string
	// cert and key are the PEM files; both empty: no TLS.
	cert, key string
}

func (c *tlsFiles) declare(fs *flag.FlagSet, what string) {
	fs.StringVar(&c.cert, c.flag+"-cert", "", "certificate chain (PEM) to serve "+what+" over TLS 1.2/1.3, with --"+c.flag+"-key; a renewed file is picked up within 10 s, no restart")
	fs.StringVar(&c.key, c.flag+"-key", "", "private key (PEM) of --"+c.flag+"-cert")
}

func (c *tlsFiles) validate() []error {
	if (c.cert == "") != (c.key == "") {
		return []error{fmt.Errorf("--%s-cert and --%s-key go together", c.flag, c.flag)}
	}
	return nil
}

// on reports whether the listener serves TLS.
func (c *tlsFiles) on() bool { return c.cert != "" }

// loadCert loads the pair, keeps it reloading from disk until the node stops,
// and exports its expiry as metric.
func (n *node) loadCert(c *tlsFiles, reg prometheus.Registerer, metric string) (*certfile.Cert, error) {
	cert, err := certfile.Load(c.cert, c.key)
	if err != nil {
		return nil, fmt.Errorf("--%s-cert: %w", c.flag, err)
	}
	if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: metric,
		Help: "When the certificate of --" + c.flag + "-cert in use expires, Unix seconds.",
	}, func() float64 { return float64(cert.NotAfter().Unix()) })); err != nil {
		return nil, fmt.Errorf("registering %s: %w", metric, err)
	}
	n.watch(func(ctx context.Context) {
		cert.Watch(ctx, certfile.DefaultReloadEvery, c.flag, n.log.With("component", "tls"))
	})
	return cert, nil
}

// dnsTLSConfig holds the DNS-over-TLS flags.
type dnsTLSConfig struct {
	// listen is the DoT address; empty: off.
	listen string
	files  tlsFiles
}

func (c *dnsTLSConfig) declare(fs *flag.FlagSet) {
	fs.StringVar(&c.listen, "dns-tls", "", "DNS-over-TLS (RFC 7858) listen address, e.g. 192.0.2.53:853, so resolvers can keep sender addresses off the wire (needs --dns-tls-cert and --dns-tls-key; default off)")
	c.files.flag = "dns-tls"
	c.files.declare(fs, "DNS over TLS")
}

func (c *dnsTLSConfig) validate() []error {
	errs := c.files.validate()
	if (c.listen == "") != (c.files.cert == "") {
		errs = append(errs, errors.New("--dns-tls needs --dns-tls-cert and --dns-tls-key, and they need --dns-tls"))
	}
	return errs
}

// zoneTLS returns the DNS server's TLS configuration, nil when DoT is off.
func (n *node) zoneTLS(c *dnsTLSConfig, reg prometheus.Registerer) (*tls.Config, error) {
	if c.listen == "" {
		return nil, nil
	}
	cert, err := n.loadCert(&c.files, reg, MetricDNSCertExpiry)
	if err != nil {
		return nil, err
	}
	return cert.ServerConfig(), nil
}

// listenHTTP opens the HTTP listener: TLS with a reloading certificate
// when configured; plain otherwise, with a warning when the address is
// reachable from other hosts (API tokens and confirmation links would
// cross the network in clear).
func (n *node) listenHTTP(cfg *serveConfig, reg prometheus.Registerer) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.http)
	if err != nil {
		return nil, fmt.Errorf("listening for HTTP: %w", err)
	}
	if !cfg.httpTLS.on() {
		if !loopback(ln.Addr()) {
			n.log.Warn("the HTTP API listens beyond loopback without TLS: tokens and confirmation links cross the network in clear; set --http-cert and --http-key, or put a TLS proxy in front",
				"http", ln.Addr().String())
		}
		return ln, nil
	}
	cert, err := n.loadCert(&cfg.httpTLS, reg, MetricHTTPCertExpiry)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return tls.NewListener(ln, cert.ServerConfig()), nil
}

// loopback reports whether a listen address is reachable from this host
// only.
func loopback(a net.Addr) bool {
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && ap.Addr().IsLoopback()
}

// watch runs f in its own goroutine until the node stops: f must return
// once its context ends.
func (n *node) watch(f func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(ctx)
	}()
	n.onStop(func(context.Context) error {
		cancel()
		<-done
		return nil
	})
}

// addrOrEmpty is a's text, or "" for the zero address (a listener that is
// off).
func addrOrEmpty(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
