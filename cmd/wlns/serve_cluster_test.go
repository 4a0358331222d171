package main

import (
	"strings"
	"testing"
)

func TestServeConfig_ClusterFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // "" means valid
	}{
		{"single node", nil, ""},
		{"join without TLS", []string{"--join", "127.0.0.1:8300", "--join-token", "s"}, "only over mutual TLS"},
		{"token without TLS", []string{"--join-token", "s"}, "--join-token needs --cluster-ca"},
		{"partial TLS", []string{"--cluster-ca", "ca.crt"}, "go together"},
		{"join without token", []string{"--cluster-ca", "a", "--cluster-cert", "b", "--cluster-key", "c", "--join", "127.0.0.1:8300"}, "--join needs --join-token"},
		{"join bad address", []string{"--cluster-ca", "a", "--cluster-cert", "b", "--cluster-key", "c", "--join", "host", "--join-token", "s"}, "want host:port"},
		{"joining node", []string{"--cluster-ca", "a", "--cluster-cert", "b", "--cluster-key", "c", "--join", "127.0.0.1:8300", "--join-token", "s"}, ""},
		{"no voters", []string{"--voters", "0"}, "--voters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serveConfigFor(t, tc.args, tc.want)
		})
	}
}

func TestServe_RefusesJoinWithoutTLS(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "serve", "--data", t.TempDir(), "--join", "127.0.0.1:8300", "--join-token", "s")
	if code != exitUsage || !strings.Contains(stderr, "single-node only") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
