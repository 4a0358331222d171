package systest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// The Rspamd system test runs Debian's Rspamd with the documented files
// (docs/examples/rspamd/rspamd.local.lua and local.d/force_actions.conf,
// copied verbatim into a private LOCAL_CONFDIR; /etc/rspamd stays as
// installed) and asks its /checkv2 endpoint about messages as an MTA's
// milter or proxy would, with the client IP and envelope sender in the IP:
// and From: request headers.
//
// Rspamd's resolver is wlns itself: every other name Rspamd looks up
// (public block lists, maps.rspamd.com) is REFUSED there, so nothing leaves
// the machine.

// rspamdExample is the documented configuration, relative to this package.
const rspamdExample = "../docs/examples/rspamd"

// rspamdCheck is the part of a /checkv2 reply the test reads.
type rspamdCheck struct {
	Action   string                     `json:"action"`
	Symbols  map[string]json.RawMessage `json:"symbols"`
	Messages map[string]string          `json:"messages"`
	raw      string
}

func (c rspamdCheck) has(symbol string) bool { _, ok := c.Symbols[symbol]; return ok }

// TestRspamd_LuaRuleAndForceActions checks the documented rule: listed
// pairs (by address, over IPv6, domain-wide) and VERP list servers score
// and pass, the null sender is not checked, an unlisted sender or an
// unregistered relay gets a soft reject with the 451 text, and a sender
// verified later passes on the retry.
func TestRspamd_LuaRuleAndForceActions(t *testing.T) {
	w := newMTAWorld(t)
	r := startRspamd(t, w.n.ready.DNSUDP)

	cases := []struct {
		name, ip, sender string
		softReject       bool
		want, wantNot    []string // symbols
	}{
		{"listed pair", mtaRelay, mtaListed, false, []string{"WLNS_RELAY", "WLNS_SENDER"}, []string{"WLNS_NOT_VALIDATED"}},
		{"listed pair over IPv6", mtaRelay6, mtaListed, false, []string{"WLNS_RELAY", "WLNS_SENDER"}, nil},
		{"listed pair, '+' in the local part", mtaRelay, mtaPlus, false, []string{"WLNS_SENDER"}, nil},
		{"domain-wide entry", mtaRelay, "anyone@" + mtaWideDomain, false, []string{"WLNS_SENDER"}, nil},
		{"VERP list server", mtaRelay, "bounce-alice=example.com@" + mtaListDomain, false, []string{"WLNS_VERP"}, []string{"WLNS_NOT_VALIDATED"}},
		{"null sender", mtaStranger, "<>", false, nil, []string{"WLNS_NOT_VALIDATED", "WLNS_RELAY"}},
		{"role address", mtaStranger, "postmaster@example.org", false, nil, []string{"WLNS_NOT_VALIDATED"}},
		{"client in a private network", "10.1.2.3", mtaUnlisted, false, nil, []string{"WLNS_NOT_VALIDATED", "WLNS_RELAY"}},
		{"unlisted sender", mtaRelay, mtaUnlisted, true, []string{"WLNS_RELAY", "WLNS_NOT_VALIDATED"}, []string{"WLNS_SENDER"}},
		{"listed sender, unregistered relay", mtaStranger, mtaListed, true, []string{"WLNS_NOT_VALIDATED"}, []string{"WLNS_RELAY", "WLNS_SENDER"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := r.check(t, c.ip, c.sender)
			for _, s := range c.want {
				if !got.has(s) {
					t.Errorf("symbol %s missing:\n%s", s, got.raw)
				}
			}
			for _, s := range c.wantNot {
				if got.has(s) {
					t.Errorf("symbol %s present:\n%s", s, got.raw)
				}
			}
			if c.softReject {
				if got.Action != "soft reject" || got.Messages["smtp_message"] != mtaDeferText {
					t.Errorf("action %q, smtp_message %q; want soft reject with %q:\n%s",
						got.Action, got.Messages["smtp_message"], mtaDeferText, got.raw)
				}
			} else if got.Action == "soft reject" || got.Action == "reject" {
				t.Errorf("action %q, want the message passed:\n%s", got.Action, got.raw)
			}
		})
	}

	t.Run("verified sender passes on the retry", func(t *testing.T) {
		const carol = "carol@example.com"
		if got := r.check(t, mtaRelay, carol); got.Action != "soft reject" {
			t.Fatalf("before verification: action %q, want soft reject:\n%s", got.Action, got.raw)
		}
		w.n.mustCLI("pair", "add", carol, mtaRelay)
		eventually(t, 20*time.Second, func() (bool, string) {
			got := r.check(t, mtaRelay, carol)
			return got.has("WLNS_SENDER") && got.Action != "soft reject", got.raw
		})
	})
}

// rspamd is a running Rspamd: its normal worker and its milter.
type rspamd struct {
	url    string // base URL of the normal worker
	milter string // host:port of the rspamd_proxy worker in milter mode
}

// startRspamd runs Rspamd with the documented files and wlns (dnsAddr) as
// its resolver, in its own PID namespace so that every worker dies with the
// test, and waits until it answers.
func startRspamd(t *testing.T, dnsAddr string) *rspamd {
	t.Helper()
	needRoot(t)
	bin := needTool(t, "rspamd", "rspamd")
	unshare := needTool(t, "unshare", "util-linux")
	ru, err := user.Lookup("_rspamd")
	if err != nil {
		t.Fatalf("the _rspamd user (package rspamd): %v", err)
	}
	uid, _ := strconv.Atoi(ru.Uid)
	// Not t.TempDir: its parent is private to root, and the workers run as
	// _rspamd.
	dir, err := os.MkdirTemp("", "wlns-rspamd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "conf")
	files := map[string]string{
		"rspamd.local.lua":           readExample(t, filepath.Join(rspamdExample, "rspamd.local.lua")),
		"local.d/force_actions.conf": readExample(t, filepath.Join(rspamdExample, "local.d/force_actions.conf")),
		// The documented rspamd.conf.local sets only the zone.
		"rspamd.conf.local": fmt.Sprintf("wlns {\n  zone = %q;\n}\n", apex),
		// A five-entry public-suffix list: compiling Debian's 9,600
		// suffixes takes Rspamd 20-40 s on a busy 2-core machine, and URL
		// detection plays no part here.
		"local.d/options.inc": fmt.Sprintf("dns {\n  nameserver = [%q];\n  timeout = 1s;\n  retransmits = 2;\n}\n"+
			"url_tld = %q;\n", dnsAddr, filepath.Join(dir, "tld.dat")),
		"../tld.dat":               "com\nnet\norg\nexample\ntest\n",
		"local.d/logging.inc":      "type = \"console\";\nlevel = \"info\";\n",
		"local.d/fuzzy_check.conf": "enabled = false;\n",
	}
	port, proxyPort := freeTCPPort(t), freeTCPPort(t)
	for worker, p := range map[string]int{"normal": port, "controller": freeTCPPort(t), "proxy": proxyPort} {
		files["local.d/worker-"+worker+".inc"] = fmt.Sprintf("bind_socket = \"127.0.0.1:%d\";\n", p)
	}
	// The proxy is Debian's milter (worker-proxy.inc: milter = yes); its
	// upstream is the normal worker, on this test's port, not localhost:11333.
	files["local.d/worker-proxy.inc"] += fmt.Sprintf("upstream \"local\" {\n  default = yes;\n  hosts = \"127.0.0.1:%d\";\n}\n", port)
	for name, text := range files {
		p := filepath.Join(conf, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--pid", "--fork", "--kill-child", "--mount", "--mount-proc", "--",
		bin, "-f", "-u", "_rspamd", "-g", "_rspamd", "-c", "/etc/rspamd/rspamd.conf",
		"--var", "LOCAL_CONFDIR=" + conf}
	for _, v := range []string{"DBDIR", "RUNDIR", "LOGDIR"} {
		d := filepath.Join(dir, strings.ToLower(v))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, uid, -1); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--var", v+"="+d)
	}
	logPath := filepath.Join(dir, "rspamd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(unshare, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting rspamd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		// unshare's death kills Rspamd's main process (--kill-child), and
		// with it, as PID 1 of the namespace, every worker.
		_ = cmd.Process.Kill()
		<-done
	})
	logTail := func() string {
		b, _ := os.ReadFile(logPath)
		if len(b) > 8000 {
			b = b[len(b)-8000:]
		}
		return string(b)
	}
	r := &rspamd{url: fmt.Sprintf("http://127.0.0.1:%d", port), milter: fmt.Sprintf("127.0.0.1:%d", proxyPort)}
	// About 6 s on a busy 2-core machine.
	deadline := time.Now().Add(40 * time.Second)
	for !r.ping() {
		select {
		case <-done:
			t.Fatalf("rspamd exited before it answered:\n%s", logTail())
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("rspamd not answering after 40s:\n%s", logTail())
		}
	}
	return r
}

func readExample(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the documented configuration: %v", err)
	}
	return string(b)
}

func (r *rspamd) ping() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url+"/ping", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.Contains(string(b), "pong")
}

// check asks Rspamd about a small message from sender through ip.
func (r *rspamd) check(t *testing.T, ip, sender string) rspamdCheck {
	t.Helper()
	msg := "From: <" + strings.Trim(sender, "<>") + ">\r\nTo: <rcpt@" + mtaDomain + ">\r\n" +
		"Subject: hello\r\nMessage-ID: <1@relay.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.url+"/checkv2", bytes.NewBufferString(msg))
	req.Header.Set("IP", ip)
	req.Header.Set("From", sender)
	req.Header.Set("Helo", "relay.example")
	req.Header.Set("Rcpt", "rcpt@"+mtaDomain)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("asking rspamd: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("rspamd /checkv2: %s %v: %s", resp.Status, err, b)
	}
	var c rspamdCheck
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("decoding rspamd reply: %v: %s", err, b)
	}
	c.raw = string(b)
	return c
}
