package verify

import (
	"io"
	"mime/quotedprintable"
	"net/mail"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

func TestMail_HeadersAndBody(t *testing.T) {
	e := newEnv(t)
	c, tok := e.mustSend("alice@example.com", relayIP)
	raw := e.sink.messages()[0].data
	if strings.Contains(strings.ReplaceAll(raw, "\r\n", ""), "\n") {
		t.Fatal("a line ends in a bare LF, not CRLF")
	}
	for _, l := range strings.Split(raw, "\r\n") {
		if len(l) > 78 {
			t.Fatalf("line of %d octets: %q", len(l), l)
		}
	}
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"From":                      "wlns verification <noreply@wl.example.org>",
		"To":                        "<alice@example.com>",
		"Reply-To":                  "<confirm-" + tok + "@wl.example.org>",
		"Auto-Submitted":            "auto-replied",
		"X-Auto-Response-Suppress":  "All",
		"Precedence":                "bulk",
		"MIME-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "8bit",
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if d, err := m.Header.Date(); err != nil || !d.Equal(e.now) {
		t.Errorf("Date %v (%v), want %v", d, err, e.now)
	}
	if id := m.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@wl.example.org>") || !strings.Contains(id, c.ID) {
		t.Errorf("Message-ID %q", id)
	}
	if s := m.Header.Get("Subject"); !strings.Contains(s, "alice@example.com") {
		t.Errorf("Subject %q", s)
	}
	body, _ := io.ReadAll(m.Body)
	for _, s := range []string{
		"https://wl.example.org/verify/confirm/" + tok + "\r\n",
		"https://wl.example.org/verify/forgery/" + tok + "\r\n",
		"https://wl.example.org/verify/list/" + tok + "\r\n",
		"reply to this message", "confirm-" + tok + "@wl.example.org",
		"mx1.example.net (198.51.100.7)", "alice@example.com",
		time.Unix(c.Expires, 0).UTC().Format("2 Jan 2006"),
	} {
		if !strings.Contains(string(body), s) {
			t.Errorf("body lacks %q:\n%s", s, body)
		}
	}
}

func TestMail_LongBaseURLIsQuotedPrintable(t *testing.T) {
	base := "https://verification.whitelist.example.org/a/rather/long/path/prefix/for/the/pages"
	e := newEnv(t, func(c *Config) { c.BaseURL = base })
	_, tok := e.mustSendRaw("alice@example.com", relayIP)
	raw := e.sink.messages()[0].data
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Fatalf("CTE %q", m.Header.Get("Content-Transfer-Encoding"))
	}
	for _, l := range strings.Split(raw, "\r\n") {
		if len(l) > 78 {
			t.Fatalf("line of %d octets: %q", len(l), l)
		}
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil || !strings.Contains(string(body), base+"/verify/confirm/"+tok) {
		t.Fatalf("decoded body (%v) lacks the confirm link:\n%s", err, body)
	}
}

// mustSendRaw is mustSend for mails whose links may be encoded: the token
// is read from Reply-To.
func (e *testEnv) mustSendRaw(sender string, ip netip.Addr) (*record.Challenge, string) {
	e.t.Helper()
	o := e.request(sender, ip)
	if o.Result != Sent {
		e.t.Fatalf("Request: %+v", o)
	}
	m, err := mail.ReadMessage(strings.NewReader(e.sink.messages()[0].data))
	if err != nil {
		e.t.Fatal(err)
	}
	tok, ok := e.svc.TokenFromAddress(m.Header.Get("Reply-To"))
	if !ok {
		e.t.Fatalf("Reply-To %q", m.Header.Get("Reply-To"))
	}
	return o.Challenge, tok
}

func TestMail_NamesCannotInjectHeaders(t *testing.T) {
	e := newEnv(t)
	evil := "evil\r\nBcc: victim@example.net\r\n\r\nhello"
	id := e.mustApply(command.EntityPut, command.EntityBody{Name: evil, Group: true, Prefixes: []string{"192.0.2.64/28"}}).ID
	if e.store.Index().Load().Entity(id).Name != evil {
		t.Fatalf("the store changed the name; rewrite this test for its rule")
	}
	e.request("alice@example.com", netip.MustParseAddr("192.0.2.65"))
	ms := e.sink.messages()
	if len(ms) != 1 {
		t.Fatalf("%d mails", len(ms))
	}
	head, _, _ := strings.Cut(ms[0].data, "\r\n\r\n")
	if strings.Contains(head, "Bcc") || strings.Contains(ms[0].data, "\nBcc:") {
		t.Fatalf("the name reached the header:\n%s", ms[0].data)
	}
	if !strings.Contains(ms[0].data, "evilBcc: victim@example.net") {
		t.Fatalf("the name is missing from the body, or kept its line breaks:\n%s", ms[0].data)
	}
	if len(ms[0].to) != 1 || ms[0].to[0] != "alice@example.com" {
		t.Fatalf("recipients %v", ms[0].to)
	}
}
