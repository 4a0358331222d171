package verify

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"text/template"
	"time"

	"github.com/wlns/wlns/record"
)

// maxLine is the longest body line sent without quoted-printable.
const maxLine = 76

// mailData fills the challenge mail's body.
type mailData struct {
	Sender, Domain, Relay, Expires string
	Confirm, Forgery, List         string
	Reply                          string
	Verp                           bool
}

var mailBody = template.Must(template.New("mail").Parse(`Hello,
{{if .Verp}}
a recipient of mail from the mail server

    {{.Relay}}

reported to the wlns whitelist that it is a mailing-list server whose
return paths at {{.Domain}} are per-recipient (VERP) addresses. As
postmaster of {{.Domain}}, please confirm this. Receiving mail servers
will then accept its list mail without asking anyone to confirm each
return path.

Confirm with one click:

{{.Confirm}}

or simply reply to this message (the text does not matter); the reply
goes to

    {{.Reply}}

If this is wrong, or you did not expect this message:

{{.Forgery}}
{{else}}
someone asked the wlns whitelist to confirm that mail from

    {{.Sender}}

sent through the mail server

    {{.Relay}}

really comes from you. Receiving mail servers hold such mail back (with a
temporary failure, so nothing is lost) until you confirm once; after
that, mail from you through this server, or the group it belongs to, is
accepted.

If you sent it, confirm with one click:

{{.Confirm}}

or simply reply to this message (the text does not matter); the reply
goes to

    {{.Reply}}

If you did not send it (someone forged your address), tell us and we will
not write to you about this server again:

{{.Forgery}}

If this server is a mailing-list server that sent the mail with a
per-recipient return path, tell us and we will ask the postmaster of
{{.Domain}} instead:

{{.List}}
{{end}}
The links work once and expire on {{.Expires}}.
You will not get another message about this.

-- 
wlns verification. This message was sent automatically; it does not
quote any mail, and replies go only to the address above.
`))

// compose builds the RFC 5322 challenge message for c with token.
func (s *Service) compose(c *record.Challenge, token string) ([]byte, error) {
	d := s.mailData(c, token)
	var body bytes.Buffer
	if err := mailBody.Execute(&body, d); err != nil {
		return nil, fmt.Errorf("composing challenge mail: %w", err)
	}
	msgID, err := newID()
	if err != nil {
		return nil, err
	}
	subject := "Please confirm your mail from " + c.Sender
	if d.Verp {
		subject = "Please confirm the mailing-list server for " + c.Domain
	}
	text, cte := encodeBody(body.String())
	return message([][2]string{
		{"From", s.cfg.From},
		{"To", "<" + record.Mailbox(c.Sender) + ">"},
		{"Subject", mime.QEncoding.Encode("utf-8", subject)},
		{"Date", s.cfg.Now().Format(time.RFC1123Z)},
		{"Message-ID", "<" + msgID + "." + c.ID + "@" + s.cfg.MailDomain + ">"},
		{"Reply-To", "<" + s.ReplyAddress(token) + ">"},
		{"Auto-Submitted", "auto-replied"},
		{"X-Auto-Response-Suppress", "All"},
		{"Precedence", "bulk"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", cte},
	}, text)
}

// message is an RFC 5322 message of headers (each refused if it would
// break the header block) and an encoded body.
func message(headers [][2]string, text string) ([]byte, error) {
	var m bytes.Buffer
	for _, h := range headers {
		if err := headerSafe(h[0], h[1]); err != nil {
			return nil, fmt.Errorf("composing mail: %w", err)
		}
		m.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	m.WriteString("\r\n")
	m.WriteString(text)
	return m.Bytes(), nil
}

func (s *Service) mailData(c *record.Challenge, token string) mailData {
	domain := c.Domain
	if domain == "" {
		domain = c.Sender[strings.LastIndexByte(c.Sender, '@')+1:]
	}
	return mailData{
		Sender:  c.Sender,
		Domain:  domain,
		Relay:   s.relayName(c),
		Expires: time.Unix(c.Expires, 0).UTC().Format("Mon, 2 Jan 2006 15:04 MST"),
		Confirm: s.link("confirm", token),
		Forgery: s.link("forgery", token),
		List:    s.link("list", token),
		Reply:   s.ReplyAddress(token),
		Verp:    c.Kind == record.ChallengeVerp,
	}
}

// link is the page URL for action and token.
func (s *Service) link(action, token string) string {
	return s.cfg.BaseURL + "/verify/" + action + "/" + token
}

// relayName says which relay a challenge is about: "name (ip)", with the
// entity's name or PTR when it has one. Control characters are dropped.
func (s *Service) relayName(c *record.Challenge) string {
	name := ""
	if e := s.store.Index().Load().Entity(c.Entity); e != nil {
		name = e.Name
		if name == "" {
			name = e.PTR
		}
		if name == "" && c.IP == "" {
			name = e.Label()
		}
	}
	name = printable(name)
	switch {
	case name == "":
		return c.IP
	case c.IP == "":
		return name
	}
	return name + " (" + c.IP + ")"
}

// printable drops control characters.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

// encodeBody turns body into CRLF lines; it is sent 8bit when every line
// fits, quoted-printable otherwise.
func encodeBody(body string) (text, cte string) {
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	long := false
	for _, l := range lines {
		long = long || len(l) > maxLine
	}
	if !long {
		return strings.Join(lines, "\r\n") + "\r\n", "8bit"
	}
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(strings.Join(lines, "\r\n") + "\r\n")) // a bytes.Buffer does not fail
	_ = w.Close()
	return b.String(), "quoted-printable"
}
