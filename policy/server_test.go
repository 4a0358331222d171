package policy

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestServer_WhitelistUnreachable(t *testing.T) {
	tests := []struct {
		name     string
		cfg      func(*Config)
		servfail bool
		want     string
	}{
		{name: "fail open by default", want: "DUNNO"},
		{name: "fail closed", cfg: func(c *Config) { c.FailClosed = true }, want: UnavailableText},
		{name: "report-only never defers", cfg: func(c *Config) { c.FailClosed = true; c.ReportOnly = true }, want: "DUNNO"},
		{name: "SERVFAIL fails closed", cfg: func(c *Config) { c.FailClosed = true }, servfail: true, want: UnavailableText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				c.DNSTimeout = 200 * time.Millisecond
				if tt.cfg != nil {
					tt.cfg(c)
				}
			})
			if tt.servfail {
				h.dns.servfail.Store(true)
			} else {
				h.dns.drop.Store(true)
			}
			start := time.Now()
			got := dial(t, "tcp", h.addr).ask(rcpt("dave@umkc.edu", "192.0.2.4"))
			took := time.Since(start)
			if got != tt.want {
				t.Errorf("action = %q, want %q", got, tt.want)
			}
			// Two attempts of 200ms, and nothing more.
			if took > 2*time.Second {
				t.Errorf("answer took %v; the DNS wait is not bounded", took)
			}
			if n := counter(t, h.srv.m.decisions.WithLabelValues(DecisionError)); n != 1 {
				t.Errorf("error decisions = %v, want 1", n)
			}
			if !tt.servfail && h.dns.asked("udp", umkcVerp) != 2 {
				t.Errorf("VERP name asked %d times over UDP, want 2 attempts", h.dns.asked("udp", umkcVerp))
			}
		})
	}
}

func TestServer_CachesWithinTTL(t *testing.T) {
	h := newHarness(t, nil)
	h.dns.list(daveName, "127.0.2.2")
	clock := fakeClock(h)
	cl := dial(t, "tcp", h.addr)
	for i := 0; i < 3; i++ { // three recipients of one message
		if got := cl.ask(rcpt("dave@umkc.edu", "192.0.2.4")); got != "DUNNO" {
			t.Fatalf("request %d: action = %q", i, got)
		}
	}
	if a, b := h.dns.asked("udp", umkcVerp), h.dns.asked("udp", daveName); a != 1 || b != 1 {
		t.Fatalf("questions: verp %d, sender %d; want 1 each (then cache hits)", a, b)
	}
	if n := counter(t, h.srv.m.cacheHits); n != 4 {
		t.Errorf("cache hits = %v, want 4", n)
	}
	clock.Add(61) // past the negative TTL, within the positive
	cl.ask(rcpt("dave@umkc.edu", "192.0.2.4"))
	if a, b := h.dns.asked("udp", umkcVerp), h.dns.asked("udp", daveName); a != 2 || b != 1 {
		t.Fatalf("after 61s: verp %d, sender %d; want the negative answer asked again, the positive cached", a, b)
	}
	clock.Add(300) // past the positive TTL
	cl.ask(rcpt("dave@umkc.edu", "192.0.2.4"))
	if b := h.dns.asked("udp", daveName); b != 2 {
		t.Fatalf("after the positive TTL: sender asked %d times, want 2", b)
	}
}

func TestServer_NewListingSeenAfterNegativeTTL(t *testing.T) {
	h := newHarness(t, nil)
	clock := fakeClock(h)
	cl := dial(t, "tcp", h.addr)
	if got := cl.ask(rcpt("dave@umkc.edu", "192.0.2.4")); got != deferWant {
		t.Fatalf("before listing: %q", got)
	}
	h.dns.list(daveName, "127.0.2.2") // the sender confirms
	if got := cl.ask(rcpt("dave@umkc.edu", "192.0.2.4")); got != deferWant {
		t.Fatalf("within the negative TTL the cached answer should stand, got %q", got)
	}
	clock.Add(61)
	if got := cl.ask(rcpt("dave@umkc.edu", "192.0.2.4")); got != "DUNNO" {
		t.Fatalf("after the negative TTL: %q, want DUNNO", got)
	}
}

func TestServer_RetriesOverTCPWhenTruncated(t *testing.T) {
	h := newHarness(t, nil)
	h.dns.truncate.Store(true)
	h.dns.list(daveName, "127.0.2.2")
	if got := dial(t, "tcp", h.addr).ask(rcpt("dave@umkc.edu", "192.0.2.4")); got != "DUNNO" {
		t.Fatalf("action = %q, want DUNNO from the TCP answer", got)
	}
	if h.dns.asked("tcp", daveName) != 1 {
		t.Fatalf("sender name asked %d times over TCP, want 1", h.dns.asked("tcp", daveName))
	}
}

func TestServer_UnixSocket(t *testing.T) {
	h := newHarness(t, nil)
	path := filepath.Join(t.TempDir(), "policy.sock")
	for i := 0; i < 2; i++ { // the second Listen replaces the stale socket file
		ln, err := Listen(context.Background(), "unix:"+path)
		if err != nil {
			t.Fatalf("Listen #%d: %v", i+1, err)
		}
		if i == 0 {
			ln.(interface{ SetUnlinkOnClose(bool) }).SetUnlinkOnClose(false)
			ln.Close()
			continue
		}
		h.serve(t, ln)
	}
	if got := dial(t, "unix", path).ask(rcpt("dave@umkc.edu", "192.0.2.4")); got != deferWant {
		t.Fatalf("over the unix socket: %q, want %q", got, deferWant)
	}
}

func TestServer_PersistentConnection(t *testing.T) {
	h := newHarness(t, nil)
	h.dns.list(daveName, "127.0.2.2")
	cl := dial(t, "tcp", h.addr)
	want := []string{"DUNNO", deferWant, "DUNNO", deferWant}
	reqs := []string{rcpt("dave@umkc.edu", "192.0.2.4"), rcpt("eve@umkc.edu", "192.0.2.4"), rcpt("", "192.0.2.9"), rcpt("dave@umkc.edu", "192.0.2.9")}
	for i := range reqs {
		if got := cl.ask(reqs[i]); got != want[i] {
			t.Errorf("request %d on one connection: %q, want %q", i, got, want[i])
		}
	}
}

func TestServer_MalformedRequestDisconnectsWithoutReply(t *testing.T) {
	tests := []struct{ name, req string }{
		{"line without =", "request=smtpd_access_policy\nthis is not an attribute\n\n"},
		{"unknown request type", "request=something_else\nsender=a@b.example\n\n"},
		{"oversized line", "request=smtpd_access_policy\nccert_subject=" + strings.Repeat("x", 5000) + "\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			cl := dial(t, "tcp", h.addr)
			if got := cl.ask(rcpt("dave@umkc.edu", "192.0.2.4")); got != deferWant {
				t.Fatalf("good request first: %q", got)
			}
			if a, err := cl.send(tt.req); err != io.EOF {
				t.Fatalf("malformed request got (%q, %v), want the connection closed without a reply", a, err)
			}
			if n := counter(t, h.srv.m.malformed); n != 1 {
				t.Errorf("malformed counter = %v, want 1", n)
			}
			if !strings.Contains(h.logs.String(), "level=WARN") {
				t.Errorf("no warning logged:\n%s", h.logs)
			}
		})
	}
}

func TestServer_MetricNames(t *testing.T) {
	h := newHarness(t, nil)
	dial(t, "tcp", h.addr).ask(rcpt("", "192.0.2.4"))
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^wlns_policy_[a-z_]+$`)
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
		if !re.MatchString(mf.GetName()) {
			t.Errorf("metric %q does not follow wlns_policy_<what>", mf.GetName())
		}
		if mf.GetType().String() == "COUNTER" && !strings.HasSuffix(mf.GetName(), "_total") {
			t.Errorf("counter %q does not end in _total", mf.GetName())
		}
	}
	for _, want := range []string{"wlns_policy_decisions_total", "wlns_policy_dns_lookups_total", "wlns_policy_passes_total"} {
		if !got[want] {
			t.Errorf("metric %s missing", want)
		}
	}
}

func TestCache_EvictsLeastRecentlyUsed(t *testing.T) {
	c := newCache(2)
	now := time.Unix(0, 0)
	c.put("a.", Answer{Listed: true}, time.Minute, now)
	c.put("b.", Answer{}, time.Minute, now)
	c.get("a.", now) // a is now the most recently used
	c.put("c.", Answer{}, time.Minute, now)
	if _, ok := c.get("b.", now); ok {
		t.Error("b survived although it was least recently used")
	}
	if a, ok := c.get("a.", now); !ok || !a.Listed {
		t.Error("a was evicted")
	}
	if c.len() != 2 {
		t.Errorf("cache holds %d entries, want at most 2", c.len())
	}
	if _, ok := c.get("a.", now.Add(time.Minute)); ok {
		t.Error("a outlived its TTL")
	}
}

// fakeClock makes the resolver's clock a counter of seconds the test moves.
func fakeClock(h *harness) *atomic.Int64 {
	var sec atomic.Int64
	sec.Store(1_800_000_000)
	h.srv.dec.res.now = func() time.Time { return time.Unix(sec.Load(), 0) }
	return &sec
}

func TestServer_BrokenListenerEndsServiceAndConnections(t *testing.T) {
	srv, err := New(Config{Apex: "wl.test", DNSServer: "127.0.0.1:9"}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	cl := dial(t, "tcp", ln.Addr().String())
	if got := cl.ask(rcpt("", "192.0.2.4")); got != "DUNNO" {
		t.Fatalf("null sender: %q", got)
	}
	ln.Close() // the listener breaks; ctx is still alive
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Serve returned nil for a broken listener")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still waiting 5s after its listener broke (idle connection kept it)")
	}
	if _, err := cl.send(rcpt("", "192.0.2.4")); err == nil {
		t.Fatal("connection still answered after the service ended")
	}
}
