package clustertls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// ALPN is the protocol name both ends of the inter-node port announce.
const ALPN = "wlns-node/1"

// Files names the PEM files of one node.
type Files struct {
	// CA is the cluster CA certificate every peer must be signed by.
	CA string
	// Cert and Key are this node's certificate and private key.
	Cert, Key string
}

// Configured reports whether any file is set.
func (f Files) Configured() bool { return f.CA != "" || f.Cert != "" || f.Key != "" }

// Identity is a node's loaded TLS material. Reload (reload.go) replaces
// it when the files change; every configuration ServerConfig and
// ClientConfig return afterwards uses the new material, so every new
// connection does.
type Identity struct {
	// NodeID is the node ID in this node's certificate; a reload must keep it.
	NodeID string
	files  Files
	cur    atomic.Pointer[material]
}

// material is one loaded set of files.
type material struct {
	cert  tls.Certificate
	leaf  *x509.Certificate
	pool  *x509.CertPool
	stamp stamp
}

// Load reads and checks a node's files: all three are required, the
// certificate must be signed by the CA and carry a node ID.
func Load(f Files) (*Identity, error) {
	m, id, err := loadMaterial(f)
	if err != nil {
		return nil, err
	}
	ident := &Identity{NodeID: id, files: f}
	ident.cur.Store(m)
	return ident, nil
}

// loadMaterial reads and checks the files and returns them with the node
// ID the certificate carries.
func loadMaterial(f Files) (*material, string, error) {
	if f.CA == "" || f.Cert == "" || f.Key == "" {
		return nil, "", errors.New("cluster TLS needs the CA certificate, the node certificate and its key")
	}
	st, err := stampOf(f)
	if err != nil {
		return nil, "", err
	}
	pemCA, err := os.ReadFile(f.CA)
	if err != nil {
		return nil, "", fmt.Errorf("reading cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemCA) {
		return nil, "", fmt.Errorf("%s holds no PEM certificate", f.CA)
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, "", fmt.Errorf("loading node certificate: %w", err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, "", fmt.Errorf("parsing node certificate: %w", err)
		}
	}
	opts := x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		return nil, "", fmt.Errorf("node certificate %s is not valid under the cluster CA %s: %w", f.Cert, f.CA, err)
	}
	id := NodeID(leaf)
	if id == "" {
		return nil, "", fmt.Errorf("node certificate %s has no %s: URI SAN (issue it with `wlns ca issue`)", f.Cert, uriScheme)
	}
	return &material{cert: cert, leaf: leaf, pool: pool, stamp: st}, id, nil
}

// ServerConfig is the TLS configuration of the inter-node listener: TLS
// 1.3 only, and a client certificate signed by the cluster CA is required.
func (id *Identity) ServerConfig() *tls.Config {
	m := id.cur.Load()
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{m.cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    m.pool,
		NextProtos:   []string{ALPN},
	}
}

// ClientConfig is the TLS configuration for dialing a peer at host: the
// peer's certificate must be signed by the cluster CA and name host (an IP
// SAN for an IP address).
func (id *Identity) ClientConfig(host string) *tls.Config {
	m := id.cur.Load()
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{m.cert},
		RootCAs:      m.pool,
		ServerName:   host,
		NextProtos:   []string{ALPN},
	}
}

// PeerNodeID returns the node ID of the verified peer of a TLS connection,
// or "" when there is none.
func PeerNodeID(cs tls.ConnectionState) string {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return ""
	}
	return NodeID(cs.VerifiedChains[0][0])
}
