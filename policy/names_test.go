package policy

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/wlns/wlns/record"
)

// localParts are the local parts the property test tries: every printable
// ASCII character alone and between two letters, some UTF-8, and random
// strings of both, each kept only when the API accepts the address.
func localParts() []string {
	var out []string
	chars := []string{"é", "ü", "ß", "Ж", "日本", "😀", "\u00a0", "ǅ"}
	for c := byte(0x20); c < 0x7f; c++ {
		chars = append(chars, string(c))
	}
	for _, c := range chars {
		out = append(out, c, "a"+c+"b", c+c+"x")
	}
	rng := rand.New(rand.NewPCG(14, 14))
	for range 300 {
		var b strings.Builder
		for range 1 + rng.IntN(20) {
			b.WriteString(chars[rng.IntN(len(chars))])
		}
		out = append(out, b.String())
	}
	return out
}

// TestServer_ListedSenderPassesWhateverItsSpelling is the property: for
// every local part the API accepts, the policy service builds the sender
// name, asks it, and takes a listed answer as listed, however miekg/dns
// escapes the owner name of the answer (o'brien comes back as o\'brien, a
// space as "\ ", $ bare).
func TestServer_ListedSenderPassesWhateverItsSpelling(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.CacheSize = -1 })
	h.dns.listAll.Store(true)
	cl := dial(t, "tcp", h.addr)
	tried := 0
	for _, local := range localParts() {
		sender := local + "@irish.example"
		if n, err := record.NormalizeSender(sender); err != nil || !strings.Contains(n, "@") {
			continue // refused, or (blank local part) a domain-wide entry
		}
		tried++
		if got := cl.ask(rcpt(sender, "192.0.2.4")); got != "DUNNO" {
			t.Errorf("listed sender %q: action %q, want DUNNO", sender, got)
		}
	}
	if tried < 200 {
		t.Fatalf("only %d local parts accepted: the property is not exercised", tried)
	}
}

// TestServer_AsksTheHashedNameOfEveryAddressForm: the address forms real
// MTAs accept are each asked under one exact name, the hash of the
// canonical address (A-label domain, unquoted local part), with the domain
// where DNS can carry it; unlisted, they are deferred with the address in
// the why URL, never an empty one.
func TestServer_AsksTheHashedNameOfEveryAddressForm(t *testing.T) {
	const rest = ".4.2.0.192.sender.wl.test."
	long := strings.Repeat("l", 100)
	tests := []struct{ sender, canonical, name string }{
		{"jose@bücher.example", "jose@xn--bcher-kva.example", ".xn--bcher-kva.example"},
		{"José@Bücher.Example", "josé@xn--bcher-kva.example", ".xn--bcher-kva.example"},
		{"user@[192.0.2.1]", "user@[192.0.2.1]", ""},
		{"user@[IPv6:2001:db8::1]", "user@[ipv6:2001:db8::1]", ""},
		{"a..b@carrier.example", "a..b@carrier.example", ".carrier.example"},
		{".x@carrier.example", ".x@carrier.example", ".carrier.example"},
		{"x.@carrier.example", "x.@carrier.example", ".carrier.example"},
		{long + "@carrier.example", long + "@carrier.example", ".carrier.example"},
		{`"john doe"@carrier.example`, "john doe@carrier.example", ".carrier.example"},
		{"john doe@carrier.example", "john doe@carrier.example", ".carrier.example"},
	}
	for _, tt := range tests {
		t.Run(tt.sender, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.WhyURL = "https://wl.test/why?s={sender}"; c.CacheSize = -1 })
			name := hashOf(tt.canonical) + tt.name + rest
			cl := dial(t, "tcp", h.addr)
			want := DeferText + "; see https://wl.test/why?s=" + url.QueryEscape(tt.canonical)
			if got := cl.ask(rcpt(tt.sender, "192.0.2.4")); got != want {
				t.Errorf("unlisted: %q, want %q", got, want)
			}
			h.dns.list(name, "127.0.2.2")
			if got := cl.ask(rcpt(tt.sender, "192.0.2.4")); got != "DUNNO" {
				t.Errorf("listed under %s: %q, want DUNNO", name, got)
			}
		})
	}
}
