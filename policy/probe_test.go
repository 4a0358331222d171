package policy

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

const (
	probeListedName   = "2.0.0.127.relay.wl.test."
	probeUnlistedName = "1.0.0.127.relay.wl.test."
)

func TestServer_ProbeChecksTheTestEntries(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(*fakeDNS)
		want   error // nil: passes
		gauge  float64
		inText string
	}{
		{name: "wlns answers right", setup: func(f *fakeDNS) { f.list(probeListedName, "127.0.2.1") }, gauge: 1},
		{name: "test entry not listed (wrong apex, empty resolver answer)", setup: func(*fakeDNS) {},
			want: ErrProbe, inText: "2.0.0.127.relay.wl.test. listed=false"},
		{name: "everything listed", setup: func(f *fakeDNS) { f.list(probeListedName, "127.0.2.1"); f.list(probeUnlistedName, "127.0.2.1") },
			want: ErrProbe, inText: "1.0.0.127.relay.wl.test. listed=true"},
		{name: "refused or failing server", setup: func(f *fakeDNS) { f.servfail.Store(true) }, want: ErrLookup, inText: "SERVFAIL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			tt.setup(h.dns)
			err := h.srv.Probe(context.Background())
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Probe = %v, want %v", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.inText) {
				t.Errorf("Probe error %q does not say %q", err, tt.inText)
			}
			if g := counter(t, h.srv.m.probeOK); g != tt.gauge {
				t.Errorf("wlns_policy_probe_ok = %v, want %v", g, tt.gauge)
			}
		})
	}
}

func TestServer_WatchProbeLogsTheChange(t *testing.T) {
	h := newHarness(t, nil)
	h.dns.list(probeListedName, "127.0.2.1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.srv.WatchProbe(ctx, 20*time.Millisecond, true); close(done) }()
	defer func() { cancel(); <-done }()
	h.dns.servfail.Store(true)
	waitFor(t, func() bool { return strings.Contains(h.logs.String(), "whitelist probe failed") })
	if g := counter(t, h.srv.m.probeOK); g != 0 {
		t.Errorf("wlns_policy_probe_ok = %v after a failed probe, want 0", g)
	}
	h.dns.servfail.Store(false)
	waitFor(t, func() bool { return strings.Contains(h.logs.String(), "whitelist probe passed again") })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServer_AsksWithRecursionDesired: a recursive resolver in front of
// wlns answers REFUSED to questions without RD.
func TestServer_AsksWithRecursionDesired(t *testing.T) {
	h := newHarness(t, nil)
	h.dns.list(probeListedName, "127.0.2.1")
	if err := h.srv.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	dial(t, "tcp", h.addr).ask(rcpt("dave@umkc.edu", "192.0.2.4"))
	if h.dns.total() < 4 || h.dns.noRD.Load() {
		t.Fatalf("%d questions, some without RD: want every question to ask for recursion", h.dns.total())
	}
}

func TestServer_ConnectionCapIsCountedAndLogged(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxConns = 1 })
	first := dial(t, "tcp", h.addr)
	first.ask(rcpt("", "192.0.2.4")) // accepted and served: it holds the one slot
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("second connection read %v, want it closed", err)
	}
	if n := counter(t, h.srv.m.refused); n != 1 {
		t.Errorf("wlns_policy_connections_refused_total = %v, want 1", n)
	}
	if !strings.Contains(h.logs.String(), "too many policy connections") {
		t.Errorf("the refusal is not logged:\n%s", h.logs.String())
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}
