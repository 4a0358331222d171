package systest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Exim system test runs the Debian Exim binary in host-checking mode
// (`exim -bh IP`: a fake SMTP session on stdin/stdout, nothing listens,
// nothing is delivered, but the ACLs and their DNS list look-ups run for
// real, as do ${readsocket} calls to `wlns policy`) with
// docs/examples/exim-wlns.conf or exim-wlns-policy.conf included verbatim,
// so the documented configuration is the tested one.
//
// Debian's exim4 packages conflict with Postfix (both are the system MTA),
// so scripts/test-deps.sh does not install them: it unpacks
// exim4-daemon-light and exim4-base into eximRootDefault (or
// $WLNS_EXIM_ROOT). The binary wants its compiled-in user Debian-exim to
// exist; the test gives it one in copies of /etc/passwd and /etc/group
// bind-mounted in a private mount namespace, so the host is not changed.

// eximRootDefault is where scripts/test-deps.sh unpacks the Exim packages.
const eximRootDefault = "/opt/wlns-test/exim"

// The documented ACLs, relative to this package: DNS lists built in the
// ACL, and the policy service over ${readsocket}.
const (
	eximExample       = "../docs/examples/exim-wlns.conf"
	eximPolicyExample = "../docs/examples/exim-wlns-policy.conf"
)

// eximACL is a documented ACL file, the MAIL ACL it defines, and the macro
// lines it needs.
type eximACL struct {
	file, name, macros string
}

// exim runs host-checking sessions against one configuration.
type exim struct {
	t      *testing.T
	bin    string
	conf   string
	mounts []bindMount // passwd, group; resolv.conf is added per session
}

// TestExim_DNSListsACL checks the documented ACL end to end: listed pairs
// (by address, case-insensitively, over IPv6, domain-wide), VERP list
// servers, the null sender and role addresses are accepted at MAIL FROM;
// unlisted senders and unregistered relays get the 451; a registered
// relay is visible to later ACLs; a sender verified later passes on the
// retry; an unreachable whitelist fails open.
func TestExim_DNSListsACL(t *testing.T) {
	w := newMTAWorld(t)
	resolvConf, deadConf := w.systemResolvers(t)
	x := newExim(t, eximACL{eximExample, "wlns_check_mail", "WLNS_ZONE = " + apex})

	cases := []struct {
		name, ip, sender string
		accepted         bool
		relay            string // what the RCPT ACL sees in acl_m_wlns_relay
	}{
		{"listed pair", mtaRelay, mtaListed, true, "registered"},
		{"listed pair, other case", mtaRelay, "Alice@Example.COM", true, "registered"},
		{"listed pair over IPv6", mtaRelay6, mtaListed, true, "registered"},
		{"listed pair, '+' in the local part", mtaRelay, mtaPlus, true, "registered"},
		{"domain-wide entry", mtaRelay, "anyone@" + mtaWideDomain, true, "registered"},
		{"VERP list server", mtaRelay, "bounce-alice=example.com@" + mtaListDomain, true, "registered"},
		{"null sender", mtaStranger, "", true, "unknown"},
		{"role address", mtaStranger, "Postmaster@example.org", true, "unknown"},
		{"unlisted sender", mtaRelay, mtaUnlisted, false, ""},
		{"unlisted sender with odd local part", mtaRelay, "first.last+tag@example.com", false, ""},
		{"listed sender, unregistered relay", mtaStranger, mtaListed, false, ""},
		{"listed sender, other IPv6 relay", "2001:db8::26", mtaListed, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := x.session(c.ip, c.sender, resolvConf)
			if !c.accepted {
				s.mustReply(t, "451 4.7.1 "+mtaDeferText)
				s.mustNotReply(t, "250 Accepted")
				return
			}
			s.mustReply(t, "250 OK")
			s.mustReply(t, "250 Accepted (wlns relay: "+c.relay+")")
		})
	}

	t.Run("verified sender passes on the retry", func(t *testing.T) {
		const carol = "carol@example.com"
		x.session(mtaRelay, carol, resolvConf).mustReply(t, "451 4.7.1 "+mtaDeferText)
		w.n.mustCLI("pair", "add", carol, mtaRelay)
		eventually(t, 20*time.Second, func() (bool, string) {
			s := x.session(mtaRelay, carol, resolvConf)
			return strings.Contains(s.replies, "250 Accepted"), s.String()
		})
	})
	t.Run("unreachable whitelist fails open", func(t *testing.T) {
		x.session(mtaRelay, mtaUnlisted, deadConf).mustReply(t, "250 Accepted (wlns relay: unknown)")
	})
}

// TestExim_PolicyServiceACL checks the documented ACL that asks `wlns
// policy` over ${readsocket}: the policy service's deferral text reaches the
// client at MAIL FROM, listed senders and the null sender pass, a sender
// verified later passes on the retry, and an unreachable policy service
// fails open.
func TestExim_PolicyServiceACL(t *testing.T) {
	w := newMTAWorld(t)
	policy := startPolicy(t, w.n)
	dead := "inet:127.0.0.1:" + strconv.Itoa(freeTCPPort(t))
	x := newExim(t, eximACL{eximPolicyExample, "wlns_policy_mail", "WLNS_POLICY = inet:" + policy.addr})
	down := newExim(t, eximACL{eximPolicyExample, "wlns_policy_mail", "WLNS_POLICY = " + dead})
	const noDNS = "" // Exim asks no DNS here: the policy service asks wlns

	cases := []struct {
		name, ip, sender string
		accepted         bool
	}{
		{"listed pair", mtaRelay, mtaListed, true},
		{"listed pair over IPv6", mtaRelay6, mtaListed, true},
		{"VERP list server", mtaRelay, "bounce-alice=example.com@" + mtaListDomain, true},
		{"null sender", mtaStranger, "", true},
		{"unlisted sender", mtaRelay, mtaUnlisted, false},
		{"listed sender, unregistered relay", mtaStranger, mtaListed, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := x.session(c.ip, c.sender, noDNS)
			if !c.accepted {
				s.mustReply(t, "451 4.7.1 "+mtaDeferText)
				s.mustNotReply(t, "250 Accepted")
				return
			}
			s.mustReply(t, "250 OK")
			s.mustReply(t, "250 Accepted")
		})
	}
	t.Run("verified sender passes on the retry", func(t *testing.T) {
		const frank = "frank@example.com"
		x.session(mtaRelay, frank, noDNS).mustReply(t, "451 4.7.1 "+mtaDeferText)
		w.n.mustCLI("pair", "add", frank, mtaRelay)
		eventually(t, 20*time.Second, func() (bool, string) {
			s := x.session(mtaRelay, frank, noDNS)
			return strings.Contains(s.replies, "250 Accepted"), s.String()
		})
	})
	t.Run("unreachable policy service fails open", func(t *testing.T) {
		down.session(mtaRelay, mtaUnlisted, noDNS).mustReply(t, "250 Accepted")
	})
}

// newExim finds the unpacked Exim, checks that it runs (its shared
// libraries resolve), and writes a minimal configuration around a
// documented ACL.
func newExim(t *testing.T, acl eximACL) *exim {
	t.Helper()
	root := os.Getenv("WLNS_EXIM_ROOT")
	if root == "" {
		root = eximRootDefault
	}
	x := &exim{t: t, bin: filepath.Join(root, "usr/sbin/exim4")}
	if _, err := os.Stat(x.bin); err != nil {
		missing(t, fmt.Sprintf("%s not found (Debian exim4-daemon-light, unpacked by scripts/test-deps.sh into %s)", x.bin, root))
	}
	// Not t.TempDir: its parent is private to root, and Exim looks at its
	// spool as Debian-exim.
	dir, err := os.MkdirTemp("", "wlns-exim-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	x.mounts = []bindMount{
		{withEximUser(t, dir, "/etc/passwd", "Debian-exim:x:64990:64990:Exim:/nonexistent:/usr/sbin/nologin"), "/etc/passwd"},
		{withEximUser(t, dir, "/etc/group", "Debian-exim:x:64990:"), "/etc/group"},
	}
	example, err := filepath.Abs(acl.file)
	if err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	x.conf = filepath.Join(dir, "exim.conf")
	conf := fmt.Sprintf(`%[1]s
primary_hostname = mx.%[2]s
domainlist local_domains = %[2]s
hostlist relay_from_hosts = 127.0.0.1
acl_smtp_mail = %[5]s
acl_smtp_rcpt = check_rcpt
spool_directory = %[3]s
log_file_path = %[3]s/%%slog
keep_environment =
begin acl
.include %[4]s
# The test's own RCPT ACL shows what the documented one left for later ACLs.
check_rcpt:
  deny   !domains = +local_domains
         message = relay not permitted
  accept message = 250 Accepted (wlns relay: ${if def:acl_m_wlns_relay{$acl_m_wlns_relay}{unknown}})
`, acl.macros, mtaDomain, spool, example, acl.name)
	if err := os.WriteFile(x.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, cancel := isolatedCmd(t, 30*time.Second, x.mounts, x.bin, "-C", x.conf, "-bV")
	defer cancel()
	if out, err := cmd.CombinedOutput(); err != nil || !bytes.Contains(out, []byte("Exim version 4")) {
		t.Fatalf("exim -bV (shared libraries, configuration): %v\n%s", err, out)
	}
	return x
}

// withEximUser writes a copy of an /etc account file with line added
// (unless the host already has the account) and returns its path.
func withEximUser(t *testing.T, dir, file, line string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading %s: %v", file, err)
	}
	if !bytes.Contains(b, []byte("\nDebian-exim:")) && !bytes.HasPrefix(b, []byte("Debian-exim:")) {
		if len(b) > 0 && b[len(b)-1] != '\n' {
			b = append(b, '\n')
		}
		b = append(b, line+"\n"...)
	}
	p := filepath.Join(dir, filepath.Base(file))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// eximSession is what one host-checking session printed.
type eximSession struct {
	replies string // the SMTP replies (stdout)
	trace   string // Exim's ACL trace (stderr)
}

func (s eximSession) String() string { return s.replies + "\n--- ACL trace ---\n" + s.trace }

// mustReply fails the test unless Exim sent a reply line containing want.
func (s eximSession) mustReply(t *testing.T, want string) {
	t.Helper()
	if !strings.Contains(s.replies, want) {
		t.Fatalf("Exim did not reply %q:\n%s", want, s)
	}
}

// mustNotReply fails the test if Exim sent a reply line containing bad.
func (s eximSession) mustNotReply(t *testing.T, bad string) {
	t.Helper()
	if strings.Contains(s.replies, bad) {
		t.Fatalf("Exim replied %q:\n%s", bad, s)
	}
}

// session runs one host-checking SMTP session as if from ip, with the
// system resolver configured by resolvConf (when set).
func (x *exim) session(ip, sender, resolvConf string) eximSession {
	x.t.Helper()
	mounts := x.mounts
	if resolvConf != "" {
		mounts = append(append([]bindMount{}, x.mounts...), bindMount{resolvConf, "/etc/resolv.conf"})
	}
	cmd, cancel := isolatedCmd(x.t, 30*time.Second, mounts, x.bin, "-C", x.conf, "-bh", ip)
	defer cancel()
	cmd.Stdin = strings.NewReader("EHLO relay.example\r\nMAIL FROM:<" + sender + ">\r\nRCPT TO:<rcpt@" + mtaDomain + ">\r\nQUIT\r\n")
	var out, trace bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &trace
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		x.t.Fatalf("running exim -bh: %v", err)
	}
	s := eximSession{replies: out.String(), trace: trace.String()}
	if !strings.Contains(s.replies, "221 ") {
		x.t.Fatalf("exim -bh %s did not finish the session (%v):\n%s", ip, err, s)
	}
	return s
}
