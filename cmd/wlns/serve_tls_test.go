package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/clustertls"
)

// serverCert issues a certificate for 127.0.0.1 from a new CA and returns
// the CA file, the certificate and the key.
func serverCert(t *testing.T) (ca, cert, key string) {
	t.Helper()
	caDir, out := filepath.Join(t.TempDir(), "ca"), filepath.Join(t.TempDir(), "srv")
	if err := clustertls.InitCA(caDir, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := clustertls.IssueNode(caDir, out, clustertls.NodeRequest{NodeID: "web", Hosts: []string{"127.0.0.1"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(out, "ca.crt"), filepath.Join(out, "node.crt"), filepath.Join(out, "node.key")
}

func TestServe_HTTPSWithCertificateFiles(t *testing.T) {
	ca, cert, key := serverCert(t)
	s := startServeWith(t, filepath.Join(t.TempDir(), "data"), "--http-cert", cert, "--http-key", key)
	if !s.ready.HTTPTLS {
		t.Fatal("the ready file does not say the HTTP listener serves TLS")
	}
	base := "https://" + s.ready.HTTP

	// The CLI trusts the server through --ca-file (or WLNS_CA_FILE), and
	// refuses it without.
	env := map[string]string{"WLNS_SERVER": base, "WLNS_TOKEN_FILE": s.ready.TokenFile}
	if code, out, errOut := runCLI(t, env, "pair", "add", "dave@umkc.edu", "192.0.2.4", "--ca-file", ca); code != exitOK || !strings.Contains(out, "dave@umkc.edu") {
		t.Fatalf("pair add over HTTPS: exit %d %s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, env, "pair", "list"); code == exitOK || !strings.Contains(errOut, "certificate") {
		t.Fatalf("pair list without the CA: exit %d %s, want a certificate error", code, errOut)
	}

	// Plain HTTP to the TLS port gets nothing served; TLS below 1.2 is refused.
	if resp, err := http.Get("http://" + s.ready.HTTP + "/healthz"); err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("plain HTTP to the HTTPS port answered 200: %s", body)
		}
	}
	old := &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11} //nolint:gosec // testing the refusal
	if c, err := tls.Dial("tcp", s.ready.HTTP, old); err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}

	// Operators can alert on the certificate's expiry.
	hc, err := httpClient(ca)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), MetricHTTPCertExpiry+" ") {
		t.Fatalf("/metrics has no %s", MetricHTTPCertExpiry)
	}
}

func TestServeConfig_TLSFlagsGoTogether(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--http-cert", "x.crt"}, "--http-cert and --http-key go together"},
		{[]string{"--dns-tls", "127.0.0.1:853"}, "--dns-tls needs --dns-tls-cert and --dns-tls-key"},
		{[]string{"--dns-tls-cert", "x.crt", "--dns-tls-key", "x.key"}, "they need --dns-tls"},
	} {
		code, _, errOut := runCLI(t, nil, append([]string{"serve", "--data", t.TempDir()}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d %s, want %q", tc.args, code, errOut, tc.want)
		}
	}
}
