package verify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wlns/wlns/record"
)

const inboundDomain = "wl.test"

// fakeReplies stands in for the Service: a set of open challenges by
// token, confirmations recorded.
type fakeReplies struct {
	parse     *Service // only its TokenFromAddress
	mu        sync.Mutex
	open      map[string]*record.Challenge
	confirmed map[string]int
	failing   bool // ConfirmReply fails as a store without quorum would
	// forwarded holds what ForwardPostmaster got; forwardErr is its error.
	forwarded  [][]byte
	forwardErr error
}

func newFakeReplies(t *testing.T, n int) (*fakeReplies, []string) {
	t.Helper()
	f := &fakeReplies{parse: &Service{cfg: Config{MailDomain: inboundDomain}},
		open: map[string]*record.Challenge{}, confirmed: map[string]int{}}
	var tokens []string
	for i := range n {
		tok, err := newToken()
		if err != nil {
			t.Fatal(err)
		}
		f.open[tok] = &record.Challenge{ID: fmt.Sprintf("c%d", i), Sender: fmt.Sprintf("s%d@example.com", i), State: record.ChallengeOpen}
		tokens = append(tokens, tok)
	}
	return f, tokens
}

func (f *fakeReplies) TokenFromAddress(addr string) (string, bool) {
	return f.parse.TokenFromAddress(addr)
}

func (f *fakeReplies) Postmaster(rcpt string) (is, forwarded bool) { return f.parse.Postmaster(rcpt) }

func (f *fakeReplies) ForwardPostmaster(_ context.Context, msg []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.forwardErr == nil {
		f.forwarded = append(f.forwarded, msg)
	}
	return f.forwardErr
}

func (f *fakeReplies) Lookup(_ context.Context, token string) *record.Challenge { return f.Open(token) }

func (f *fakeReplies) Open(token string) *record.Challenge {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open[strings.ToLower(token)]
}

func (f *fakeReplies) ConfirmReply(_ context.Context, token string) (*record.Challenge, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.open[token]
	switch {
	case c == nil:
		return nil, ErrUnknownToken
	case f.failing:
		return nil, errors.New("no quorum and no spool")
	}
	delete(f.open, token)
	f.confirmed[token]++
	return c, nil
}

func (f *fakeReplies) confirms(token string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.confirmed[token]
}

// startInbound serves an Inbound on 127.0.0.1:0 until the test ends.
func startInbound(t *testing.T, svc replyTaker, mod func(*InboundConfig)) (string, *Inbound, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := InboundConfig{Logger: slog.New(slog.DiscardHandler), Registerer: reg}
	if mod != nil {
		mod(&cfg)
	}
	in, err := newInbound(cfg, svc, inboundDomain)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve after stop: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s of cancel")
		}
	})
	return ln.Addr().String(), in, reg
}

// smtpDial connects and greets with EHLO.
func smtpDial(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatalf("dialing inbound SMTP: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.example"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	return c
}

// send runs one transaction and returns the first error with the stage
// it came at ("rcpt", "data"), or "" and nil when accepted.
func send(t *testing.T, addr, from string, to []string, msg string) (string, error) {
	t.Helper()
	c := smtpDial(t, addr)
	if err := c.Mail(from, nil); err != nil {
		return "mail", err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return "rcpt", err
		}
	}
	w, err := c.Data()
	if err != nil {
		return "data", err
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		return "data", err
	}
	if err := w.Close(); err != nil {
		return "data", err
	}
	return "", c.Quit()
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

const humanReply = "From: Sender <s0@example.com>\nTo: confirm@wl.test\nSubject: Re: please confirm\n\nYes, that was me.\n"

func replyTo(tok string) string { return "confirm-" + tok + "@" + inboundDomain }

func TestInbound_RefusesRelayAndUnknownTokensAtRcpt(t *testing.T) {
	f, toks := newFakeReplies(t, 2)
	addr, _, reg := startInbound(t, f, nil)
	used := toks[1]
	if _, err := send(t, addr, "s1@example.com", []string{replyTo(used)}, humanReply); err != nil {
		t.Fatalf("first reply: %v", err)
	}
	for _, tc := range []struct {
		name, rcpt string
		code       int
		text       string
	}{
		{"other domain", "victim@example.org", 550, "relaying denied"},
		{"token at other domain", "confirm-" + toks[0] + "@example.org", 550, "relaying denied"},
		{"subdomain of ours", "confirm-" + toks[0] + "@x." + inboundDomain, 550, "relaying denied"},
		{"unknown token", replyTo(strings.Repeat("a", TokenLen)), 550, "no such confirmation address"},
		{"malformed token", "confirm-xyz@" + inboundDomain, 550, "no such confirmation address"},
		{"other local part", "hostmaster@" + inboundDomain, 550, "no such confirmation address"},
		{"postmaster without a forward address", "postmaster@" + inboundDomain, 550, "postmaster of this domain is not configured"},
		{"used token", replyTo(used), 550, "no such confirmation address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stage, err := send(t, addr, "someone@example.com", []string{tc.rcpt}, humanReply)
			if stage != "rcpt" || smtpCode(err) != tc.code || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %s %v, want %d %q at RCPT", stage, err, tc.code, tc.text)
			}
		})
	}
	if f.Lookup(context.Background(), toks[0]) == nil {
		t.Error("refused recipients touched an open challenge")
	}
	if got := gauge(t, reg, MetricInboundRcpts, "result", rcptRelay); got != 3 {
		t.Errorf("relay_denied count %v, want 3", got)
	}
}

func TestInbound_ReplyConfirmsOnce(t *testing.T) {
	f, toks := newFakeReplies(t, 1)
	addr, _, reg := startInbound(t, f, nil)
	// Case does not matter: some MTAs upper-case addresses.
	rcpt := strings.ToUpper("confirm-"+toks[0]) + "@WL.Test"
	if stage, err := send(t, addr, "s0@example.com", []string{rcpt}, humanReply); err != nil {
		t.Fatalf("reply refused at %s: %v", stage, err)
	}
	if n := f.confirms(toks[0]); n != 1 {
		t.Fatalf("confirmed %d times, want 1", n)
	}
	stage, err := send(t, addr, "s0@example.com", []string{replyTo(toks[0])}, humanReply)
	if stage != "rcpt" || smtpCode(err) != 550 {
		t.Fatalf("second reply: %s %v, want 550 at RCPT", stage, err)
	}
	if n := f.confirms(toks[0]); n != 1 {
		t.Errorf("confirmed %d times after the second reply, want 1", n)
	}
	if got := gauge(t, reg, MetricInboundMessages, "outcome", msgConfirmed); got != 1 {
		t.Errorf("confirmed count %v, want 1", got)
	}
}

func TestInbound_AutomaticRepliesNeverConfirm(t *testing.T) {
	for _, tc := range []struct {
		name, from, msg string
		confirms        bool
	}{
		{"null return path", "", humanReply, false},
		{"mailer-daemon", "MAILER-DAEMON@example.com", humanReply, false},
		{"postmaster answering a VERP challenge", "postmaster@example.com", humanReply, true},
		{"auto-replied", "s0@example.com", "Auto-Submitted: auto-replied (vacation)\n" + humanReply, false},
		{"auto-generated", "s0@example.com", "Auto-Submitted: Auto-Generated\n" + humanReply, false},
		{"precedence bulk", "s0@example.com", "Precedence: bulk\n" + humanReply, false},
		{"precedence junk", "s0@example.com", "Precedence: junk\n" + humanReply, false},
		{"precedence list", "s0@example.com", "Precedence: list\n" + humanReply, false},
		{"list-id", "s0@example.com", "List-Id: <l.example.com>\n" + humanReply, false},
		{"list-unsubscribe", "s0@example.com", "List-Unsubscribe: <mailto:u@example.com>\n" + humanReply, false},
		{"x-autoreply", "s0@example.com", "X-Autoreply: yes\n" + humanReply, false},
		{"delivery report", "s0@example.com", "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n" + humanReply, false},
		{"auto-submitted no", "s0@example.com", "Auto-Submitted: no\n" + humanReply, true},
		{"person", "s0@example.com", humanReply, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, toks := newFakeReplies(t, 1)
			addr, _, reg := startInbound(t, f, nil)
			if stage, err := send(t, addr, tc.from, []string{replyTo(toks[0])}, tc.msg); err != nil {
				t.Fatalf("refused at %s: %v (an automatic reply is taken with 250 and ignored)", stage, err)
			}
			if got := f.confirms(toks[0]) == 1; got != tc.confirms {
				t.Fatalf("confirmed: %v, want %v", got, tc.confirms)
			}
			if !tc.confirms && gauge(t, reg, MetricInboundMessages, "outcome", msgIgnoredAuto) != 1 {
				t.Error("ignored_auto not counted")
			}
		})
	}
}

// htmlReply is what a mail client sends as a reply: text and HTML parts,
// the HTML with a signature logo inline (n bytes of image, base64).
func htmlReply(n int) string {
	logo := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, n/4))
	var b strings.Builder
	b.WriteString("From: Sender <s0@example.com>\nTo: confirm@wl.test\nSubject: Re: please confirm\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/related; boundary=rel\n\n--rel\nContent-Type: text/html; charset=utf-8\n\n" +
		"<p>Yes, that was me.</p><img src=\"cid:logo\"><blockquote>" + strings.Repeat("<p>quoted challenge text</p>\n", 400) +
		"</blockquote>\n--rel\nContent-Type: image/png\nContent-ID: <logo>\nContent-Transfer-Encoding: base64\n\n")
	for len(logo) > 76 {
		b.WriteString(logo[:76] + "\n")
		logo = logo[76:]
	}
	b.WriteString(logo + "\n--rel--\n")
	return b.String()
}

// A reply over the size limit is read to its end and refused with 552 (not
// cut off, which makes the sender's MTA retry for days), or at MAIL FROM
// when the client declares its SIZE; an HTML reply with a logo fits.
func TestInbound_MessageSize(t *testing.T) {
	f, toks := newFakeReplies(t, 3)
	addr, _, _ := startInbound(t, f, nil)
	reply := htmlReply(1 << 20)
	if len(reply) < 1<<20 || len(reply) > DefaultInboundMaxMessage {
		t.Fatalf("an HTML reply of %d bytes", len(reply))
	}
	if stage, err := send(t, addr, "s0@example.com", []string{replyTo(toks[0])}, reply); err != nil || f.confirms(toks[0]) != 1 {
		t.Fatalf("HTML reply with a 1 MiB logo (%d bytes): %s %v", len(reply), stage, err)
	}
	big := humanReply + strings.Repeat(strings.Repeat("x", 99)+"\n", 100_000) // 10 MB
	stage, err := send(t, addr, "s0@example.com", []string{replyTo(toks[1])}, big)
	if stage != "data" || smtpCode(err) != 552 {
		t.Fatalf("10 MB reply without SIZE: %s %v, want 552 after DATA", stage, err)
	}
	c := smtpDial(t, addr)
	err = c.Mail("s0@example.com", &smtp.MailOptions{Size: 10 << 20})
	if smtpCode(err) != 552 {
		t.Fatalf("MAIL FROM with SIZE=10 MiB: %v, want 552", err)
	}
	if f.confirms(toks[1]) != 0 {
		t.Error("an oversize message confirmed")
	}
}

func TestInbound_Limits(t *testing.T) {
	f, toks := newFakeReplies(t, 6)
	addr, _, _ := startInbound(t, f, nil)

	t.Run("too many recipients", func(t *testing.T) {
		var to []string
		for _, tok := range toks {
			to = append(to, replyTo(tok))
		}
		stage, err := send(t, addr, "s0@example.com", to, humanReply)
		if stage != "rcpt" || smtpCode(err) != 452 {
			t.Fatalf("6 recipients: %s %v, want 452 at RCPT", stage, err)
		}
	})
	t.Run("long line", func(t *testing.T) {
		stage, err := send(t, addr, "s0@example.com", []string{replyTo(toks[0])}, humanReply+strings.Repeat("y", 1200)+"\n")
		if err == nil {
			t.Fatalf("a 1200-octet line was accepted (stage %s)", stage)
		}
		if f.confirms(toks[0]) != 0 {
			t.Error("a message with an overlong line confirmed")
		}
	})
	t.Run("no AUTH", func(t *testing.T) {
		c := smtpDial(t, addr)
		if ok, _ := c.Extension("AUTH"); ok {
			t.Error("AUTH offered")
		}
	})
}

func TestInbound_ConnectionLimit(t *testing.T) {
	f, _ := newFakeReplies(t, 1)
	addr, _, reg := startInbound(t, f, func(c *InboundConfig) { c.MaxConns = 1 })
	smtpDial(t, addr) // holds the one slot
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "421 ") {
		t.Fatalf("second connection greeted %q, want 421", line)
	}
	if got := gauge(t, reg, MetricInboundRefused, "", ""); got != 1 {
		t.Errorf("refused count %v, want 1", got)
	}
}

func TestInbound_StoreFailureAsksToRetry(t *testing.T) {
	f, toks := newFakeReplies(t, 1)
	f.failing = true
	addr, _, _ := startInbound(t, f, nil)
	stage, err := send(t, addr, "s0@example.com", []string{replyTo(toks[0])}, humanReply)
	if stage != "data" || smtpCode(err) != 451 {
		t.Fatalf("got %s %v, want 451 after DATA", stage, err)
	}
	if f.Lookup(context.Background(), toks[0]) == nil {
		t.Error("challenge no longer open after a failed confirmation")
	}
}

func TestInbound_CloseStopsServe(t *testing.T) {
	f, _ := newFakeReplies(t, 1)
	in, err := newInbound(InboundConfig{Logger: slog.New(slog.DiscardHandler)}, f, inboundDomain)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- in.Serve(context.Background(), ln) }()
	c := smtpDial(t, ln.Addr().String()) // an idle connection must not hold Close
	if err := in.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still running 5s after Close")
	}
	if err := c.Noop(); err == nil {
		t.Error("connection still served after Close")
	}
}

// gauge reads one series' value from reg (counter or gauge); label may be
// empty for an unlabelled metric.
func gauge(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" || hasLabel(m, label, value) {
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("metric %s{%s=%q} not found", name, label, value)
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// TestInbound_RealServiceReplyWritesThePair runs the inbound service on the
// real Service over the real state machine: the challenge mail's Reply-To
// confirms, the pair is listed, and the token acts once.
func TestInbound_RealServiceReplyWritesThePair(t *testing.T) {
	e := newEnv(t)
	c, tok := e.mustSend("dave@example.com", groupIP)
	in, err := NewInbound(InboundConfig{Logger: slog.New(slog.DiscardHandler)}, e.svc)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = in.Serve(context.Background(), ln) }()
	t.Cleanup(func() { in.Close() })
	addr := ln.Addr().String()

	if stage, err := send(t, addr, "dave@example.com", []string{"Other@Example.org"}, humanReply); stage != "rcpt" || smtpCode(err) != 550 {
		t.Fatalf("relay attempt: %s %v, want 550 at RCPT", stage, err)
	}
	if stage, err := send(t, addr, "dave@example.com", []string{e.svc.ReplyAddress(tok)}, humanReply); err != nil {
		t.Fatalf("reply refused at %s: %v", stage, err)
	}
	got := e.store.ChallengeByID(c.ID)
	if got.State != record.ChallengeConfirmed || got.Method != "reply" {
		t.Errorf("challenge after the reply: state %s method %q, want confirmed by reply", got.State, got.Method)
	}
	if e.store.Index().Load().Pair(c.Entity, []byte("dave@example.com")) == nil {
		t.Error("pair not listed after the reply")
	}
	if stage, err := send(t, addr, "dave@example.com", []string{e.svc.ReplyAddress(tok)}, humanReply); stage != "rcpt" || smtpCode(err) != 550 {
		t.Fatalf("second reply: %s %v, want 550 at RCPT", stage, err)
	}
}

func TestInboundMetrics_NamedAndDocumented(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := newInboundMetrics(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/verification.md")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, name := range []string{MetricInboundRcpts, MetricInboundMessages, MetricInboundConns, MetricInboundRefused} {
		if !names[name] {
			t.Errorf("metric %s not registered", name)
		}
		if !strings.HasPrefix(name, "wlns_inbound_smtp_") {
			t.Errorf("metric %s does not follow wlns_inbound_smtp_<what>", name)
		}
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/verification.md does not list %s", name)
		}
	}
}

func TestInbound_ConnectionLifetimeEndsIdleClient(t *testing.T) {
	f, _ := newFakeReplies(t, 1)
	addr, _, reg := startInbound(t, f, func(c *InboundConfig) { c.ConnLifetime = 300 * time.Millisecond })
	c := smtpDial(t, addr)
	deadline := time.Now().Add(5 * time.Second)
	for c.Noop() == nil {
		if time.Now().After(deadline) {
			t.Fatal("connection still served 5s into a 300ms lifetime")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The slot is free again: a new client is greeted.
	waitGauge(t, reg, MetricInboundConns, 0)
	smtpDial(t, addr)
}

// waitGauge polls an unlabelled gauge until it reads want (bounded).
func waitGauge(t *testing.T, reg *prometheus.Registry, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for gauge(t, reg, name, "", "") != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after 5s, want %v", name, gauge(t, reg, name, "", ""), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Mail to postmaster@ the mail domain (RFC 5321 §4.5.1), in any case, is
// accepted and forwarded whole when a postmaster address is configured
// (the bare <Postmaster> the RFC also names is refused with 501 by
// go-smtp's path parser before wlns sees it); a loop is refused with 554 and a relay failure is 451,
// so the sender's server tries again.
func TestInbound_PostmasterIsForwarded(t *testing.T) {
	f, toks := newFakeReplies(t, 1)
	f.parse.cfg.Postmaster = "ops@example.net"
	addr, _, reg := startInbound(t, f, nil)
	report := "From: Abuse desk <abuse@isp.example>\nSubject: your confirmation mails\nAuto-Submitted: auto-generated\n\nPlease stop.\n"
	for _, rcpt := range []string{"PostMaster@" + strings.ToUpper(inboundDomain), "postmaster@" + inboundDomain + "."} {
		if stage, err := send(t, addr, "abuse@isp.example", []string{rcpt}, report); err != nil {
			t.Fatalf("to %s: refused at %s: %v", rcpt, stage, err)
		}
	}
	if len(f.forwarded) != 2 || !strings.Contains(string(f.forwarded[0]), "Please stop.\r\n") ||
		!strings.HasPrefix(string(f.forwarded[0]), "From: Abuse desk") {
		t.Fatalf("forwarded %q", f.forwarded)
	}
	if gauge(t, reg, MetricInboundMessages, "outcome", msgForwarded) != 2 || gauge(t, reg, MetricInboundRcpts, "result", rcptPostmaster) != 2 {
		t.Error("forwarded postmaster mail not counted")
	}
	// With a reply token in the same transaction, the token confirms too.
	if _, err := send(t, addr, "s0@example.com", []string{"postmaster@" + inboundDomain, replyTo(toks[0])}, humanReply); err != nil || f.confirms(toks[0]) != 1 {
		t.Fatalf("postmaster and a token: %v, %d confirmations", err, f.confirms(toks[0]))
	}
	for _, tc := range []struct {
		err  error
		code int
	}{{errPostmasterLoop, 554}, {errors.New("relay down"), 451}} {
		f.forwardErr = tc.err
		if stage, err := send(t, addr, "abuse@isp.example", []string{"postmaster@" + inboundDomain}, report); stage != "data" || smtpCode(err) != tc.code {
			t.Errorf("forward error %v: %s %v, want %d after DATA", tc.err, stage, err, tc.code)
		}
	}
}
