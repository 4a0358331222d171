package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPolicyConfig_ChallengeFlags(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "mta.token")
	if err := os.WriteFile(tokenFile, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		api, file string
		enabled   bool
		err       string // "" means valid
	}{
		{"off by default", "", "", false, ""},
		{"on", "http://127.0.0.1:8053", tokenFile, true, ""},
		{"API without token", "http://127.0.0.1:8053", "", false, "--challenge-api needs --challenge-token-file"},
		{"token without API", "", tokenFile, false, "--challenge-token-file needs --challenge-api"},
		{"missing token file", "http://127.0.0.1:8053", filepath.Join(dir, "nope"), false, "reading the challenge token"},
		{"not a URL", "127.0.0.1:8053", tokenFile, false, "want an http:// or https:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := policyConfig{challengeAPI: tc.api, challengeTokenFile: tc.file}
			ch, err := c.challenger(slog.New(slog.DiscardHandler), nil)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one mentioning %q", err, tc.err)
			case tc.err == "" && (ch != nil) != tc.enabled:
				t.Fatalf("challenger built: %v, want %v", ch != nil, tc.enabled)
			}
		})
	}
}
