package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
)

// errPostmasterLoop refuses a message that already went through the
// forward once: it carries our Delivered-To header.
var errPostmasterLoop = errors.New("mail loop: the message was already forwarded from postmaster")

// Postmaster says whether rcpt is the postmaster of the mail domain
// (postmaster@MailDomain, or the bare "Postmaster" RFC 5321 §4.5.1 also
// requires, in any case) and whether mail to it is forwarded
// (Config.Postmaster is set).
func (s *Service) Postmaster(rcpt string) (is, forwarded bool) {
	local, domain, found := strings.Cut(strings.ToLower(strings.Trim(strings.TrimSpace(rcpt), "<>")), "@")
	is = local == "postmaster" && (!found || strings.TrimSuffix(domain, ".") == s.cfg.MailDomain)
	return is, is && s.cfg.Postmaster != ""
}

// deliveredTo is the header line the forward prepends (RFC 9228), and by
// which it recognises its own loop.
func (s *Service) deliveredTo() string { return "Delivered-To: postmaster@" + s.cfg.MailDomain }

// ForwardPostmaster hands msg, a message received for the mail domain's
// postmaster, to Config.Postmaster through the relay, from the null
// sender (a forward that fails cannot bounce back into a loop), with a
// Delivered-To header in front. A message that already has that header is
// refused with errPostmasterLoop.
func (s *Service) ForwardPostmaster(ctx context.Context, msg []byte) error {
	if s.cfg.Postmaster == "" {
		return errors.New("no postmaster address configured")
	}
	line := s.deliveredTo()
	if head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n")); bytes.Contains(bytes.ToLower(head), bytes.ToLower([]byte(line))) {
		return errPostmasterLoop
	}
	out := make([]byte, 0, len(line)+2+len(msg))
	out = append(append(append(out, line...), "\r\n"...), msg...)
	if err := s.deliver(ctx, s.cfg.Postmaster, out); err != nil {
		return fmt.Errorf("forwarding postmaster mail to %s: %w", s.cfg.Postmaster, err)
	}
	return nil
}
