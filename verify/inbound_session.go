package verify

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/wlns/wlns/record"
)

// confirmTimeout bounds the confirmation of one reply (a forwarded write
// to the leader, or a spool).
const confirmTimeout = 20 * time.Second

// The inbound service's SMTP answers.
var (
	errRelayDenied  = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relaying denied"}
	errNoSuchToken  = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such confirmation address"}
	errMalformed    = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "message headers not understood"}
	errTryLater     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "confirmation could not be recorded, try again later"}
	errNoPostmast   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "postmaster of this domain is not configured on this server"}
	errForwardLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 1}, Message: "postmaster mail could not be forwarded now, try again later"}
	errLoop         = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 4, 6}, Message: "mail loop detected"}
)

// inboundSession is one SMTP transaction's state.
type inboundSession struct {
	in     *Inbound
	remote string
	from   string
	null   bool
	tokens []string
	// postmaster: the transaction has postmaster@MailDomain among its
	// recipients, whose mail is forwarded.
	postmaster bool
	// caughtUp: this connection has had its one catch-up with the leader
	// (Lookup); later unknown tokens are answered from what the node
	// holds, so RCPTs of random tokens cost the leader one read and the
	// session one wait, not one each.
	caughtUp bool
}

func (in *Inbound) newSession(c *smtp.Conn) (smtp.Session, error) {
	remote := ""
	if a, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		remote = a.IP.String()
	}
	return &inboundSession{in: in, remote: remote}, nil
}

// Mail takes the return path; the null sender is allowed (a bounce must be
// accepted to be ignored) but never confirms.
func (s *inboundSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.null = from, strings.Trim(from, "<> ") == ""
	return nil
}

// Rcpt accepts only reply addresses of open challenges.
func (s *inboundSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if is, forwarded := s.in.svc.Postmaster(to); is {
		if !forwarded {
			s.in.m.rcpt(rcptUnknown)
			return errNoPostmast
		}
		s.in.m.rcpt(rcptPostmaster)
		s.postmaster = true
		return nil
	}
	token, ok := s.in.svc.TokenFromAddress(to)
	if !ok {
		if !s.in.ownDomain(to) {
			s.in.m.rcpt(rcptRelay)
			s.in.log.Info("inbound SMTP: relaying denied", "remote", s.remote, "rcpt_domain", domainPart(to))
			return errRelayDenied
		}
		s.in.m.rcpt(rcptUnknown)
		return errNoSuchToken
	}
	if s.lookup(token) == nil {
		s.in.m.rcpt(rcptUnknown)
		return errNoSuchToken
	}
	s.in.m.rcpt(rcptAccepted)
	s.tokens = append(s.tokens, token)
	return nil
}

// lookup is the open challenge of token: the first token of the
// connection this node does not hold makes it catch up with the leader;
// every challenge mailed before that reply was committed then, so the
// tokens after it need no catch-up of their own.
func (s *inboundSession) lookup(token string) *record.Challenge {
	if c := s.in.svc.Open(token); c != nil || s.caughtUp {
		return c
	}
	s.caughtUp = true
	ctx, cancel := context.WithTimeout(s.in.base, catchUpWait)
	defer cancel()
	return s.in.svc.Lookup(ctx, token)
}

// Data reads the whole reply (bounded by the server: past MaxMessageBytes
// the server answers 552), keeping only its header, and confirms every
// token addressed, unless the message is automatic.
func (s *inboundSession) Data(r io.Reader) error {
	if s.postmaster {
		return s.forward(r)
	}
	head, err := headerOf(r, DefaultInboundMaxHeader)
	if err != nil {
		return err // ErrDataTooLarge or a broken connection
	}
	return s.confirmUnlessAutomatic(head)
}

// confirmUnlessAutomatic confirms the tokens of a reply whose header is
// head, unless it is an automatic message.
func (s *inboundSession) confirmUnlessAutomatic(head []byte) error {
	if len(s.tokens) == 0 {
		return nil
	}
	auto, why, err := automatic(head, s.null, s.from)
	if err != nil {
		s.in.m.message(msgMalformed)
		s.in.log.Info("inbound SMTP: reply not understood", "remote", s.remote, "err", err)
		return errMalformed
	}
	if auto {
		s.in.m.message(msgIgnoredAuto)
		s.in.log.Info("inbound SMTP: automatic reply ignored", "remote", s.remote, "why", why, "tokens", len(s.tokens))
		return nil
	}
	return s.confirmAll()
}

// forward reads the whole message (bounded by MaxMessageBytes), forwards
// it to the postmaster address and then confirms the transaction's
// tokens, if any, like any reply.
func (s *inboundSession) forward(r io.Reader) error {
	msg, err := io.ReadAll(r)
	if err != nil {
		return err // ErrDataTooLarge or a broken connection
	}
	ctx, cancel := context.WithTimeout(s.in.base, confirmTimeout)
	defer cancel()
	switch err := s.in.svc.ForwardPostmaster(ctx, msg); {
	case errors.Is(err, errPostmasterLoop):
		s.in.m.message(msgLoop)
		s.in.log.Warn("inbound SMTP: postmaster mail loop refused", "remote", s.remote)
		return errLoop
	case err != nil:
		s.in.m.message(msgFailed)
		s.in.log.Warn("inbound SMTP: postmaster mail not forwarded", "remote", s.remote, "err", err)
		return errForwardLater
	}
	s.in.m.message(msgForwarded)
	s.in.log.Info("inbound SMTP: postmaster mail forwarded", "remote", s.remote, "from_domain", domainPart(s.from))
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	return s.confirmUnlessAutomatic(append(head, "\r\n\r\n"...))
}

// headerOf reads r to its end and returns its header section with the
// blank line that ends it, or the first max bytes of a longer one (which
// then does not parse).
func headerOf(r io.Reader, max int) ([]byte, error) {
	br := bufio.NewReader(r)
	var head []byte
	for {
		line, err := br.ReadSlice('\n')
		if len(head) < max {
			head = append(head, line[:min(len(line), max-len(head))]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				return head, nil
			}
			return nil, err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, err
	}
	return head, nil
}

// confirmAll confirms each token; it answers 550 when none was still open
// and 451 when the store could not take a confirmation.
func (s *inboundSession) confirmAll() error {
	ctx, cancel := context.WithTimeout(s.in.base, confirmTimeout)
	defer cancel()
	var confirmed, gone int
	var failed error
	for _, tok := range s.tokens {
		c, err := s.in.svc.ConfirmReply(ctx, tok)
		switch {
		case err == nil:
			confirmed++
			s.in.m.message(msgConfirmed)
			s.in.log.LogAttrs(ctx, slog.LevelInfo, "inbound SMTP: confirmed by reply",
				slog.String("challenge", c.ID), slog.String("sender_domain", domainPart(c.Sender)), slog.String("remote", s.remote))
		case errors.Is(err, ErrUnknownToken):
			gone++ // used or expired between RCPT and the end of DATA
		default:
			failed = errors.Join(failed, err)
		}
	}
	switch {
	case failed != nil:
		s.in.m.message(msgFailed)
		s.in.log.Warn("inbound SMTP: confirmation failed", "remote", s.remote, "err", failed)
		return errTryLater
	case confirmed == 0 && gone > 0:
		s.in.m.message(msgGone)
		return errNoSuchToken
	}
	return nil
}

// Reset forgets the transaction.
func (s *inboundSession) Reset() { s.from, s.null, s.tokens, s.postmaster = "", false, nil, false }

// Logout ends the session.
func (s *inboundSession) Logout() error { return nil }

// ownDomain reports whether addr is at the mail domain (any case).
func (in *Inbound) ownDomain(addr string) bool {
	return strings.TrimSuffix(strings.ToLower(domainPart(addr)), ".") == in.domain
}

// domainPart is what follows the last @ (without angle brackets).
func domainPart(addr string) string {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}
