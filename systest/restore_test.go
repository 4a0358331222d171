package systest

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A backup restored into a fresh node, restarted as docs/cluster.md says,
// keeps its promises: the backup's admin token keeps its secret (the
// node's own token is added beside it, not over it), and the SOA serial
// never goes back — not below what the lost node served, not across the
// restart, not on the next write.
func TestRestore_KeepsTheAdminTokenAndTheSerialNeverDecreases(t *testing.T) {
	const relay = "192.0.2.46"
	old := startNode(t, "")
	for _, s := range []string{"a@restore.example", "b@restore.example"} {
		addPair(t, old, s, relay)
	}
	file := filepath.Join(t.TempDir(), "wlns.snap")
	if r := old.cli("backup", "-o", file); r.code != 0 {
		t.Fatalf("backup: %d %s", r.code, r.stderr)
	}
	time.Sleep(1100 * time.Millisecond) // a later second, as writes after the last backup would be
	addPair(t, old, "after-backup@restore.example", relay)
	lost := soaSerial(t, old)
	old.kill() // the whole cluster is lost
	// Changes within one second each take the next serial, so the lost
	// node's serial may run a few seconds ahead of the clock; a cluster is
	// rebuilt later than that (docs/query-format.md).
	for time.Now().Unix() <= int64(lost) {
		time.Sleep(100 * time.Millisecond)
	}

	fresh := startNode(t, "")
	if r := fresh.cli("restore", file); r.code != 0 {
		t.Fatalf("restore: %d %s %s", r.code, r.stdout, r.stderr)
	}
	serials := []uint32{lost, soaSerial(t, fresh)}
	if err := fresh.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the restored node: %v", err)
	}
	restarted := startNode(t, fresh.dataDir)
	serials = append(serials, soaSerial(t, restarted))
	addPair(t, restarted, "after-restore@restore.example", relay)
	serials = append(serials, soaSerial(t, restarted))
	for i := 1; i < len(serials); i++ {
		if int32(serials[i]-serials[i-1]) < 0 { // RFC 1982 comparison
			t.Fatalf("SOA serial went back: lost node %d, restored %d, restarted %d, after a write %d", serials[0], serials[1], serials[2], serials[3])
		}
	}
	t.Logf("SOA serials: lost node %d, restored %d, restarted %d, after a write %d", serials[0], serials[1], serials[2], serials[3])

	// The operator's admin secret from the backup still works, and so does
	// the restarted node's own admin.token.
	for who, tok := range map[string]string{"the backup's admin token": old.token, "the node's admin.token": restarted.token} {
		r := restarted.cliToken(tok, "token", "list")
		if r.code != 0 {
			t.Fatalf("%s after the restart: exit %d %s", who, r.code, r.stderr)
		}
	}
	list := restarted.mustCLI("token", "list")
	if !strings.Contains(list, "admin ") || !strings.Contains(list, "admin-") {
		t.Fatalf("token list after the restart should show the backup's admin and the node's own token:\n%s", list)
	}
}

// soaSerial asks n's DNS server for the apex SOA and returns its serial.
func soaSerial(t *testing.T, n *node) uint32 {
	t.Helper()
	m, err := exchange("udp", n.ready.DNSUDP, apex+".", dns.TypeSOA)
	if err != nil {
		t.Fatalf("asking for the SOA: %v", err)
	}
	if len(m.Answer) != 1 {
		t.Fatalf("SOA query: %v", m)
	}
	soa, ok := m.Answer[0].(*dns.SOA)
	if !ok {
		t.Fatalf("SOA query answered %v", m.Answer[0])
	}
	return soa.Serial
}
