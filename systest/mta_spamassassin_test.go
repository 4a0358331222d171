package systest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The SpamAssassin system test runs Debian's `spamassassin -t` on messages
// whose Received header names the relay, with the documented rules
// (docs/examples/spamassassin/wlns.cf, only the zone name replaced, with and
// without the documented WlnsHash plugin) and
// wlns as SpamAssassin's DNS server. Only the plugins the rules need are
// loaded and no stock rules, so the only DNS questions are wlns's.

// saExample is the documented rule file, relative to this package.
const saExample = "../docs/examples/spamassassin/wlns.cf"

// saPlugin is the documented optional plugin, relative to this package.
const saPlugin = "../docs/examples/spamassassin/WlnsHash.pm"

// TestSpamAssassin_AskDNSRules checks the documented rules, with stock
// SpamAssassin and with the WlnsHash plugin: a listed pair (by address,
// case-insensitively, over IPv6, domain-wide) scores WLNS_SENDER, a
// registered relay WLNS_RELAY and a VERP list server WLNS_VERP; an unlisted
// sender or an unregistered relay gets no whitelist score; a verified sender
// with '+' scores only with the plugin; a sender verified later scores on
// the retry.
func TestSpamAssassin_AskDNSRules(t *testing.T) {
	w := newMTAWorld(t)
	for _, v := range []struct {
		name        string
		plugin      bool
		plusTests   string // the tests= list for mtaPlus
		retrySender string
	}{
		{"stock", false, "WLNS_RELAY", "carol@example.com"},
		{"WlnsHash plugin", true, "WLNS_RELAY,WLNS_SENDER", "erin@example.com"},
	} {
		t.Run(v.name, func(t *testing.T) {
			sa := newSpamAssassin(t, w.n.ready.DNSUDP, v.plugin)
			cases := []struct {
				name, ip, sender string
				tests            string // the X-Spam-Status tests= list
			}{
				{"listed pair", mtaRelay, mtaListed, "WLNS_RELAY,WLNS_SENDER"},
				{"listed pair, other case", mtaRelay, "Alice@Example.COM", "WLNS_RELAY,WLNS_SENDER"},
				{"listed pair over IPv6", mtaRelay6, mtaListed, "WLNS_RELAY,WLNS_SENDER"},
				{"domain-wide entry", mtaRelay, "anyone@" + mtaWideDomain, "WLNS_RELAY,WLNS_SENDER"},
				{"VERP list server", mtaRelay, "bounce-alice=example.com@" + mtaListDomain, "WLNS_RELAY,WLNS_VERP"},
				{"unlisted sender", mtaRelay, mtaUnlisted, "WLNS_RELAY"},
				{"listed sender, unregistered relay", mtaStranger, mtaListed, "none"},
				// Stock AskDNS cannot put '+' in a name: no WLNS_SENDER
				// (documented); the plugin's hashed name can.
				{"listed pair, '+' in the local part", mtaRelay, mtaPlus, v.plusTests},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if got, out := sa.tests(c.ip, c.sender); got != c.tests {
						t.Errorf("tests=%s, want %s\n%s", got, c.tests, out)
					}
				})
			}
			t.Run("verified sender scores on the retry", func(t *testing.T) {
				if got, out := sa.tests(mtaRelay, v.retrySender); got != "WLNS_RELAY" {
					t.Fatalf("before verification: tests=%s, want WLNS_RELAY\n%s", got, out)
				}
				w.n.mustCLI("pair", "add", v.retrySender, mtaRelay)
				eventually(t, 20*time.Second, func() (bool, string) {
					got, out := sa.tests(mtaRelay, v.retrySender)
					return got == "WLNS_RELAY,WLNS_SENDER", out
				})
			})
		})
	}
}

// spamAssassin runs `spamassassin -t` with a private configuration.
type spamAssassin struct {
	t                 *testing.T
	bin               string
	site, rules, home string
}

// newSpamAssassin writes the configuration: the documented rules for the
// test zone (and the documented WlnsHash plugin when withPlugin), wlns at
// dnsAddr as the DNS server, loopback as the only trusted network (so the
// relay in the Received header is the last external hop), and an
// X-Spam-Status header listing the hits.
func newSpamAssassin(t *testing.T, dnsAddr string, withPlugin bool) *spamAssassin {
	t.Helper()
	dir := t.TempDir()
	sa := &spamAssassin{
		t:     t,
		bin:   needTool(t, "spamassassin", "spamassassin"),
		site:  filepath.Join(dir, "site"),
		rules: filepath.Join(dir, "rules"),
		home:  filepath.Join(dir, "home"),
	}
	rules := strings.ReplaceAll(readExample(t, saExample), "wl.example.org", apex)
	tlds, err := os.ReadFile("/usr/share/spamassassin/20_aux_tlds.cf")
	if err != nil {
		t.Fatalf("SpamAssassin's TLD list (package spamassassin): %v", err)
	}
	pre := "loadplugin Mail::SpamAssassin::Plugin::Check\nloadplugin Mail::SpamAssassin::Plugin::AskDNS\n"
	if withPlugin {
		plugin, err := filepath.Abs(saPlugin)
		if err != nil {
			t.Fatal(err)
		}
		pre += "loadplugin WlnsHash " + plugin + "\n"
	}
	files := map[string]string{
		filepath.Join(sa.site, "init.pre"):        pre,
		filepath.Join(sa.rules, "20_aux_tlds.cf"): string(tlds),
		filepath.Join(sa.rules, "wlns.cf"):        rules,
		filepath.Join(sa.rules, "local.cf"): fmt.Sprintf("dns_server %s\ndns_available yes\n"+
			"trusted_networks 127.0.0.0/8\nuse_bayes 0\n"+
			"add_header all Status _YESNO_, score=_SCORE_ required=_REQD_ tests=_TESTS_\n", dnsAddr),
	}
	for p, text := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(sa.home, 0o755); err != nil {
		t.Fatal(err)
	}
	return sa
}

var saTests = regexp.MustCompile(`(?m)^X-Spam-Status: .* tests=(\S+)`)

// tests scores a message from sender handed over by ip and returns the
// rules that hit, and the output with SpamAssassin's debug log.
func (sa *spamAssassin) tests(ip, sender string) (string, string) {
	sa.t.Helper()
	msg := "Return-Path: <" + sender + ">\n" +
		"Received: from relay.example (relay.example [" + ip + "])\n" +
		"\tby mx." + mtaDomain + " (Postfix) with ESMTP id 4A1B2C3D4E\n" +
		"\tfor <rcpt@" + mtaDomain + ">; Mon, 23 Nov 2026 10:00:00 +0000 (UTC)\n" +
		"From: <" + sender + ">\nTo: <rcpt@" + mtaDomain + ">\nSubject: hello\n" +
		"Message-ID: <1@relay.example>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\nhello\n"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sa.bin, "-t",
		"--siteconfigpath="+sa.site, "--configpath="+sa.rules, "-D", "askdns")
	cmd.Env = append(os.Environ(), "HOME="+sa.home)
	cmd.Stdin = strings.NewReader(msg)
	var out, debug bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &debug
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		sa.t.Fatalf("running spamassassin: %v", err)
	}
	all := out.String() + "\n--- debug ---\n" + debug.String()
	m := saTests.FindStringSubmatch(out.String())
	if m == nil {
		sa.t.Fatalf("spamassassin printed no X-Spam-Status (%v):\n%s", err, all)
	}
	return m[1], all
}
