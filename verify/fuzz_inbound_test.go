package verify

import (
	"bufio"
	"bytes"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// smtpReplyLine is what every line the inbound service writes must look
// like: a three-digit code, a space or a hyphen, text (RFC 5321 §4.2).
var smtpReplyLine = regexp.MustCompile(`^[2-5][0-9][0-9]([ -].*)?$`)

// FuzzInboundSession writes arbitrary client bytes to the inbound SMTP
// service — commands, pipelined or not, broken DATA, long lines, bare LF —
// where "TOKEN" in the input stands for the token of one open challenge.
// Whatever the client sends, the service answers only well-formed SMTP
// replies, closes when the client is gone (no hang), confirms the challenge
// at most once, and only when the input names its reply address.
func FuzzInboundSession(f *testing.F) {
	seeds := []string{
		"EHLO c.example\r\nMAIL FROM:<s0@example.com>\r\nRCPT TO:<confirm-TOKEN@wl.test>\r\nDATA\r\n" + strings.ReplaceAll(humanReply, "\n", "\r\n") + ".\r\nQUIT\r\n",
		"HELO x\r\nMAIL FROM:<>\r\nRCPT TO:<confirm-TOKEN@wl.test>\r\nDATA\r\nAuto-Submitted: auto-replied\r\n\r\nout of office\r\n.\r\n",
		"EHLO x\r\nMAIL FROM:<a@b> SIZE=99999999999\r\nRCPT TO:<victim@example.org>\r\nRSET\r\nNOOP\r\nVRFY root\r\n",
		"EHLO x\nMAIL FROM:<a@b>\nRCPT TO:<CONFIRM-TOKEN@WL.TEST>\nDATA\nSubject: x\n\n..\n.\n",
		"EHLO x\r\nBDAT 10 LAST\r\n0123456789",
		"EHLO x\r\nMAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<confirm-TOKEN@wl.test> NOTIFY=NEVER\r\nDATA\r\n\xff\xfe\r\n.\r\n",
		"EHLO " + strings.Repeat("a", 2000) + "\r\nSTARTTLS\r\nAUTH PLAIN AGFAYg==\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		fr, toks := newFakeReplies(t, 1)
		tok := toks[0]
		addr, _, _ := startInbound(t, fr, nil)
		in = bytes.ReplaceAll(in, []byte("TOKEN"), []byte(tok))

		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		deadline := time.Now().Add(10 * time.Second)
		if err := c.SetDeadline(deadline); err != nil {
			t.Fatal(err)
		}
		go func() {
			_, _ = c.Write(in)
			_ = c.(*net.TCPConn).CloseWrite()
		}()
		sc := bufio.NewScanner(c)
		sc.Buffer(make([]byte, 4096), 64<<10)
		for sc.Scan() {
			line := strings.TrimSuffix(sc.Text(), "\r")
			if !smtpReplyLine.MatchString(line) {
				t.Fatalf("reply line %q is not an SMTP reply", line)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the service did not close the connection within 10s of the client's end")
		}
		n := fr.confirms(tok)
		names := bytes.Contains(bytes.ToLower(in), []byte("confirm-"+tok))
		if n > 1 || (n == 1 && !names) {
			t.Fatalf("confirmed %d times; input names the reply address: %v", n, names)
		}
	})
}
