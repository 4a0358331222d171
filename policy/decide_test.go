package policy

import (
	"crypto/sha256"
	"encoding/base32"
	"net/netip"
	"strings"
	"testing"
)

// Query names written out by hand, so that a mistake in qname cannot hide:
// the policy service asks the hashed-plus-domain form.
var (
	daveName   = hashOf("dave@umkc.edu") + `.umkc.edu.4.2.0.192.sender.wl.test.`
	dottedName = hashOf("first.last@umkc.edu") + `.umkc.edu.4.2.0.192.sender.wl.test.`
)

const (
	umkcVerp  = `umkc.edu.4.2.0.192.verp.wl.test.`
	listsVerp = `lists.example.net.4.2.0.192.verp.wl.test.`
)

// hashOf is the hashed-address label: unpadded lower-case base32 of the
// SHA-256 of the address.
func hashOf(addr string) string {
	sum := sha256.Sum256([]byte(addr))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))
}

const deferWant = "451 4.7.1 sender not yet validated in global whitelist"

func TestServer_Decisions(t *testing.T) {
	tests := []struct {
		name     string
		cfg      func(*Config)
		listed   map[string]string // name -> A code
		req      string
		want     string
		decision string
		queries  int // DNS questions the request causes
	}{
		{name: "listed sender passes", listed: map[string]string{daveName: "127.0.2.2"},
			req: rcpt("dave@umkc.edu", "192.0.2.4"), want: "DUNNO", decision: DecisionPass, queries: 2},
		{name: "domain-wide entry passes", listed: map[string]string{daveName: "127.0.2.3"},
			req: rcpt("Dave@UMKC.edu", "192.0.2.4"), want: "DUNNO", decision: DecisionPass, queries: 2},
		{name: "dotted local part is asked hashed", listed: map[string]string{dottedName: "127.0.2.2"},
			req: rcpt("first.last@umkc.edu", "192.0.2.4"), want: "DUNNO", decision: DecisionPass, queries: 2},
		{name: "unlisted sender is deferred", req: rcpt("dave@umkc.edu", "192.0.2.4"),
			want: deferWant, decision: DecisionDefer, queries: 2},
		{name: "listed through another relay only is deferred", listed: map[string]string{daveName: "127.0.2.2"},
			req: rcpt("dave@umkc.edu", "192.0.2.5"), want: deferWant, decision: DecisionDefer, queries: 2},
		{name: "answer outside 127/8 is not listed", listed: map[string]string{daveName: "192.0.2.99"},
			req: rcpt("dave@umkc.edu", "192.0.2.4"), want: deferWant, decision: DecisionDefer, queries: 2},
		{name: "VERP list server passes without a sender query", listed: map[string]string{listsVerp: "127.0.2.4"},
			req: rcpt("list-bounce-dave=umkc.edu@lists.example.net", "192.0.2.4"), want: "DUNNO", decision: DecisionPass, queries: 1},
		{name: "MAIL stage is checked too", req: strings.Replace(rcpt("dave@umkc.edu", "192.0.2.4"), "RCPT", "MAIL", 1),
			want: deferWant, decision: DecisionDefer, queries: 2},
		{name: "why URL is appended", cfg: func(c *Config) { c.WhyURL = "https://wl.example.org/why?s={sender}&ip={client}" },
			req:  rcpt("dave+x@umkc.edu", "192.0.2.4"),
			want: deferWant + "; see https://wl.example.org/why?s=dave%2Bx%40umkc.edu&ip=192.0.2.4", decision: DecisionDefer, queries: 2},
		{name: "null sender passes untouched", req: rcpt("", "192.0.2.4"), want: "DUNNO", decision: DecisionPass},
		{name: "postmaster passes untouched", req: rcpt("PostMaster@umkc.edu", "192.0.2.4"), want: "DUNNO", decision: DecisionPass},
		{name: "MAILER-DAEMON passes untouched", req: rcpt("MAILER-DAEMON@mx.umkc.edu", "192.0.2.4"), want: "DUNNO", decision: DecisionPass},
		{name: "SASL client passes untouched", req: rcpt("dave@umkc.edu", "192.0.2.4", "sasl_username=dave"),
			want: "DUNNO", decision: DecisionPass},
		{name: "pass network passes untouched", cfg: func(c *Config) { c.PassNetworks = mustNets(t, "10.0.0.0/8, 192.0.2.0/28") },
			req: rcpt("dave@umkc.edu", "192.0.2.4"), want: "DUNNO", decision: DecisionPass},
		{name: "IPv6 pass network", cfg: func(c *Config) { c.PassNetworks = mustNets(t, "::1/128") },
			req: rcpt("dave@umkc.edu", "::1"), want: "DUNNO", decision: DecisionPass},
		{name: "CONNECT stage is not checked", req: strings.Replace(rcpt("dave@umkc.edu", "192.0.2.4"), "RCPT", "CONNECT", 1),
			want: "DUNNO", decision: DecisionPass},
		{name: "listed action OK", cfg: func(c *Config) { c.Listed = "ok" }, listed: map[string]string{daveName: "127.0.2.2"},
			req: rcpt("dave@umkc.edu", "192.0.2.4"), want: "OK", decision: DecisionPass, queries: 2},
		{name: "listed action PREPEND", cfg: func(c *Config) { c.Listed = "PREPEND" }, listed: map[string]string{daveName: "127.0.2.2"},
			req: rcpt("dave@umkc.edu", "192.0.2.4"), want: "PREPEND X-Wlns: pass (sender verified via 192.0.2.4)", decision: DecisionPass, queries: 2},
		{name: "report-only passes what it would defer", cfg: func(c *Config) { c.ReportOnly = true },
			req: rcpt("dave@umkc.edu", "192.0.2.4"), want: "DUNNO", decision: DecisionWouldDefer, queries: 2},
		{name: "sender without domain is rejected, saying why", req: rcpt("dave", "192.0.2.4"),
			want: RejectText + ": not an address local@domain", decision: DecisionReject},
		{name: "control character is rejected, saying why", req: rcpt("da\x01ve@umkc.edu", "192.0.2.4"),
			want: RejectText + `: invalid sender "da\x01ve@umkc.edu": local part has control character 0x01`, decision: DecisionReject},
		{name: "report-only passes an unlistable sender", cfg: func(c *Config) { c.ReportOnly = true }, req: rcpt("dave@exa mple.org", "192.0.2.4"),
			want: "DUNNO", decision: DecisionWouldDefer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.cfg)
			for n, code := range tt.listed {
				h.dns.list(n, code)
			}
			got := dial(t, "tcp", h.addr).ask(tt.req)
			if got != tt.want {
				t.Errorf("action = %q, want %q", got, tt.want)
			}
			if n := h.dns.total(); n != tt.queries {
				t.Errorf("DNS questions = %d, want %d", n, tt.queries)
			}
			if n := counter(t, h.srv.m.decisions.WithLabelValues(tt.decision)); n != 1 {
				t.Errorf("wlns_policy_decisions_total{decision=%q} = %v, want 1", tt.decision, n)
			}
		})
	}
}

func mustNets(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := ParseNetworks(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServer_LongSenderAsksHashedName(t *testing.T) {
	h := newHarness(t, nil)
	sender := strings.Repeat("l", 64) + "@" + strings.Repeat("d", 60) + "." + strings.Repeat("e", 60) + ".example"
	label := hashOf(sender)
	nibbles := "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	name := label + "." + nibbles + ".sender.wl.test."
	h.dns.list(name, "127.0.2.2")
	if got := dial(t, "tcp", h.addr).ask(rcpt(sender, "2001:db8::1")); got != "DUNNO" {
		t.Fatalf("action = %q, want DUNNO (asked the hashed name)", got)
	}
	if h.dns.asked("udp", name) != 1 {
		t.Fatalf("the hashed name %s was not asked", name)
	}
}

func TestServer_ChallengerHearsOfDeferralsOnly(t *testing.T) {
	h := newHarness(t, nil)
	h.dns.list(daveName, "127.0.2.2")
	cl := dial(t, "tcp", h.addr)
	cl.ask(rcpt("dave@umkc.edu", "192.0.2.4", "queue_id=ABC123"))
	cl.ask(rcpt("", "192.0.2.4"))
	cl.ask(rcpt("Eve@Umkc.edu", "192.0.2.4", "queue_id=ABC123"))
	if got := cl.ask(rcpt("no-domain", "192.0.2.4")); !strings.HasPrefix(got, RejectText) {
		t.Fatalf("sender without domain: %q, want a rejection", got)
	}
	got := h.ch.deferrals()
	if len(got) != 1 || got[0].Sender != "eve@umkc.edu" || got[0].Client.String() != "192.0.2.4" || got[0].QueueID != "ABC123" {
		t.Fatalf("deferrals = %+v, want one for eve@umkc.edu via 192.0.2.4", got)
	}

	ro := newHarness(t, func(c *Config) { c.ReportOnly = true })
	dial(t, "tcp", ro.addr).ask(rcpt("eve@umkc.edu", "192.0.2.4"))
	if got := ro.ch.deferrals(); len(got) != 0 {
		t.Fatalf("report-only mode told the challenger: %+v", got)
	}
}

func TestServer_LogsNoFullSenderAtInfo(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ReportOnly = true })
	dial(t, "tcp", h.addr).ask(rcpt("secret.person@umkc.edu", "192.0.2.4"))
	logs := h.logs.String()
	if strings.Contains(logs, "secret.person") {
		t.Errorf("log holds the local part:\n%s", logs)
	}
	for _, want := range []string{"decision=would_defer", "sender_domain=umkc.edu", "sender_hash=", "client=192.0.2.4"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
