package systest

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A new node whose --join target does not answer gives up after
// --start-timeout with a message that says so, instead of retrying the
// join twice a second for long after it.
func TestJoin_StartTimeoutBoundsAnUnreachableJoin(t *testing.T) {
	ca := clusterCA(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nobody listens there now
	start := time.Now()
	n, _ := launch(t, filepath.Join(t.TempDir(), "data"), append(nodeCert(t, ca, "n9"),
		"--join", dead, "--join-token", "secret", "--start-timeout", "3s")...)
	log := n.waitExit(20 * time.Second)
	took := time.Since(start)
	if !strings.Contains(log, "--start-timeout 3s") || !strings.Contains(log, "joining") {
		t.Fatalf("exit after %v without naming the join and --start-timeout:\n%s", took, log)
	}
	if took > 10*time.Second {
		t.Fatalf("gave up after %v with --start-timeout 3s", took)
	}
	t.Logf("gave up after %v", took.Round(100*time.Millisecond))
}
