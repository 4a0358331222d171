package verify

import (
	"context"
	"fmt"
	"mime"
	"time"
)

// SendNotice mails text to rcpt through the relay challenge mail goes
// through, with the same null return path and an Auto-Submitted header
// (RFC 3834 auto-generated): the web console's sign-in links to a relay's
// registered contact. The caller decides who may be mailed and how often.
func (s *Service) SendNotice(ctx context.Context, rcpt, subject, text string) error {
	id, err := newID()
	if err != nil {
		return err
	}
	body, cte := encodeBody(text)
	msg, err := message([][2]string{
		{"From", s.cfg.From},
		{"To", "<" + rcpt + ">"},
		{"Subject", mime.QEncoding.Encode("utf-8", subject)},
		{"Date", s.cfg.Now().Format(time.RFC1123Z)},
		{"Message-ID", "<" + id + ".notice@" + s.cfg.MailDomain + ">"},
		{"Auto-Submitted", "auto-generated"},
		{"X-Auto-Response-Suppress", "All"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", cte},
	}, body)
	if err != nil {
		return err
	}
	if err := s.deliver(ctx, rcpt, msg); err != nil {
		return fmt.Errorf("mailing %s: %w", rcpt, err)
	}
	return nil
}

// BaseURL is the public base URL of the node's pages (Config.BaseURL).
func (s *Service) BaseURL() string { return s.cfg.BaseURL }
