package systest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startPostfixDelivering is startPostfix with one difference: accepted mail
// for mtaDomain is delivered by SMTP to deliverTo (host:port on loopback)
// instead of being discarded, so a test can see that a message got
// through. Postfix runs in its own PID and mount namespaces as there.
func startPostfixDelivering(t *testing.T, postfix, unshare string, ls []smtpdListener, deliverTo string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "wlns-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	writePostfixConfig(t, dir, ls)
	mainCF := filepath.Join(dir, "etc", "main.cf")
	b, err := os.ReadFile(mainCF)
	if err != nil {
		t.Fatal(err)
	}
	discard := "transport_maps = inline:{ " + mtaDomain + "=discard: }"
	if !strings.Contains(string(b), discard) {
		t.Fatalf("main.cf has no %q line to replace:\n%s", discard, b)
	}
	deliver := "transport_maps = inline:{ " + mtaDomain + "=smtp:[" + strings.Replace(deliverTo, ":", "]:", 1) + " }\n" +
		"smtp_helo_name = mx." + mtaDomain + "\nsmtp_tls_security_level = none\nqueue_run_delay = 1s\nminimal_backoff_time = 1s\nmaximal_backoff_time = 2s"
	if err := os.WriteFile(mainCF, []byte(strings.Replace(string(b), discard, deliver, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	runPostfix(t, postfix, unshare, dir, ls)
}

// runPostfix starts the Postfix configured in dir (as startPostfix does,
// without a resolv.conf) and waits for every listener's banner.
func runPostfix(t *testing.T, postfix, unshare, dir string, ls []smtpdListener) {
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
	cmd := exec.Command(unshare, "--pid", "--fork", "--kill-child", "--mount", "--mount-proc",
		"sh", "-c", `"$0" -c "$1" start-fg & wait`, postfix, filepath.Join(dir, "etc"))
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
