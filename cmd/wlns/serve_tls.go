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

// httpTLSConfig holds serve's HTTPS flags.
type httpTLSConfig struct {
	// cert and key are the PEM files of the HTTP listener's certificate;
	// both empty: plain HTTP.
	cert, key string
}

func (c *httpTLSConfig) declare(fs *flag.FlagSet) {
	fs.StringVar(&c.cert, "http-cert", "", "certificate chain (PEM) to serve the HTTP API and pages over TLS (1.2 and 1.3), with --http-key; a renewed file is picked up within 10 s, no restart (default: plain HTTP, for loopback)")
	fs.StringVar(&c.key, "http-key", "", "private key (PEM) of --http-cert")
}

func (c *httpTLSConfig) validate() []error {
	if (c.cert == "") != (c.key == "") {
		return []error{errors.New("--http-cert and --http-key go together")}
	}
	return nil
}

// on reports whether the HTTP listener serves TLS.
func (c *httpTLSConfig) on() bool { return c.cert != "" }

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
	cert, err := certfile.Load(cfg.httpTLS.cert, cfg.httpTLS.key)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("HTTPS: %w", err)
	}
	if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: MetricHTTPCertExpiry,
		Help: "When the HTTPS certificate in use expires, Unix seconds.",
	}, func() float64 { return float64(cert.NotAfter().Unix()) })); err != nil {
		ln.Close()
		return nil, fmt.Errorf("registering %s: %w", MetricHTTPCertExpiry, err)
	}
	n.watch(func(ctx context.Context) {
		cert.Watch(ctx, certfile.DefaultReloadEvery, "http", n.log.With("component", "https"))
	})
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
