package systest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPolicy_WorksThroughARecursiveResolver: an MTA site points `wlns
// policy` at its own Unbound (to share its cache), which stubs the zone to
// wlns. The policy service asks with RD set, so Unbound resolves instead of
// answering REFUSED (which, failing open, passed every mail with only a
// WARN); the start-up probe passes through the resolver; listed senders
// pass and unlisted ones are deferred.
func TestPolicy_WorksThroughARecursiveResolver(t *testing.T) {
	n := startRelayNode(t)
	n.mustCLI("pair", "add", "alice@example.com", relayIP)
	u := startUnbound(t, unboundConfig{host: "127.0.0.1", port: freeUDPPort(t, "127.0.0.1"), stub: n.ready.DNSUDP})
	p := startPolicy(t, n, "--dns", u.addr)

	if got := policyAsk(t, p.addr, "alice@example.com", relayIP); got != "DUNNO" {
		t.Errorf("listed sender through the resolver: %q, want DUNNO; policy log:\n%s", got, p.logText())
	}
	if got := policyAsk(t, p.addr, "bob@example.com", relayIP); !strings.HasPrefix(got, "451 4.7.1 ") {
		t.Errorf("unlisted sender through the resolver: %q, want a 451 4.7.1 deferral; policy log:\n%s", got, p.logText())
	}
	if v := p.metric(t, "wlns_policy_probe_ok"); v != 1 {
		t.Errorf("wlns_policy_probe_ok = %v through the resolver, want 1", v)
	}
	if v := p.metric(t, `wlns_policy_decisions_total{decision="error"}`); v != 0 {
		t.Errorf("%v look-up errors through the resolver, want 0; policy log:\n%s", v, p.logText())
	}
}

// TestPolicy_RefusesToStartWhenTheProbeFails: a whitelist that cannot be
// asked, or answers the RFC 5782 test entries wrongly (here: a wrong apex,
// which wlns REFUSES), stops `wlns policy` at start-up with a clear message;
// with --allow-failed-probe it starts, says so at ERROR and shows
// wlns_policy_probe_ok 0.
func TestPolicy_RefusesToStartWhenTheProbeFails(t *testing.T) {
	n := startNode(t, "")
	dead := net.JoinHostPort("127.0.0.1", strconv.Itoa(freeUDPPort(t, "127.0.0.1")))
	for _, tc := range []struct{ name, dns, apex, why string }{
		{"whitelist down", dead, apex, "whitelist lookup failed"},
		{"wrong apex", n.ready.DNSUDP, "other.example", "REFUSED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, wlnsBin, "policy", "--listen", "127.0.0.1:0", "--dns", tc.dns, "--apex", tc.apex,
				"--dns-timeout", "300ms", "--dns-attempts", "1").CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("wlns policy still running after 20s, want it to refuse to start:\n%s", out)
			}
			if err == nil || !strings.Contains(string(out), "start-up probe") || !strings.Contains(string(out), tc.why) {
				t.Fatalf("wlns policy exit %v, output:\n%s\nwant a failed exit naming the start-up probe and %q", err, out, tc.why)
			}
		})
	}
	t.Run("allowed to start, loudly", func(t *testing.T) {
		p := startPolicy(t, n, "--dns", dead, "--dns-timeout", "300ms", "--dns-attempts", "1", "--allow-failed-probe")
		if v := p.metric(t, "wlns_policy_probe_ok"); v != 0 {
			t.Errorf("wlns_policy_probe_ok = %v, want 0", v)
		}
		if !strings.Contains(p.logText(), "level=ERROR") || !strings.Contains(p.logText(), "START-UP PROBE FAILED") {
			t.Errorf("the failed probe is not logged at ERROR:\n%s", p.logText())
		}
	})
}

// policyAsk sends one RCPT-stage policy request, as Postfix does, and
// returns the action.
func policyAsk(t *testing.T, addr, sender, client string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connecting to the policy service: %v", err)
	}
	action, err := policyExchange(c, sender, client)
	if err != nil {
		t.Fatal(err)
	}
	return action
}

// policyExchange sends one RCPT-stage request over c, reads the action and
// closes c.
func policyExchange(c net.Conn, sender, client string) (string, error) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nsender=%s\nrecipient=rcpt@%s\nclient_address=%s\n\n",
		sender, mtaDomain, client)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading the policy reply: %w", err)
	}
	action, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "action=")
	if !ok {
		return "", fmt.Errorf("policy reply %q has no action", line)
	}
	return action, nil
}
