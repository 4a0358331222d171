package clustertls

import (
	"crypto/tls"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// servedSerial runs a handshake against srv's current configuration and
// returns the serial number of the certificate the server presented.
func servedSerial(t *testing.T, srv, cli *Identity) *big.Int {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	s := tls.Server(a, srv.ServerConfig())
	c := tls.Client(b, cli.ClientConfig("127.0.0.1"))
	errc := make(chan error, 1)
	go func() { errc <- s.Handshake() }()
	if err := c.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

func leafSerial(t *testing.T, dir string) *big.Int {
	t.Helper()
	c, err := readCert(filepath.Join(dir, NodeCertFile))
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber
}

func TestReload_NewConnectionsPresentTheRotatedCertificate(t *testing.T) {
	ca := initCA(t)
	dir := issue(t, ca, "n1", "127.0.0.1")
	srv, err := Load(files(dir))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := Load(files(issue(t, ca, "n2", "127.0.0.1")))
	if err != nil {
		t.Fatal(err)
	}
	before := leafSerial(t, dir)
	if got := servedSerial(t, srv, cli); got.Cmp(before) != 0 {
		t.Fatalf("served serial %v, want %v", got, before)
	}
	if changed, err := srv.Reload(); changed || err != nil {
		t.Fatalf("reload of unchanged files: changed %v, %v", changed, err)
	}

	time.Sleep(10 * time.Millisecond) // a distinct modification time
	if err := IssueNode(ca, dir, NodeRequest{NodeID: "n1", Hosts: []string{"127.0.0.1"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	after := leafSerial(t, dir)
	if changed, err := srv.Reload(); !changed || err != nil {
		t.Fatalf("reload after rotation: changed %v, %v", changed, err)
	}
	if got := servedSerial(t, srv, cli); got.Cmp(after) != 0 {
		t.Fatalf("after rotation the server presents serial %v, want the new %v (old %v)", got, after, before)
	}
}

func TestReload_BadFilesKeepTheLoadedCertificate(t *testing.T) {
	ca := initCA(t)
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, dir string)
		want  string
	}{
		{"certificate of another node", func(t *testing.T, dir string) {
			if err := IssueNode(ca, dir, NodeRequest{NodeID: "intruder", Hosts: []string{"127.0.0.1"}}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}, `for node "intruder"`},
		{"key of another certificate", func(t *testing.T, dir string) {
			other := issue(t, ca, "n1", "127.0.0.1")
			b, err := os.ReadFile(filepath.Join(other, NodeKeyFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, NodeKeyFile), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "loading node certificate"},
		{"truncated certificate", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, NodeCertFile), []byte("-----BEGIN CERT"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "loading node certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := issue(t, ca, "n1", "127.0.0.1")
			srv, err := Load(files(dir))
			if err != nil {
				t.Fatal(err)
			}
			cli, err := Load(files(issue(t, ca, "n2", "127.0.0.1")))
			if err != nil {
				t.Fatal(err)
			}
			before := leafSerial(t, dir)
			time.Sleep(10 * time.Millisecond)
			tc.spoil(t, dir)
			changed, err := srv.Reload()
			if changed || err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "keeping") {
				t.Fatalf("reload: changed %v, err %v; want an error containing %q", changed, err, tc.want)
			}
			if got := servedSerial(t, srv, cli); got.Cmp(before) != 0 {
				t.Fatalf("after a refused reload the server presents %v, want the old %v", got, before)
			}
		})
	}
}
