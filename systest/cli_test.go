package systest

import (
	"strings"
	"testing"
)

func TestCLI_WrongTokenFailsClearly(t *testing.T) {
	n := startNode(t, "")
	r := n.cliToken("not-the-token", "pair", "add", "dave@umkc.edu", relayV4)
	if r.code != 1 {
		t.Fatalf("exit code %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	msg := strings.ToLower(r.stderr)
	if !strings.Contains(msg, "401") && !strings.Contains(msg, "unauthori") && !strings.Contains(msg, "token") {
		t.Errorf("stderr does not say the token was refused: %q", r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Errorf("stderr shows a crash: %s", r.stderr)
	}
}
