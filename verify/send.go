package verify

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// deliver hands msg for rcpt to the relay with the null envelope sender
// (RFC 3834 §3.3: an automatic reply must not be answered automatically),
// within the relay timeout and ctx.
func (s *Service) deliver(ctx context.Context, rcpt string, msg []byte) error {
	r := &s.cfg.Relay
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	c, err := s.dialRelay(ctx)
	if err != nil {
		return fmt.Errorf("connecting to relay %s: %w", r.Addr, err)
	}
	defer c.Close()
	if r.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", r.Username, r.Password)); err != nil {
			return fmt.Errorf("authenticating to relay %s as %s: %w", r.Addr, r.Username, err)
		}
	}
	if err := c.SendMail("", []string{rcpt}, bytes.NewReader(msg)); err != nil {
		return fmt.Errorf("relay %s: %w", r.Addr, err)
	}
	if err := c.Quit(); err != nil {
		s.cfg.Logger.Debug("relay quit", "relay", r.Addr, "err", err) // the mail was accepted
	}
	return nil
}

// dialRelay connects and greets the relay in its TLS mode. The connection
// closes when ctx ends, so no step can outlive the timeout.
func (s *Service) dialRelay(ctx context.Context) (*smtp.Client, error) {
	r := &s.cfg.Relay
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := s.greet(ctx, conn)
	if err != nil {
		stop()
		conn.Close()
		return nil, err
	}
	c.CommandTimeout, c.SubmissionTimeout = time.Until(deadline), time.Until(deadline)
	return c, nil
}

// greet starts the SMTP session on conn: implicit TLS, STARTTLS or plain.
func (s *Service) greet(ctx context.Context, conn net.Conn) (*smtp.Client, error) {
	r := &s.cfg.Relay
	switch r.TLS {
	case TLSImplicit:
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		c := smtp.NewClient(tc)
		return c, hello(c, r.HELO)
	case TLSStartTLS:
		// go-smtp greets as "localhost" before STARTTLS; the name is
		// given in the EHLO after it, which is the one that counts.
		c, err := smtp.NewClientStartTLS(conn, s.tls)
		if err != nil {
			return nil, fmt.Errorf("STARTTLS: %w", err)
		}
		return c, hello(c, r.HELO)
	default:
		c := smtp.NewClient(conn)
		return c, hello(c, r.HELO)
	}
}

func hello(c *smtp.Client, name string) error {
	if name == "" {
		return nil
	}
	if err := c.Hello(name); err != nil {
		return fmt.Errorf("EHLO %s: %w", name, err)
	}
	return nil
}

func splitHostPort(addr string) (host, port string, err error) { return net.SplitHostPort(addr) }
