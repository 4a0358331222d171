package certfile

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePair writes a self-signed certificate for name, valid from
// notBefore to notAfter, and its key into dir; it returns the file paths.
func writePair(t *testing.T, dir, name string, notBefore, notAfter time.Time) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	write(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	write(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	return certFile, keyFile
}

// write replaces path the way a renewal tool does: a new file renamed
// into place.
func write(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// servedName is the common name of the certificate a handshake with cfg
// presents.
func servedName(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	c, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.Subject.CommonName
}

func TestLoad_RefusesWhatCannotServe(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	good, goodKey := writePair(t, dir, "a.test", now.Add(-time.Hour), now.Add(time.Hour))
	other := t.TempDir()
	_, otherKey := writePair(t, other, "b.test", now.Add(-time.Hour), now.Add(time.Hour))
	expiredDir := t.TempDir()
	expired, expiredKey := writePair(t, expiredDir, "c.test", now.Add(-2*time.Hour), now.Add(-time.Hour))
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"no key", good, "", "both a certificate file and a key file"},
		{"missing file", filepath.Join(dir, "nope.crt"), goodKey, "nope.crt"},
		{"key of another certificate", good, otherKey, "private key does not match"},
		{"expired", expired, expiredKey, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.cert, tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestReload_RenewedPairIsServedAndABrokenOneIsNot(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	certFile, keyFile := writePair(t, dir, "old.test", now.Add(-time.Hour), now.Add(time.Hour))
	c, err := Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.ServerConfig()
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("minimum version %x, want TLS 1.2", cfg.MinVersion)
	}
	if changed, err := c.Reload(); changed || err != nil {
		t.Fatalf("reload of unchanged files: %v %v", changed, err)
	}

	// A renewal half done: the new certificate is in place, the key not.
	stash := t.TempDir()
	newCert, newKey := writePair(t, stash, "new.test", now.Add(-time.Minute), now.Add(48*time.Hour))
	b, _ := os.ReadFile(newCert)
	write(t, certFile, b)
	if changed, err := c.Reload(); changed || err == nil || !strings.Contains(err.Error(), "keeping the loaded one") {
		t.Fatalf("reload of a mismatched pair: changed %v, err %v", changed, err)
	}
	if got := servedName(t, cfg); got != "old.test" {
		t.Fatalf("after a failed reload the listener serves %q, want old.test", got)
	}

	// The key follows: the next reload takes the pair.
	b, _ = os.ReadFile(newKey)
	write(t, keyFile, b)
	if changed, err := c.Reload(); !changed || err != nil {
		t.Fatalf("reload of the renewed pair: %v %v", changed, err)
	}
	if got := servedName(t, cfg); got != "new.test" {
		t.Fatalf("after the renewal the listener serves %q, want new.test", got)
	}
	if !c.NotAfter().After(now.Add(47 * time.Hour)) {
		t.Errorf("NotAfter %s is the old certificate's", c.NotAfter())
	}
}
