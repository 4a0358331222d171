package systest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The Postfix system test: a real Postfix 3.7 (Debian) on loopback ports,
// with check_policy_service pointing at real `wlns policy` processes that ask
// a real `wlns serve` over DNS; swaks plays the sending relay from a
// loopback source address.

const (
	// relayIP is the loopback address swaks sends from: the "relay".
	relayIP = "127.0.0.5"
	// mtaDomain is the domain Postfix accepts mail for (and discards it).
	mtaDomain = "wlns.test"
)

// TestPostfix_PolicyService runs the whole loop: unlisted sender deferred at
// RCPT (and at MAIL FROM with smtpd_delay_reject=no), null sender passes,
// report-only mode passes and counts, a dead whitelist fails closed or open
// as configured, and after `wlns pair add` the retry is accepted.
func TestPostfix_PolicyService(t *testing.T) {
	postfix, swaks, unshare := needPostfix(t)
	n := startRelayNode(t, "--negative-ttl", "1")
	enforce := startPolicy(t, n, "--why-url", "https://wl.test/why?s={sender}")
	reportOnly := startPolicy(t, n, "--report-only")
	// A policy service whose whitelist is down (nothing listens on the
	// port), one failing closed and one failing open.
	deadDNS := net.JoinHostPort("127.0.0.1", strconv.Itoa(freeUDPPort(t, "127.0.0.1")))
	closed := startPolicy(t, n, "--dns", deadDNS, "--fail-closed", "--dns-timeout", "500ms", "--allow-failed-probe")
	open := startPolicy(t, n, "--dns", deadDNS, "--dns-timeout", "500ms", "--allow-failed-probe")

	rcptPort, mailPort, roPort, closedPort, openPort := freeTCPPort(t), freeTCPPort(t), freeTCPPort(t), freeTCPPort(t), freeTCPPort(t)
	startPostfix(t, postfix, unshare, []smtpdListener{
		{port: rcptPort, policy: enforce.addr},
		{port: mailPort, policy: enforce.addr, atMail: true},
		{port: roPort, policy: reportOnly.addr},
		{port: closedPort, policy: closed.addr},
		{port: openPort, policy: open.addr},
	}, "")
	send := func(port int, from string, quitAfterRCPT bool) string {
		t.Helper()
		return runSwaks(t, swaks, port, from, quitAfterRCPT)
	}

	const alice = "alice@example.com"
	const deferred = "sender not yet validated in global whitelist; see https://wl.test/why?s=alice%40example.com"

	t.Run("unlisted sender gets 451 at RCPT", func(t *testing.T) {
		out := send(rcptPort, alice, true)
		mustContain(t, out, "<** 451 4.7.1 <rcpt@"+mtaDomain+">: Recipient address rejected: "+deferred)
	})
	t.Run("unlisted sender gets 451 at MAIL FROM", func(t *testing.T) {
		out := send(mailPort, alice, true)
		mustContain(t, out, "<** 451 4.7.1 <"+alice+">: Sender address rejected: "+deferred)
	})
	t.Run("null sender passes", func(t *testing.T) {
		out := send(rcptPort, "<>", true)
		mustContain(t, out, "<-  250 2.1.5 Ok")
	})
	t.Run("report-only passes and counts", func(t *testing.T) {
		out := send(roPort, alice, true)
		mustContain(t, out, "<-  250 2.1.5 Ok")
		if v := reportOnly.metric(t, `wlns_policy_decisions_total{decision="would_defer"}`); v != 1 {
			t.Errorf("report-only would_defer count = %v, want 1", v)
		}
		if v := reportOnly.metric(t, `wlns_policy_decisions_total{decision="defer"}`); v != 0 {
			t.Errorf("report-only defer count = %v, want 0", v)
		}
	})
	t.Run("whitelist down: fail closed gives 451 4.3.0", func(t *testing.T) {
		out := send(closedPort, alice, true)
		mustContain(t, out, "<** 451 4.3.0 <rcpt@"+mtaDomain+">: Recipient address rejected: whitelist temporarily unavailable")
	})
	t.Run("whitelist down: fail open passes", func(t *testing.T) {
		out := send(openPort, alice, true)
		mustContain(t, out, "<-  250 2.1.5 Ok")
		if v := open.metric(t, `wlns_policy_decisions_total{decision="error"}`); v != 1 {
			t.Errorf("fail-open error count = %v, want 1", v)
		}
	})
	t.Run("after pair add the retry is accepted", func(t *testing.T) {
		n.mustCLI("pair", "add", alice, relayIP)
		// The policy service caches the NXDOMAIN for the negative TTL (1s
		// here): retry as an MTA would, bounded.
		deadline := time.Now().Add(20 * time.Second)
		for {
			out := send(rcptPort, alice, false)
			if strings.Contains(out, "<-  250 2.0.0 Ok: queued as") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still not accepted 20s after pair add:\n%s", out)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if v := enforce.metric(t, `wlns_policy_decisions_total{decision="pass"}`); v < 2 {
			t.Errorf("pass count = %v, want at least 2 (null sender, listed sender)", v)
		}
	})
	t.Run("policy log keeps the address out at info level", func(t *testing.T) {
		for _, p := range []*policyProc{enforce, reportOnly} {
			logs := p.logText()
			if strings.Contains(logs, "alice@") {
				t.Errorf("policy log holds the full sender address:\n%s", logs)
			}
			if !strings.Contains(logs, "sender_domain=example.com") {
				t.Errorf("policy log lacks the sender domain:\n%s", logs)
			}
		}
	})
}

// TestPostfix_DNSWLClientUsesRelayZone checks the plain DNS use of the
// relay zone, without the policy service: Postfix's own
// permit_dnswl_client, asking through the libc resolver an Unbound that
// stubs the zone to wlns (resolv.conf cannot name a port).
func TestPostfix_DNSWLClientUsesRelayZone(t *testing.T) {
	postfix, swaks, unshare := needPostfix(t)
	n := startRelayNode(t)
	host := spareLoopback(t)
	startUnbound(t, unboundConfig{host: host, port: 53, stub: n.ready.DNSUDP})
	resolvConf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolvConf, []byte("nameserver "+host+"\noptions timeout:2 attempts:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freeTCPPort(t)
	startPostfix(t, postfix, unshare, []smtpdListener{
		{port: port, restrictions: "permit_dnswl_client relay." + apex + "=127.0.2.1 defer"},
	}, resolvConf)

	if out := runSwaksFrom(t, swaks, relayIP, port, "bob@example.com"); !strings.Contains(out, "<-  250 2.1.5 Ok") {
		t.Errorf("registered relay %s not accepted by permit_dnswl_client:\n%s", relayIP, out)
	}
	if out := runSwaksFrom(t, swaks, "127.0.0.9", port, "bob@example.com"); !strings.Contains(out, "<** 450 4.3.2 <rcpt@"+mtaDomain+">: Recipient address rejected") {
		t.Errorf("unregistered 127.0.0.9 not deferred by the final defer:\n%s", out)
	}
}

// needPostfix skips (or fails in CI) without root, Postfix, swaks and
// unshare, and returns their paths.
func needPostfix(t *testing.T) (postfix, swaks, unshare string) {
	t.Helper()
	needRoot(t)
	return needTool(t, "postfix", "postfix"), needTool(t, "swaks", "swaks"), needTool(t, "unshare", "util-linux")
}

// startRelayNode starts a node with relayIP registered as a relay.
func startRelayNode(t *testing.T, extra ...string) *node {
	t.Helper()
	n := startNode(t, "", extra...)
	n.mustCLI("relay", "add", relayIP, "--contact", "postmaster@relay.example")
	return n
}

func mustContain(t *testing.T, out, want string) {
	t.Helper()
	if !strings.Contains(out, want) {
		t.Fatalf("swaks output lacks %q:\n%s", want, out)
	}
}

// runSwaksFrom stops after RCPT, sending from the loopback address src.
func runSwaksFrom(t *testing.T, swaks, src string, port int, from string) string {
	t.Helper()
	return swaksRun(t, swaks, src, port, from, true)
}

// runSwaks sends one message (or stops after RCPT) from relayIP.
func runSwaks(t *testing.T, swaks string, port int, from string, quitAfterRCPT bool) string {
	t.Helper()
	return swaksRun(t, swaks, relayIP, port, from, quitAfterRCPT)
}

// swaksRun runs swaks from the loopback address src to port, with any
// extra swaks arguments.
func swaksRun(t *testing.T, swaks, src string, port int, from string, quitAfterRCPT bool, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"--server", "127.0.0.1", "--port", strconv.Itoa(port), "--local-interface", src,
		"--helo", "relay.example", "--from", from, "--to", "rcpt@" + mtaDomain, "--timeout", "20"}
	args = append(args, extra...)
	if quitAfterRCPT {
		args = append(args, "--quit-after", "RCPT")
	}
	out, err := exec.CommandContext(ctx, swaks, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("swaks did not finish in 30s: %s", out)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running swaks: %v", err)
	}
	return string(out)
}

// freeTCPPort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freeTCPPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free TCP port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// policyProc is one running `wlns policy`.
type policyProc struct {
	addr, metrics, logPath string
}

// startPolicy starts `wlns policy` asking n, on ephemeral loopback ports,
// and waits until it serves. It is stopped (SIGTERM, then checked to exit)
// when the test ends.
func startPolicy(t *testing.T, n *node, extra ...string) *policyProc {
	t.Helper()
	return startPolicyIn(t, "", append([]string{"--listen", "127.0.0.1:0", "--dns", n.ready.DNSUDP,
		"--metrics", "127.0.0.1:0"}, extra...)...)
}

// startPolicyIn starts `wlns policy` with args inside network namespace
// netns ("": the test's own), and waits until it serves.
func startPolicyIn(t *testing.T, netns string, args ...string) *policyProc {
	t.Helper()
	dir := t.TempDir()
	p := &policyProc{logPath: filepath.Join(dir, "policy.log")}
	ready := filepath.Join(dir, "ready.json")
	args = append([]string{wlnsBin, "policy", "--apex", apex, "--ready-file", ready}, args...)
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
	}
	logf := createLog(t, p.logPath)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with a killed test
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting wlns policy: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("wlns policy exited with %v after SIGTERM; log:\n%s", err, p.logText())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("wlns policy did not stop within 10s of SIGTERM")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		var r struct {
			Listen  []string `json:"listen"`
			Metrics string   `json:"metrics"`
		}
		if b, err := os.ReadFile(ready); err == nil && json.Unmarshal(b, &r) == nil && len(r.Listen) == 1 {
			p.addr, p.metrics = r.Listen[0], r.Metrics
			return p
		}
		select {
		case err := <-done:
			t.Fatalf("wlns policy exited before it was ready (%v); log:\n%s", err, p.logText())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("wlns policy not ready after 30s; log:\n%s", p.logText())
		}
	}
}

func (p *policyProc) logText() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// metric reads one sample (name with labels, as exposed) from /metrics.
func (p *policyProc) metric(t *testing.T, series string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.metrics+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("reading policy metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", series, err)
			}
			return f
		}
	}
	t.Fatalf("metric %s not exposed", series)
	return 0
}

// smtpdListener is one Postfix SMTP port and the policy service it asks.
type smtpdListener struct {
	port   int
	policy string
	// restrictions, when set, replace the policy check at RCPT.
	restrictions string
	// atMail asks at MAIL FROM (smtpd_delay_reject=no,
	// smtpd_sender_restrictions) instead of at RCPT.
	atMail bool
	// options are main.cf lines ("name = value") that apply to this
	// listener only (master.cf -o), such as smtpd_milters.
	options []string
}

// startPostfix runs Postfix from its own config and queue directories (never
// /etc/postfix) in a new PID namespace, so every Postfix process dies with
// the test; the cleanup checks that none is left.
// When resolvConf is set it is bind-mounted over /etc/resolv.conf inside
// the namespace (a private mount namespace: the host's file is untouched),
// so Postfix's own DNS list look-ups go where the test says.
func startPostfix(t *testing.T, postfix, unshare string, ls []smtpdListener, resolvConf string) {
	t.Helper()
	runPostfix(t, postfix, unshare, postfixDir(t, ls), ls, resolvConf)
}

// postfixDir makes a temporary Postfix config and queue folder for ls
// (removed when the test ends) and returns it.
func postfixDir(t *testing.T, ls []smtpdListener) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wlns-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	writePostfixConfig(t, dir, ls)
	return dir
}

// runPostfix starts the Postfix configured in dir as startPostfix
// describes and waits for every listener's banner.
func runPostfix(t *testing.T, postfix, unshare, dir string, ls []smtpdListener, resolvConf string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, postfix, "-c", filepath.Join(dir, "etc"), "check").CombinedOutput(); err != nil {
		t.Fatalf("postfix check: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "postfix.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// unshare's child, a shell, is PID 1 of a new PID namespace and runs
	// `postfix start-fg` (master in the foreground) as its child. When the
	// shell dies, the kernel kills everything in the namespace; it dies
	// when unshare does (--kill-child), and unshare when this test process
	// does (Pdeathsig), so not even a test killed by its timeout leaves
	// Postfix behind. (Letting master itself be PID 1 did not survive this
	// chain: it outlived unshare.)
	script := `"$0" -c "$1" start-fg & wait`
	if resolvConf != "" {
		script = `mount --bind "$2" /etc/resolv.conf || exit 1; ` + script
	}
	cmd := exec.Command(unshare, "--pid", "--fork", "--kill-child", "--mount", "--mount-proc",
		"sh", "-c", script, postfix, filepath.Join(dir, "etc"), resolvConf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting postfix: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	logTail := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	initPID, ns := pidNamespaceOf(t, cmd.Process.Pid, done)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("postfix log:\n%s", logTail())
		}
		// SIGKILL to the namespace's PID 1 ends the whole namespace.
		_ = syscall.Kill(initPID, syscall.SIGKILL)
		_ = cmd.Process.Kill()
		<-done
		if left := waitNamespaceEmpty(ns, 10*time.Second); len(left) > 0 {
			t.Errorf("Postfix processes left after the test: %v", left)
		}
	})
	for _, l := range ls {
		waitSMTPBanner(t, l.port, done, logTail)
	}
}

func writePostfixConfig(t *testing.T, dir string, ls []smtpdListener) {
	t.Helper()
	etc := filepath.Join(dir, "etc")
	for _, d := range []string{etc, filepath.Join(dir, "spool"), filepath.Join(dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pu, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("the postfix user: %v", err)
	}
	uid, _ := strconv.Atoi(pu.Uid)
	if err := os.Chown(filepath.Join(dir, "data"), uid, -1); err != nil {
		t.Fatal(err)
	}
	main := fmt.Sprintf(`compatibility_level = 3.6
myhostname = mx.%[2]s
mydomain = %[2]s
myorigin = $myhostname
queue_directory = %[1]s/spool
data_directory = %[1]s/data
maillog_file = /dev/stdout
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
mydestination =
relay_domains = %[2]s
transport_maps = inline:{ %[2]s=discard: }
local_recipient_maps =
smtpd_peername_lookup = no
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
biff = no
`, dir, mtaDomain)
	var master strings.Builder
	for _, l := range ls {
		policy := fmt.Sprintf("check_policy_service { inet:%s, timeout=10s, default_action=DUNNO }", l.policy)
		fmt.Fprintf(&master, "127.0.0.1:%d inet n - n - - smtpd\n", l.port)
		for _, o := range l.options {
			fmt.Fprintf(&master, "  -o { %s }\n", o)
		}
		if l.restrictions != "" {
			fmt.Fprintf(&master, "  -o { smtpd_recipient_restrictions = reject_unauth_destination %s }\n", l.restrictions)
			continue
		}
		if l.atMail {
			fmt.Fprintf(&master, "  -o smtpd_delay_reject=no\n  -o { smtpd_sender_restrictions = %s }\n", policy)
		} else {
			fmt.Fprintf(&master, "  -o { smtpd_recipient_restrictions = reject_unauth_destination %s }\n", policy)
		}
	}
	master.WriteString(postfixServices)
	for name, text := range map[string]string{"main.cf": main, "master.cf": master.String()} {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// postfixServices are the internal services of Debian's master.cf, none
// chrooted.
const postfixServices = `cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

// waitSMTPBanner waits (bounded) until the port greets with 220.
func waitSMTPBanner(t *testing.T, port int, done <-chan struct{}, logTail func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			_, _ = io.WriteString(c, "QUIT\r\n")
			c.Close()
			if strings.HasPrefix(line, "220 ") {
				return
			}
		}
		select {
		case <-done:
			t.Fatalf("postfix exited before port %d served; log:\n%s", port, logTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix port %d not serving after 30s; log:\n%s", port, logTail())
		}
	}
}

// pidNamespaceOf returns the PID of unshare's child (the namespace's PID 1,
// as seen from here) and its PID namespace, waiting for the child to appear.
func pidNamespaceOf(t *testing.T, pid int, done <-chan struct{}) (int, string) {
	t.Helper()
	self, _ := os.Readlink("/proc/self/ns/pid")
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		for _, c := range strings.Fields(string(b)) {
			if ns, err := os.Readlink("/proc/" + c + "/ns/pid"); err == nil && ns != self {
				child, _ := strconv.Atoi(c)
				return child, ns
			}
		}
		select {
		case <-done:
			t.Fatal("unshare exited at once")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no child of unshare in a new PID namespace after 10s")
		}
	}
}

// waitNamespaceEmpty polls until no process lives in the PID namespace ns,
// and returns the PIDs still there after limit.
func waitNamespaceEmpty(ns string, limit time.Duration) []string {
	deadline := time.Now().Add(limit)
	for {
		var left []string
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == ns {
				left = append(left, e.Name())
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(100 * time.Millisecond)
	}
}
