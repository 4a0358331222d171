package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/record"
)

// Defaults of InboundConfig.
const (
	// DefaultInboundMaxMessage bounds one reply (2 MiB): what a mail
	// client sends as a reply, an HTML part with the quoted challenge and
	// a signature logo or two inline (base64 makes 1.5 MB of images 2 MiB),
	// fits; an attachment-sized message does not. Only the header is kept
	// in memory (DefaultInboundMaxHeader), so the size costs bandwidth,
	// not memory.
	DefaultInboundMaxMessage = 2 << 20
	// DefaultInboundMaxHeader bounds the header section kept of a reply
	// (what decides whether it is automatic); a longer one is refused as
	// malformed once the message has been read.
	DefaultInboundMaxHeader = 256 << 10
	// InboundMaxOversize is how far past MaxMessageBytes a client that did
	// not declare SIZE may go and still be read to the end of DATA and
	// answered 552 (so its MTA bounces instead of retrying for days);
	// beyond that the connection is cut. A client that declares SIZE (as
	// Postfix and Exim do, SIZE is advertised) gets 552 at MAIL FROM.
	InboundMaxOversize = 64 << 20
	// DefaultInboundMaxRecipients bounds RCPT commands per message.
	DefaultInboundMaxRecipients = 5
	// DefaultInboundMaxLine bounds one line (RFC 5321 §4.5.3.1.6: 1000
	// octets with CRLF).
	DefaultInboundMaxLine = 1000
	// DefaultInboundTimeout bounds each read and write.
	DefaultInboundTimeout = 30 * time.Second
	// DefaultInboundMaxConns bounds concurrent connections.
	DefaultInboundMaxConns = 100
	// DefaultInboundConnLifetime bounds one connection from accept to close.
	DefaultInboundConnLifetime = 5 * time.Minute
)

// InboundConfig configures the inbound SMTP service. Zero fields take the
// defaults.
type InboundConfig struct {
	// Hostname is the name in the greeting; default the mail domain.
	Hostname string
	// MaxMessageBytes bounds a message (default 2 MiB); a bigger one is
	// refused with 552.
	MaxMessageBytes int64
	// MaxRecipients bounds recipients per message (default 5).
	MaxRecipients int
	// MaxLineLength bounds a command or message line (default 1000).
	MaxLineLength int
	// Timeout bounds each read and write (default 30s).
	Timeout time.Duration
	// MaxConns bounds concurrent connections; more are answered 421 and
	// closed (default 100).
	MaxConns int
	// ConnLifetime bounds one connection, however busy (default 5m).
	ConnLifetime time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the inbound metrics; nil: none.
	Registerer prometheus.Registerer
}

// replyTaker is what the inbound service needs of the verification
// service (Service implements it).
type replyTaker interface {
	TokenFromAddress(addr string) (token string, ok bool)
	Open(token string) *record.Challenge
	Lookup(ctx context.Context, token string) *record.Challenge
	ConfirmReply(ctx context.Context, token string) (*record.Challenge, error)
	Postmaster(rcpt string) (is, forwarded bool)
	ForwardPostmaster(ctx context.Context, msg []byte) error
}

// Inbound is the limited SMTP service every node runs so that all mirrors
// can be MX for the reply addresses: it accepts mail only for
// confirm-TOKEN@MailDomain whose challenge is open, confirms on a reply
// written by a person, ignores auto-replies, and relays nothing but mail
// to postmaster@MailDomain, which it forwards to the configured address.
type Inbound struct {
	cfg    InboundConfig
	svc    replyTaker
	domain string
	log    *slog.Logger
	m      *inboundMetrics
	srv    *smtp.Server
	// base is cancelled by Close: confirmations in flight stop.
	base   context.Context
	cancel context.CancelFunc
	once   sync.Once
}

// NewInbound builds the inbound service for svc's reply addresses.
func NewInbound(cfg InboundConfig, svc *Service) (*Inbound, error) {
	return newInbound(cfg, svc, svc.cfg.MailDomain)
}

func newInbound(cfg InboundConfig, svc replyTaker, domain string) (*Inbound, error) {
	cfg.setDefaults(domain)
	m, err := newInboundMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("registering inbound SMTP metrics: %w", err)
	}
	in := &Inbound{cfg: cfg, svc: svc, domain: strings.ToLower(domain), log: cfg.Logger, m: m}
	in.base, in.cancel = context.WithCancel(context.Background())
	s := smtp.NewServer(smtp.BackendFunc(in.newSession))
	s.Domain = cfg.Hostname
	s.MaxMessageBytes = cfg.MaxMessageBytes
	s.MaxRecipients = cfg.MaxRecipients
	s.MaxLineLength = cfg.MaxLineLength
	s.ReadTimeout, s.WriteTimeout = cfg.Timeout, cfg.Timeout
	s.AllowInsecureAuth = false // no TLS configured: AUTH is never offered
	s.ErrorLog = slogPrinter{in.log}
	in.srv = s
	return in, nil
}

func (c *InboundConfig) setDefaults(domain string) {
	if c.Hostname == "" {
		c.Hostname = domain
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultInboundMaxMessage
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = DefaultInboundMaxRecipients
	}
	if c.MaxLineLength <= 0 {
		c.MaxLineLength = DefaultInboundMaxLine
	}
	c.Timeout = orDuration(c.Timeout, DefaultInboundTimeout)
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultInboundMaxConns
	}
	c.ConnLifetime = orDuration(c.ConnLifetime, DefaultInboundConnLifetime)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Serve accepts connections on ln until ctx ends or Close is called, then
// closes ln and every connection. It returns nil after a stop and the
// listener's error otherwise.
func (in *Inbound) Serve(ctx context.Context, ln net.Listener) error {
	lim := newInboundListener(ln, in.cfg.MaxConns, in.cfg.ConnLifetime, in.cfg.MaxMessageBytes, in.m)
	stop := context.AfterFunc(ctx, func() { _ = in.Close() })
	defer stop()
	err := in.srv.Serve(lim)
	if err == nil || errors.Is(err, net.ErrClosed) && (ctx.Err() != nil || in.base.Err() != nil) {
		return nil
	}
	return fmt.Errorf("serving inbound SMTP on %s: %w", ln.Addr(), err)
}

// Close stops the service: listeners and connections close at once, and
// confirmations in flight are cancelled.
func (in *Inbound) Close() error {
	var err error
	in.once.Do(func() {
		in.cancel()
		if e := in.srv.Close(); e != nil && !errors.Is(e, smtp.ErrServerClosed) && !errors.Is(e, net.ErrClosed) {
			err = fmt.Errorf("closing inbound SMTP: %w", e)
		}
	})
	return err
}

// slogPrinter sends go-smtp's own error log (connection errors) to slog
// at debug level: they are the remote side's business.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.log.Debug("inbound SMTP", "msg", fmt.Sprintf(format, v...))
}

func (p slogPrinter) Println(v ...any) {
	p.log.Debug("inbound SMTP", "msg", strings.TrimSpace(fmt.Sprintln(v...)))
}
