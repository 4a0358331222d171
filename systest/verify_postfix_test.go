package systest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startPostfixDelivering is startPostfix with one difference: accepted mail
// for mtaDomain is delivered by SMTP to deliverTo (host:port on loopback)
// instead of being discarded, so a test can see that a message got
// through. Postfix runs in its own PID and mount namespaces as there.
func startPostfixDelivering(t *testing.T, postfix, unshare string, ls []smtpdListener, deliverTo string) {
	t.Helper()
	dir := postfixDir(t, ls)
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
	runPostfix(t, postfix, unshare, dir, ls, "")
}
