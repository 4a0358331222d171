package systest

import (
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPostfix_EveryAddressFormCanBeWhitelisted: each address form a real
// Postfix accepts in MAIL FROM (an IDN domain with SMTPUTF8, dotted
// carrier-style local parts, a local part over 64 octets, an address
// literal, a UTF-8 local part, quoted local parts with a space, a leading
// space, quotes inside) is
// deferred with its address in the why URL while unlisted, is accepted by
// the API, and passes once listed. Before, each was deferred forever with
// an empty ?s= and refused by the API.
func TestPostfix_EveryAddressFormCanBeWhitelisted(t *testing.T) {
	postfix, _, unshare := needPostfix(t)
	n := startRelayNode(t)
	p := startPolicy(t, n, "--cache-size", "-1", "--why-url", "https://wl.test/why?s={sender}")
	port := freeTCPPort(t)
	startPostfix(t, postfix, unshare, []smtpdListener{{port: port, policy: p.addr}}, "")

	long := strings.Repeat("l", 100)
	for _, tc := range []struct{ from, inURL string }{
		{"jose@bücher.example", "jose%40xn--bcher-kva.example"},
		{"a..b@carrier.example", "a..b%40carrier.example"},
		{".x@carrier.example", ".x%40carrier.example"},
		{"x.@carrier.example", "x.%40carrier.example"},
		{long + "@carrier.example", long + "%40carrier.example"},
		{"user@[192.0.2.1]", "user%40%5B192.0.2.1%5D"},
		{"jörg@example.org", "j%C3%B6rg%40example.org"},
		{`"john doe"@carrier.example`, "john+doe%40carrier.example"},
		// Unquoted, these read as padding and as another quoted address:
		// they keep their quotes (Postfix passes them unquoted).
		{`" lead"@carrier.example`, "%22+lead%22%40carrier.example"},
		{`"\"q\""@carrier.example`, "%22%5C%22q%5C%22%22%40carrier.example"},
	} {
		t.Run(tc.from, func(t *testing.T) {
			code, text := smtpRcpt(t, port, tc.from)
			if code != 451 || !strings.Contains(text, "see https://wl.test/why?s="+tc.inURL) {
				t.Fatalf("unlisted: %d %s; want 451 with ?s=%s", code, text, tc.inURL)
			}
			n.mustCLI("pair", "add", tc.from, relayIP)
			if code, text := smtpRcpt(t, port, tc.from); code != 250 {
				t.Fatalf("listed: %d %s; want 250; policy log:\n%s", code, text, p.logText())
			}
		})
	}
}

// smtpRcpt says EHLO, MAIL FROM (with SMTPUTF8 when Postfix offers it,
// as net/smtp adds it) and one RCPT from relayIP, and returns the reply to
// MAIL or, when MAIL was accepted, to RCPT.
func smtpRcpt(t *testing.T, port int, from string) (int, string) {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(relayIP)}}
	conn, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("connecting to postfix: %v", err)
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	c, err := smtp.NewClient(conn, "127.0.0.1")
	if err != nil {
		t.Fatalf("postfix greeting: %v", err)
	}
	defer c.Close()
	if err := c.Hello("relay.example"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	err = c.Mail(from)
	if err == nil {
		err = c.Rcpt("rcpt@" + mtaDomain)
	}
	var pe *textproto.Error
	switch {
	case err == nil:
		return 250, ""
	case errors.As(err, &pe):
		return pe.Code, pe.Msg
	}
	t.Fatalf("SMTP session: %v", err)
	return 0, ""
}
