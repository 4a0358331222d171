package zone

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/certfile"
	"github.com/wlns/wlns/clustertls"
)

// dotCert issues a server certificate for 127.0.0.1 and returns it loaded,
// with a pool that trusts it.
func dotCert(t *testing.T) (*certfile.Cert, *x509.CertPool) {
	t.Helper()
	caDir, out := filepath.Join(t.TempDir(), "ca"), filepath.Join(t.TempDir(), "srv")
	if err := clustertls.InitCA(caDir, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := clustertls.IssueNode(caDir, out, clustertls.NodeRequest{NodeID: "ns1", Hosts: []string{"127.0.0.1"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	c, err := certfile.Load(filepath.Join(out, "node.crt"), filepath.Join(out, "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(filepath.Join(out, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return c, pool
}

func TestServer_DNSOverTLS(t *testing.T) {
	cert, pool := dotCert(t)
	reg := prometheus.NewRegistry()
	s := startServerConfig(t, Config{Apex: testApex, Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0", TLS: cert.ServerConfig(),
		Readers: 1, NS: []string{"ns1.example.net."}, Registerer: reg}, fixture(t))
	if !s.TLSAddr().IsValid() || s.TLSAddr() == s.TCPAddr() {
		t.Fatalf("TLS address %v (TCP %v)", s.TLSAddr(), s.TCPAddr())
	}

	c, err := tls.Dial("tcp", s.TLSAddr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"dot"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "dot" {
		t.Errorf("ALPN %q, want dot", p)
	}
	checkPipelined(t, c)
	if got := metricValue(t, reg, "wlns_dns_tls_connections_total", ""); got != 1 {
		t.Errorf("wlns_dns_tls_connections_total %v, want 1", got)
	}

	// Plain DNS over TCP to the TLS port gets no answer.
	raw, err := net.DialTimeout("tcp", s.TLSAddr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := raw.Write([]byte{0, 17, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1}); err != nil {
		t.Fatal(err)
	}
	var b [64]byte
	if n, _ := raw.Read(b[:]); n > 2 && b[2] == 0 && b[3] == 1 {
		t.Fatalf("plain DNS on the TLS port got an answer: % x", b[:n])
	}
}

func TestConfig_DNSOverTLSNeedsACertificate(t *testing.T) {
	c := Config{TLSListen: "127.0.0.1:853"}
	if err := c.Validate(); err == nil {
		t.Fatal("DNS over TLS without a certificate validated")
	}
}
