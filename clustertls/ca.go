package clustertls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside a CA folder and a node certificate folder.
const (
	CACertFile   = "ca.crt"
	CAKeyFile    = "ca.key"
	NodeCertFile = "node.crt"
	NodeKeyFile  = "node.key"
)

// Validity periods.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	NodeValidity = 2 * 365 * 24 * time.Hour
)

// uriScheme is the scheme of the URI SAN that carries the node ID.
const uriScheme = "wlns-node"

// InitCA creates a new cluster CA (ECDSA P-256, valid ten years) in dir:
// ca.crt (0644) and ca.key (0600). It refuses to overwrite an existing CA.
func InitCA(dir, name string, now time.Time) error {
	if _, err := os.Stat(filepath.Join(dir, CAKeyFile)); err == nil {
		return fmt.Errorf("creating CA: %s already exists", filepath.Join(dir, CAKeyFile))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating CA folder: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating CA key: %w", err)
	}
	if name == "" {
		name = "wlns cluster CA"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"wlns"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("signing CA certificate: %w", err)
	}
	if err := writeKey(filepath.Join(dir, CAKeyFile), key); err != nil {
		return err
	}
	return writeCert(filepath.Join(dir, CACertFile), der)
}

// NodeRequest describes a node certificate to issue.
type NodeRequest struct {
	// NodeID is the node's Raft server ID; it goes into the URI SAN
	// wlns-node:ID and the subject common name.
	NodeID string
	// Hosts are the IP addresses and DNS names peers dial the node at
	// (host:port is accepted; the port is dropped).
	Hosts []string
	// Validity defaults to NodeValidity.
	Validity time.Duration
}

// IssueNode signs a node certificate with the CA in caDir and writes
// node.crt, node.key (0600) and a copy of ca.crt into outDir.
func IssueNode(caDir, outDir string, req NodeRequest, now time.Time) error {
	if err := CheckNodeID(req.NodeID); err != nil {
		return err
	}
	caCert, caKey, err := loadCA(caDir)
	if err != nil {
		return err
	}
	tmpl, err := nodeTemplate(req, now)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating node key: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("signing node certificate: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return fmt.Errorf("creating certificate folder: %w", err)
	}
	if err := writeKey(filepath.Join(outDir, NodeKeyFile), key); err != nil {
		return err
	}
	if err := writeCert(filepath.Join(outDir, NodeCertFile), der); err != nil {
		return err
	}
	return writeCert(filepath.Join(outDir, CACertFile), caCert.Raw)
}

// nodeTemplate builds the certificate template for req.
func nodeTemplate(req NodeRequest, now time.Time) (*x509.Certificate, error) {
	if len(req.Hosts) == 0 {
		return nil, errors.New("a node certificate needs at least one address (--addr)")
	}
	validity := req.Validity
	if validity <= 0 {
		validity = NodeValidity
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: req.NodeID, Organization: []string{"wlns"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{{Scheme: uriScheme, Opaque: req.NodeID}},
	}
	for _, h := range req.Hosts {
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		h = strings.Trim(h, "[]")
		switch ip := net.ParseIP(h); {
		case ip != nil:
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		case h != "":
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return tmpl, nil
}

// CheckNodeID accepts the IDs wlns generates and operators type: letters,
// digits, '.', '-', '_'.
func CheckNodeID(id string) error {
	if id == "" || len(id) > 128 {
		return errors.New("a node ID of 1 to 128 characters is required")
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("node ID %q: only letters, digits, '.', '-' and '_' are allowed", id)
		}
	}
	return nil
}

// NodeID returns the node ID a certificate carries in its wlns-node URI
// SAN, or "" when it has none.
func NodeID(cert *x509.Certificate) string {
	for _, u := range cert.URIs {
		if u.Scheme == uriScheme && u.Opaque != "" {
			return u.Opaque
		}
	}
	return ""
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the runtime treats this as fatal too
	}
	return n
}
