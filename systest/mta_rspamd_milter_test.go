package systest

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Rspamd milter test puts a real Postfix in front of the Rspamd of
// mta_rspamd_test.go: Postfix hands every message to Rspamd's rspamd_proxy
// worker in milter mode, which scans it with the documented wlns rule and
// tells Postfix what to answer at the end of DATA.
//
// The rule never checks loopback clients (they are the operator's own
// network), so swaks connects from a loopback address and announces the
// registered relay mtaRelay with XCLIENT, which this Postfix accepts from
// loopback only. Postfix then reports mtaRelay to the milter as the client,
// exactly as it reports a real remote client.

// rspamdMilterMainCF are the Postfix lines docs/mta.md gives for Rspamd's
// milter, the milter's address as %s; the test checks that the document
// holds them with Rspamd's default proxy address.
var rspamdMilterMainCF = []string{
	"smtpd_milters = inet:%s",
	"milter_protocol = 6",
	"milter_default_action = tempfail",
}

// rspamdDefaultMilter is the rspamd_proxy address of Debian's Rspamd.
const rspamdDefaultMilter = "127.0.0.1:11332"

// TestRspamd_MilterSoftRejectReachesPostfix checks what a sending relay
// sees through Postfix and Rspamd's milter: a listed sender is queued, an
// unlisted one gets 451 4.7.1 with the whitelist text after DATA, and after
// `wlns pair add` the retry is queued.
func TestRspamd_MilterSoftRejectReachesPostfix(t *testing.T) {
	mustDocumentMilterLines(t)
	postfix := needTool(t, "postfix", "postfix")
	swaks := needTool(t, "swaks", "swaks")
	unshare := needTool(t, "unshare", "util-linux")
	w := newMTAWorld(t)
	r := startRspamd(t, w.n.ready.DNSUDP)
	waitListening(t, r.milter, 20*time.Second)

	// port asks Rspamd; deadPort a milter address where nothing listens
	// (Rspamd down).
	port, deadPort := freeTCPPort(t), freeTCPPort(t)
	dead := net.JoinHostPort("127.0.0.1", strconv.Itoa(freeTCPPort(t)))
	xclient := "smtpd_authorized_xclient_hosts = 127.0.0.0/8"
	startPostfix(t, postfix, unshare, []smtpdListener{
		{port: port, restrictions: "permit", options: append(milterLines(r.milter), xclient)},
		{port: deadPort, restrictions: "permit", options: append(milterLines(dead), xclient)},
	}, "")
	sendTo := func(port int, from string) string {
		t.Helper()
		return swaksRun(t, swaks, relayIP, port, from, false, "--xclient-addr", mtaRelay)
	}
	send := func(from string) string { t.Helper(); return sendTo(port, from) }

	t.Run("listed sender is queued", func(t *testing.T) {
		mustContain(t, send(mtaListed), "<-  250 2.0.0 Ok: queued as")
	})
	const erin = "erin@example.com"
	t.Run("unlisted sender gets 451 4.7.1 after DATA", func(t *testing.T) {
		out := send(erin)
		if line, ok := deferredAfterData(out); !ok {
			t.Fatalf("reply to DATA %q, want 451 4.7.1 %s:\n%s", line, mtaDeferText, out)
		}
	})
	t.Run("after pair add the retry is queued", func(t *testing.T) {
		w.n.mustCLI("pair", "add", erin, mtaRelay)
		eventually(t, 20*time.Second, func() (bool, string) {
			out := send(erin)
			return strings.Contains(out, "<-  250 2.0.0 Ok: queued as"), out
		})
	})
	t.Run("Rspamd down: listed sender is temp-failed", func(t *testing.T) {
		out := sendTo(deadPort, mtaListed)
		mustContain(t, out, "<** 451 4.7.1 Service unavailable - try again later")
		if strings.Contains(out, "queued as") {
			t.Fatalf("message queued with the milter down:\n%s", out)
		}
	})
}

// milterLines are rspamdMilterMainCF for the milter at addr.
func milterLines(addr string) []string {
	lines := make([]string, len(rspamdMilterMainCF))
	for i, l := range rspamdMilterMainCF {
		lines[i] = l
		if strings.Contains(l, "%s") {
			lines[i] = fmt.Sprintf(l, addr)
		}
	}
	return lines
}

// mustDocumentMilterLines fails unless docs/mta.md gives every line the
// test configures, as its own line.
func mustDocumentMilterLines(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("../docs/mta.md")
	if err != nil {
		t.Fatalf("reading docs/mta.md: %v", err)
	}
	doc := "\n" + string(b)
	for _, l := range milterLines(rspamdDefaultMilter) {
		if !strings.Contains(doc, "\n"+l+"\n") {
			t.Errorf("docs/mta.md lacks the Postfix line %q", l)
		}
	}
}

// deferredAfterData reports whether the server's answer to the end of the
// message (the last reply swaks shows) is 451 4.7.1 with the whitelist text,
// and returns that reply.
func deferredAfterData(out string) (string, bool) {
	var last string
	afterDot := false
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "-> ." {
			afterDot = true
			continue
		}
		if afterDot && (strings.HasPrefix(line, "<-") || strings.HasPrefix(line, "<**")) {
			last = line
			break
		}
	}
	return last, strings.HasPrefix(last, "<** 451 4.7.1 ") && strings.Contains(last, mtaDeferText)
}

// waitListening waits (bounded) until addr accepts TCP connections.
func waitListening(t *testing.T, addr string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s after %v: %v", addr, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
