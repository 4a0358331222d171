package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/verify"
)

// verifyOn are the three flags that turn verification on.
var verifyOn = []string{"--verify-url", "https://wl.example.org", "--verify-mail-domain", "wl.example.org", "--verify-relay", "127.0.0.1:25"}

func TestServeConfig_VerifyFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		smtp string // the inbound SMTP address when valid
		err  string // "" means valid
	}{
		{"off by default", nil, "", ""},
		{"on: SMTP on loopback 2525", verifyOn, defaultSMTP, ""},
		{"SMTP on :25", append([]string{"--smtp", ":25"}, verifyOn...), ":25", ""},
		{"SMTP off", append([]string{"--smtp", "off"}, verifyOn...), "", ""},
		{"relay with auth and TLS", append([]string{"--verify-relay-tls", "starttls", "--verify-relay-user", "u", "--verify-relay-password-file", "/p"}, verifyOn...), defaultSMTP, ""},
		{"only the URL", []string{"--verify-url", "https://wl.example.org"}, "", "--verify-mail-domain is required"},
		{"no relay", verifyOn[:4], "", "--verify-relay is required"},
		{"SMTP without verification", []string{"--smtp", ":25"}, "", "--smtp needs verification"},
		{"relay user without verification", []string{"--verify-relay-user", "u"}, "", "--verify-relay-user needs --verify-url"},
		{"URL not http", append([]string{"--verify-url", "wl.example.org"}, verifyOn[2:]...), "", "want an absolute http:// or https:// URL"},
		{"relay without port", append(verifyOn[:4:4], "--verify-relay", "mail.example.org"), "", "--verify-relay \"mail.example.org\": want host:port"},
		{"bad TLS mode", append([]string{"--verify-relay-tls", "ssl"}, verifyOn...), "", "want none, starttls or tls"},
		{"user without password", append([]string{"--verify-relay-user", "u"}, verifyOn...), "", "go together"},
		{"TTL too short", append([]string{"--verify-ttl", "10s"}, verifyOn...), "", "--verify-ttl must be at least 1m"},
		{"bad SMTP address", append([]string{"--smtp", "2525"}, verifyOn...), "", "--smtp \"2525\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if cfg, ok := serveConfigFor(t, tc.args, tc.err); ok && cfg.verify.smtpAddr() != tc.smtp {
				t.Fatalf("inbound SMTP %q, want %q", cfg.verify.smtpAddr(), tc.smtp)
			}
		})
	}
}

func TestVerifyConfig_ServiceConfig(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "relay.password")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := validatedServeConfig(t, append([]string{"--verify-relay-user", "wl", "--verify-relay-password-file", pw,
		"--verify-ttl", "2d", "--verify-require-registered=false", "--verify-limit-sender", "-1",
		"--verify-limit-domain-relay", "20", "--verify-never-challenge", "admin, alerts,"}, verifyOn...)...)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := cfg.verify.serviceConfig()
	if err != nil {
		t.Fatal(err)
	}
	if vc.Relay.Password != "s3cret" || vc.Relay.Username != "wl" {
		t.Errorf("relay credentials %q/%q", vc.Relay.Username, vc.Relay.Password)
	}
	if vc.TTL != 48*time.Hour || !vc.AllowUnregistered || vc.Limits.PerSender != -1 || vc.Limits.PerDomain != verify.DefaultPerDomain ||
		vc.Limits.PerDomainRelay != 20 || !slices.Equal(vc.NeverChallenge, []string{"admin", "alerts"}) {
		t.Errorf("service config %+v", vc)
	}
	for flag, want := range map[string][]string{"": verify.DefaultNeverChallenge, "--verify-never-challenge=": {}} {
		args := verifyOn
		if flag != "" {
			args = append([]string{flag}, verifyOn...)
		}
		c, err := validatedServeConfig(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		if vc, err := c.verify.serviceConfig(); err != nil || vc.NeverChallenge == nil || !slices.Equal(vc.NeverChallenge, want) {
			t.Errorf("%q: never challenge %q (%v), want %q", flag, vc.NeverChallenge, err, want)
		}
	}
	cfg.verify.relayPasswordFile = filepath.Join(t.TempDir(), "missing")
	if _, err := cfg.verify.serviceConfig(); err == nil || !strings.Contains(err.Error(), "reading the relay password") {
		t.Errorf("missing password file: %v", err)
	}
}
