// Package certfile gives a public listener (the HTTPS API, DNS over TLS) its
// server certificate from a PEM certificate file and key file, and picks up
// a renewed pair from disk without a restart: Watch reloads the files when
// they change, and every new handshake gets the newest valid pair.
//
// It owns loading, checking and swapping the pair. It must not open
// listeners or know which protocol is served; it imports only the standard
// library. (Inter-node mutual TLS has its own CA and rules: clustertls.)
package certfile

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// DefaultReloadEvery is how often Watch looks at the files.
const DefaultReloadEvery = 10 * time.Second

// Cert is a certificate and key loaded from files, safe for concurrent
// handshakes while it reloads.
type Cert struct {
	certFile, keyFile string
	cur               atomic.Pointer[loaded]
}

// loaded is one version of the pair with the file stamps it came from.
type loaded struct {
	cert  *tls.Certificate
	leaf  *x509.Certificate
	stamp stamp
}

// stamp identifies a version of the two files by size and modification
// time: a renewal (new files renamed into place, or rewritten) changes it.
type stamp [2]struct {
	size  int64
	mtime time.Time
}

// Load reads and checks the pair: both files parse, the key matches the
// certificate, and the certificate is valid now.
func Load(certFile, keyFile string) (*Cert, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("loading a TLS certificate: both a certificate file and a key file are needed")
	}
	c := &Cert{certFile: certFile, keyFile: keyFile}
	l, err := c.load(time.Now())
	if err != nil {
		return nil, err
	}
	c.cur.Store(l)
	return c, nil
}

func (c *Cert) load(now time.Time) (*loaded, error) {
	st, err := c.stampNow()
	if err != nil {
		return nil, err
	}
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading TLS certificate %s with key %s: %w", c.certFile, c.keyFile, err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parsing TLS certificate %s: %w", c.certFile, err)
		}
	}
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("TLS certificate %s expired at %s", c.certFile, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("TLS certificate %s is not valid before %s", c.certFile, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return &loaded{cert: &pair, leaf: leaf, stamp: st}, nil
}

func (c *Cert) stampNow() (stamp, error) {
	var st stamp
	for i, p := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return stamp{}, fmt.Errorf("checking TLS file: %w", err)
		}
		st[i].size, st[i].mtime = fi.Size(), fi.ModTime()
	}
	return st, nil
}

// Reload loads the files again when they changed since the last load and
// reports whether it replaced the pair. A pair that does not pass Load's
// checks (a half-copied renewal, a key for another certificate) is an error
// and the listener keeps the pair it had; the next call tries again.
func (c *Cert) Reload() (bool, error) {
	st, err := c.stampNow()
	if err != nil {
		return false, fmt.Errorf("reloading TLS certificate (keeping the loaded one): %w", err)
	}
	if st == c.cur.Load().stamp {
		return false, nil
	}
	l, err := c.load(time.Now())
	if err != nil {
		return false, fmt.Errorf("reloading TLS certificate (keeping the loaded one): %w", err)
	}
	c.cur.Store(l)
	return true, nil
}

// NotAfter is when the certificate in use expires.
func (c *Cert) NotAfter() time.Time { return c.cur.Load().leaf.NotAfter }

// ServerConfig is a server configuration that hands out the current pair:
// TLS 1.2 and 1.3 only, Go's default (modern) cipher suites.
func (c *Cert) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load().cert, nil
		},
	}
}

// Watch calls Reload every interval (DefaultReloadEvery when ≤ 0) until
// ctx ends, logging each replacement and each new error once; name says
// which listener the certificate is for.
func (c *Cert) Watch(ctx context.Context, every time.Duration, name string, log *slog.Logger) {
	Poll(ctx, every, c.Reload, func(err error) {
		if err != nil {
			log.Error("TLS certificate not reloaded", "listener", name, "err", err)
			return
		}
		log.Info("TLS certificate reloaded", "listener", name, "cert", c.certFile, "not_after", c.NotAfter())
	})
}

// Poll calls reload every interval (DefaultReloadEvery when ≤ 0) until ctx
// ends. It calls report with nil after each replacement, and with each
// error once: the same error again is not reported until a call succeeds.
func Poll(ctx context.Context, every time.Duration, reload func() (bool, error), report func(error)) {
	if every <= 0 {
		every = DefaultReloadEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	lastErr := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := reload()
		switch {
		case err != nil && err.Error() != lastErr:
			report(err)
		case changed:
			report(nil)
		}
		lastErr = ""
		if err != nil {
			lastErr = err.Error()
		}
	}
}
