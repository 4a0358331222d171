package verify

import (
	"strings"
	"testing"
)

func TestNewToken_Unguessable(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		tok, err := newToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != TokenLen || TokenLen < 26 || strings.Trim(tok, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("token %q: want %d lower-case base32 characters", tok, TokenLen)
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
	if TokenBytes*8 < 128 {
		t.Fatalf("tokens carry %d bits, want at least 128", TokenBytes*8)
	}
}

func TestHashToken_CaseInsensitive(t *testing.T) {
	tok, _ := newToken()
	h := HashToken(tok)
	if len(h) != 64 || h != HashToken(strings.ToUpper(tok)) {
		t.Fatalf("hash %q of %q differs by case or is not hex SHA-256", h, tok)
	}
	for _, bad := range []string{"", tok[1:], tok + "a", tok[:TokenLen-1] + "1", tok[:TokenLen-1] + "/"} {
		if HashToken(bad) != "" {
			t.Errorf("HashToken(%q) accepted a non-token", bad)
		}
	}
}

func TestTokenFromAddress(t *testing.T) {
	e := newEnv(t)
	tok, _ := newToken()
	cases := []struct {
		addr string
		ok   bool
	}{
		{"confirm-" + tok + "@wl.example.org", true},
		{"<CONFIRM-" + strings.ToUpper(tok) + "@WL.Example.ORG>", true},
		{"confirm-" + tok + "@wl.example.org.", true},
		{"confirm-" + tok + "@other.example", false},
		{"confirm-" + tok[1:] + "@wl.example.org", false},
		{tok + "@wl.example.org", false},
		{"postmaster@wl.example.org", false},
		{"confirm-" + tok, false},
	}
	for _, c := range cases {
		got, ok := e.svc.TokenFromAddress(c.addr)
		if ok != c.ok || (ok && got != tok) {
			t.Errorf("TokenFromAddress(%q) = %q, %v; want %v", c.addr, got, ok, c.ok)
		}
	}
	if got, _ := e.svc.TokenFromAddress(e.svc.ReplyAddress(tok)); got != tok {
		t.Errorf("ReplyAddress does not round-trip: %q", got)
	}
}
