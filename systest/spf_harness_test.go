package systest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mailSPFScript checks one sender and IP with Perl's Mail::SPF and prints the
// result code (pass, fail, …).
const mailSPFScript = `use strict; use warnings; use Mail::SPF;
my ($sender, $ip) = @ARGV;
my $server = Mail::SPF::Server->new(max_void_dns_lookups => 10);
my $req = Mail::SPF::Request->new(scope => 'mfrom', identity => $sender,
    ip_address => $ip, helo_identity => 'mx.systest.invalid');
print $server->process($req)->code, "\n";
`

// spfChecker runs SPF checks through the system resolver of a private mount
// namespace whose /etc/resolv.conf names one resolver.
type spfChecker struct {
	t        testing.TB
	resolv   string // the resolv.conf to bind-mount
	script   string // the Mail::SPF script
	unshare  string
	spfquery string
	perl     string
	// netns, when set, is the named network namespace the checks run in.
	netns string
}

// newSPFChecker prepares a resolv.conf naming nameserver (port 53 on a
// loopback address) and finds the tools.
func newSPFChecker(t testing.TB, nameserver string) *spfChecker {
	t.Helper()
	needRoot(t)
	c := &spfChecker{
		t:        t,
		unshare:  needTool(t, "unshare", "util-linux"),
		spfquery: needTool(t, "spfquery", "spfquery"),
		perl:     needTool(t, "perl", "perl"),
	}
	if err := exec.Command(c.perl, "-MMail::SPF", "-e", "1").Run(); err != nil {
		missing(t, "Perl module Mail::SPF not found (Debian package libmail-spf-perl)")
	}
	dir := t.TempDir()
	c.resolv = filepath.Join(dir, "resolv.conf")
	c.script = filepath.Join(dir, "mailspf.pl")
	conf := "nameserver " + nameserver + "\noptions timeout:5 attempts:1\n"
	if err := os.WriteFile(c.resolv, []byte(conf), 0o644); err != nil {
		t.Fatalf("writing resolv.conf: %v", err)
	}
	if err := os.WriteFile(c.script, []byte(mailSPFScript), 0o644); err != nil {
		t.Fatalf("writing Mail::SPF script: %v", err)
	}
	return c
}

// isolated runs argv in a new mount namespace with the private resolv.conf
// bind-mounted over /etc/resolv.conf, and returns its first output line.
// Exit codes are ignored: spfquery encodes the result in them.
func (c *spfChecker) isolated(argv ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"-m", "--propagation", "private", "--", "sh", "-c",
		`mount --bind "$0" /etc/resolv.conf && exec "$@"`, c.resolv}, argv...)
	cmd := exec.CommandContext(ctx, c.unshare, args...)
	if c.netns != "" {
		cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", c.netns, c.unshare}, args...)...)
	}
	out, err := cmd.Output()
	if ctx.Err() != nil {
		c.t.Fatalf("%s: timed out", strings.Join(argv, " "))
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if line == "" {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		c.t.Fatalf("%s: no result (%v): %s", strings.Join(argv, " "), err, stderr)
	}
	return strings.TrimSpace(line)
}

// spfquery returns libspf2's verdict for sender at ip.
func (c *spfChecker) libspf2(sender, ip string) string {
	c.t.Helper()
	return c.isolated(c.spfquery, "-ip", ip, "-sender", sender, "-helo", "mx.systest.invalid")
}

// mailSPF returns Mail::SPF's verdict for sender at ip.
func (c *spfChecker) mailSPF(sender, ip string) string {
	c.t.Helper()
	return c.isolated(c.perl, c.script, sender, ip)
}
