package policy

import (
	"math/rand/v2"
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
