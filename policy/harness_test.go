package policy

import (
	"bufio"
	"bytes"
	"context"

	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// harness is a policy Server on 127.0.0.1:0 asking a fakeDNS.
type harness struct {
	dns  *fakeDNS
	srv  *Server
	reg  *prometheus.Registry
	addr string
	logs *syncBuffer
	ch   *recordingChallenger
}

func newHarness(t testing.TB, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{dns: startFakeDNS(t), reg: prometheus.NewRegistry(), logs: &syncBuffer{}, ch: &recordingChallenger{}}
	cfg := Config{Apex: "wl.test", DNSServer: h.dns.addr, DNSTimeout: 2 * time.Second, DNSAttempts: 2, Challenger: h.ch}
	if mod != nil {
		mod(&cfg)
	}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := New(cfg, log, h.reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.srv = srv
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	h.serve(t, ln)
	return h
}

// serve runs the server on ln until the test ends, and checks that it
// stops when told to.
func (h *harness) serve(t testing.TB, ln net.Listener) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return within 5s of shutdown")
		}
	})
}

// client is one persistent connection, as Postfix keeps.
type client struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, network, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dialing the policy service: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

// send writes raw request text and reads the action; io.EOF means the
// server closed the connection without a reply.
func (cl *client) send(raw string) (string, error) {
	_ = cl.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(cl.c, raw); err != nil {
		return "", err
	}
	line, err := cl.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	empty, err := cl.r.ReadString('\n')
	if err != nil || empty != "\n" {
		return "", fmt.Errorf("reply %q not ended by an empty line (%q, %v)", line, empty, err)
	}
	action, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "action=")
	if !ok {
		return "", fmt.Errorf("reply %q is not action=…", line)
	}
	return action, nil
}

// ask sends a request and fails the test unless an action comes back.
func (cl *client) ask(raw string) string {
	cl.t.Helper()
	a, err := cl.send(raw)
	if err != nil {
		cl.t.Fatalf("asking %q: %v", raw, err)
	}
	return a
}

// rcpt builds an RCPT-stage request; extra are further name=value lines,
// written first so that they win over the defaults.
func rcpt(sender, client string, extra ...string) string {
	var b strings.Builder
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	b.WriteString("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n")
	b.WriteString("sender=" + sender + "\nclient_address=" + client + "\nrecipient=rcpt@mx.example\n")
	b.WriteString("instance=1a.2b.3c.0\nqueue_id=\nsasl_username=\n")
	b.WriteString("\n")
	return b.String()
}

// recordingChallenger remembers the deferrals it was told about.
type recordingChallenger struct {
	mu   sync.Mutex
	seen []Deferral
}

func (r *recordingChallenger) Deferred(_ context.Context, d Deferral) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, d)
}

func (r *recordingChallenger) deferrals() []Deferral {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Deferral(nil), r.seen...)
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// counter reads a counter's or a gauge's value.
func counter(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatalf("reading counter: %v", err)
	}
	return m.GetCounter().GetValue() + m.GetGauge().GetValue()
}
