package clustertls

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func files(dir string) Files {
	return Files{CA: filepath.Join(dir, CACertFile), Cert: filepath.Join(dir, NodeCertFile), Key: filepath.Join(dir, NodeKeyFile)}
}

func issue(t *testing.T, caDir, id string, hosts ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), id)
	if err := IssueNode(caDir, out, NodeRequest{NodeID: id, Hosts: hosts}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return out
}

func initCA(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	if err := InitCA(dir, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestIssueNode_CertificateCarriesIDAndAddresses(t *testing.T) {
	ca := initCA(t)
	out := issue(t, ca, "node-1", "127.0.0.1:7000", "[::1]:7000", "mirror1.example.org")
	id, err := Load(files(out))
	if err != nil {
		t.Fatal(err)
	}
	if id.NodeID != "node-1" {
		t.Fatalf("node ID %q", id.NodeID)
	}
	leaf, _ := readCert(filepath.Join(out, NodeCertFile))
	if len(leaf.IPAddresses) != 2 || len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "mirror1.example.org" {
		t.Fatalf("SANs: IPs %v, names %v", leaf.IPAddresses, leaf.DNSNames)
	}
	if d := time.Until(leaf.NotAfter); d < 700*24*time.Hour || d > 731*24*time.Hour {
		t.Fatalf("node certificate valid for %v, want about two years", d)
	}
	for _, p := range []string{filepath.Join(out, NodeKeyFile), filepath.Join(ca, CAKeyFile)} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v %v, want 0600", p, st.Mode().Perm(), err)
		}
	}
}

func TestInitCA_RefusesToOverwrite(t *testing.T) {
	ca := initCA(t)
	if err := InitCA(ca, "", time.Now()); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second InitCA: %v", err)
	}
}

func TestIssueNode_RejectsBadInput(t *testing.T) {
	ca := initCA(t)
	for _, tc := range []struct {
		name string
		req  NodeRequest
	}{
		{"no id", NodeRequest{Hosts: []string{"127.0.0.1"}}},
		{"id with a slash", NodeRequest{NodeID: "a/b", Hosts: []string{"127.0.0.1"}}},
		{"no address", NodeRequest{NodeID: "n1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := IssueNode(ca, t.TempDir(), tc.req, time.Now()); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestLoad_RefusesCertificateOfAnotherCA(t *testing.T) {
	out := issue(t, initCA(t), "n1", "127.0.0.1")
	f := files(out)
	f.CA = filepath.Join(initCA(t), CACertFile)
	if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "not valid under the cluster CA") {
		t.Fatalf("Load with a foreign CA: %v", err)
	}
}

// handshake runs a TLS handshake between a server and a client identity
// and returns the server's view of the client's node ID and both errors.
func handshake(t *testing.T, srv, cli *Identity) (string, error, error) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	s := tls.Server(a, srv.ServerConfig())
	c := tls.Client(b, cli.ClientConfig("127.0.0.1"))
	errc := make(chan error, 1)
	go func() { errc <- c.Handshake(); c.Close() }()
	serr := s.Handshake()
	if serr != nil {
		s.Close()
	}
	cerr := <-errc
	return PeerNodeID(s.ConnectionState()), serr, cerr
}

func TestConfigs_MutualAuthentication(t *testing.T) {
	ca := initCA(t)
	load := func(dir string) *Identity {
		id, err := Load(files(dir))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	srv := load(issue(t, ca, "srv", "127.0.0.1"))
	cli := load(issue(t, ca, "cli", "127.0.0.1"))
	peer, serr, cerr := handshake(t, srv, cli)
	if serr != nil || cerr != nil || peer != "cli" {
		t.Fatalf("same CA: peer %q, server %v, client %v", peer, serr, cerr)
	}
	// A client certificate of another CA is refused by the server.
	other := initCA(t)
	stranger := load(issue(t, other, "x", "127.0.0.1"))
	if _, serr, _ := handshake(t, srv, stranger); serr == nil {
		t.Fatal("server accepted a client certificate of another CA")
	}
	// A server whose certificate does not name the dialed address is refused.
	wrongHost := load(issue(t, ca, "far", "192.0.2.1"))
	if _, _, cerr := handshake(t, wrongHost, cli); cerr == nil {
		t.Fatal("client accepted a server certificate for another address")
	}
}
