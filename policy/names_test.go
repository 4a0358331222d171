package policy

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/qname"
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
// canonical address (A-label domain, local part unquoted unless that would
// read as another: record.NormalizeUnquotedSender), with the domain
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
		// Postfix passes a quoted local part unquoted: "john doe"@x as
		// john doe@x, " lead"@x as  lead@x, "\"q\""@x as "q"@x.
		{"john doe@carrier.example", "john doe@carrier.example", ".carrier.example"},
		{" lead@carrier.example", `" lead"@carrier.example`, ".carrier.example"},
		{`"q"@carrier.example`, `"\"q\""@carrier.example`, ".carrier.example"},
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

// TestReadAnswer_ReadableNamesMatchAfterTheWireRoundTrip is the property
// at the resolver: for every local part the API accepts, the readable
// (escaped) sender name qname builds, sent as a question and answered with
// the owner name as the server read it off the wire, counts as listed.
// miekg/dns writes that owner name with its own escapes, so a text
// comparison fails for ', $, a space, and UTF-8.
func TestReadAnswer_ReadableNamesMatchAfterTheWireRoundTrip(t *testing.T) {
	tried := 0
	for _, local := range localParts() {
		name, err := qname.Sender(local+"@irish.example", netip.MustParseAddr("192.0.2.4"), "wl.test", qname.Escaped)
		if err != nil {
			continue // refused, a domain-wide entry, or over 63 octets
		}
		tried++
		q := roundTrip(t, new(dns.Msg).SetQuestion(name, dns.TypeA))
		reply := new(dns.Msg).SetReply(q)
		reply.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
			A: net.IPv4(127, 0, 2, 2)}}
		ans, _, err := readAnswer(roundTrip(t, reply), name)
		if err != nil || !ans.Listed {
			t.Errorf("%q: owner %q read back as not listed (%v)", name, q.Question[0].Name, err)
		}
	}
	if tried < 200 {
		t.Fatalf("only %d names built: the property is not exercised", tried)
	}
}

// roundTrip packs m and unpacks it, as the other end of a socket would.
func roundTrip(t *testing.T, m *dns.Msg) *dns.Msg {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("packing: %v", err)
	}
	out := new(dns.Msg)
	if err := out.Unpack(b); err != nil {
		t.Fatalf("unpacking: %v", err)
	}
	return out
}

// TestReadAnswer_ReferralIsALookupFailure: asked directly, wlns refers a
// delegated prefix to its postmaster's servers; that says nothing about
// the sender, so the policy service fails open (or closed) as configured
// instead of deferring the mail as not listed.
func TestReadAnswer_ReferralIsALookupFailure(t *testing.T) {
	name := "dave.umkc.edu.4.2.0.192.sender.wl.test."
	reply := new(dns.Msg).SetReply(new(dns.Msg).SetQuestion(name, dns.TypeA))
	reply.Ns = []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: "2.0.192.sender.wl.test.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 300}, Ns: "ns.pm.example."}}
	if _, _, err := readAnswer(roundTrip(t, reply), name); !errors.Is(err, ErrLookup) || !strings.Contains(err.Error(), "delegated") {
		t.Fatalf("referral read as %v, want a lookup failure", err)
	}
	reply.Authoritative = true // NODATA with a stray NS is still an answer
	reply.Ns = nil
	if ans, _, err := readAnswer(roundTrip(t, reply), name); err != nil || ans.Listed {
		t.Fatalf("NODATA read as %+v %v", ans, err)
	}
}
