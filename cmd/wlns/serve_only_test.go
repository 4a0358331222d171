package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeConfig_ServeOnlyFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"a prefix and a primary", []string{"--serve-only", "192.0.2.0/24", "--serve-only-primary", "203.0.113.1:5353"}, ""},
		{"several prefixes", []string{"--serve-only", "192.0.2.0/24,2001:db8::/32", "--serve-only-primary", "203.0.113.1:5353"}, ""},
		{"no primary", []string{"--serve-only", "192.0.2.0/24"}, "--serve-only-primary"},
		{"a primary without a port", []string{"--serve-only", "192.0.2.0/24", "--serve-only-primary", "203.0.113.1"}, "want ip:port"},
		{"a prefix that is no cut", []string{"--serve-only", "192.0.2.0/22", "--serve-only-primary", "203.0.113.1:5353"}, "--serve-only \"192.0.2.0/22\""},
		{"a primary without --serve-only", []string{"--serve-only-primary", "203.0.113.1:5353"}, "need --serve-only"},
		{"a cluster member's flags", []string{"--serve-only", "192.0.2.0/24", "--serve-only-primary", "203.0.113.1:5353", "--xfr", "127.0.0.1:5353", "--xfr-allow", "127.0.0.1"}, "no cluster member"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { serveConfigFor(t, tc.args, tc.wantErr) })
	}
}

// TestReadTSIGKeys_ScopedKeys: a key line may end in prefixes (a
// postmaster's key); a bad prefix is refused with its line.
func TestReadTSIGKeys_ScopedKeys(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte("Operator. hmac-sha256 b3BlcmF0b3ItdHNpZy1rZXktc2VjcmV0LXZhbHVl\n"+
		"pm-umkc hmac-sha256 cG9zdG1hc3Rlci1vZi11bWtjLWtleS1zZWNyZXQ= 192.0.2.0/24 2001:db8::1/32 # two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, scopes, err := readTSIGKeys(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys["operator."] == "" || keys["pm-umkc."] == "" {
		t.Errorf("keys %v", keys)
	}
	want := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}
	if got := scopes["pm-umkc."]; len(scopes) != 1 || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("scopes %v, want pm-umkc. %v only", scopes, want)
	}
	for _, c := range []struct{ why, text, want string }{
		{"a scope that is no prefix", "pm hmac-sha256 cG9zdG1hc3Rlci1vZi11bWtjLWtleS1zZWNyZXQ= 192.0.2.0\n", "line 1"},
		// A second line of one name replaced the secret and added its
		// prefixes to the first's: an unscoped key became scoped, or a
		// postmaster's key reached a second prefix.
		{"one name twice", "pm hmac-sha256 cG9zdG1hc3Rlci1vZi11bWtjLWtleS1zZWNyZXQ= 192.0.2.0/24\n" +
			"PM. hmac-sha256 b3BlcmF0b3ItdHNpZy1rZXktc2VjcmV0LXZhbHVl 198.51.100.0/24\n", "line 2"},
	} {
		bad := filepath.Join(dir, "bad")
		if err := os.WriteFile(bad, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readTSIGKeys(bad); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %s", c.why, err, c.want)
		}
	}
}
