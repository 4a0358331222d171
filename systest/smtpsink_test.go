package systest

import (
	"bytes"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// sinkMsg is one message an smtpSink took.
type sinkMsg struct {
	from string
	to   []string
	data []byte
}

// header returns the message's header field name (decoded as stored).
func (m sinkMsg) header(t *testing.T, name string) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.data))
	if err != nil {
		t.Fatalf("reading a captured message: %v\n%s", err, m.data)
	}
	return msg.Header.Get(name)
}

// smtpSink is an in-test SMTP server on 127.0.0.1 that keeps every message
// it is given: the verification relay, or the final destination Postfix
// delivers to.
type smtpSink struct {
	addr string
	mu   sync.Mutex
	msgs []sinkMsg
}

// startSink serves on 127.0.0.1 until the test ends.
func startSink(t *testing.T) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening for the SMTP sink: %v", err)
	}
	return startSinkOn(t, ln)
}

// startSinkOn serves on ln (for example a listener in a lab's hub
// namespace) until the test ends.
func startSinkOn(t *testing.T, ln net.Listener) *smtpSink {
	t.Helper()
	s := &smtpSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }))
	srv.Domain = "sink.test"
	srv.MaxMessageBytes = 1 << 20
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.ErrorLog = discardLogger{}
	s.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return s
}

// messages returns a copy of what arrived so far.
func (s *smtpSink) messages() []sinkMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkMsg(nil), s.msgs...)
}

// waitCount polls until n messages arrived (bounded) and returns them.
func (s *smtpSink) waitCount(t *testing.T, n int, limit time.Duration) []sinkMsg {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		msgs := s.messages()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMTP sink %s has %d messages after %v, want %d", s.addr, len(msgs), limit, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// to returns the messages addressed to rcpt (any case).
func (s *smtpSink) to(rcpt string) []sinkMsg {
	var out []sinkMsg
	for _, m := range s.messages() {
		for _, r := range m.to {
			if strings.EqualFold(r, rcpt) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

type sinkSession struct {
	sink *smtpSink
	cur  sinkMsg
}

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur = sinkMsg{from: from}
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, s.cur)
	s.sink.mu.Unlock()
	return nil
}

func (s *sinkSession) Reset()        { s.cur = sinkMsg{} }
func (s *sinkSession) Logout() error { return nil }

// discardLogger silences go-smtp's connection error log.
type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}
