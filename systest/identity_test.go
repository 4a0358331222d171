package systest

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDataFolder_SecondServeIsToldWhoHoldsIt starts a second `wlns serve`
// on a running node's data folder: it must exit at once naming the process
// that holds the folder, not time out on spool.db (the message the docs
// used to answer with "move spool.db aside", which can lose spooled
// writes), and the first node must go on serving.
func TestDataFolder_SecondServeIsToldWhoHoldsIt(t *testing.T) {
	first := startNode(t, "")
	second, _ := launch(t, first.dataDir)
	log := second.waitExit(20 * time.Second)
	want := fmt.Sprintf("is held by process %d (", first.cmd.Process.Pid)
	if !strings.Contains(log, want) || !strings.Contains(log, "serve") || strings.Contains(log, "spool.db: timeout") {
		t.Fatalf("second serve on the folder said:\n%s\nwant it to name the holder (%q)", log, want)
	}
	if m, err := exchange("udp", first.ready.DNSUDP, "2.0.0.127.relay."+apex, dns.TypeA); err != nil || m.Rcode != dns.RcodeSuccess {
		t.Fatalf("the first node after the attempt: %v %v", m, err)
	}
}

// TestCluster_NodeIdentityIsSafe: a new node joining under a live member's
// ID is refused (it would take the member over and vote with an empty
// log) unless it says --replace; the member it replaces, and a removed
// leader left running, withdraw: REFUSED on DNS, /readyz 503 naming what
// to do, a log line.
func TestCluster_NodeIdentityIsSafe(t *testing.T) {
	ca := clusterCA(t)
	dirs := []string{filepath.Join(t.TempDir(), "n1"), filepath.Join(t.TempDir(), "n2"), filepath.Join(t.TempDir(), "n3")}
	nodes := startClusterCA(t, ca, dirs, "--raft-profile", "lan", "--promote-after", "1s")
	lead := leaderOf(t, nodes, 20*time.Second)
	waitVoters(t, lead, 3, 20*time.Second)
	victim := nodes[2] // n3
	impostorArgs := append(nodeCert(t, ca, "n3"), "--join-token", clusterSecret, "--join", lead.ready.Raft,
		"--raft-profile", "lan", "--promote-after", "1s")

	impostor, _ := launch(t, filepath.Join(t.TempDir(), "n3-new"), impostorArgs...)
	log := impostor.waitExit(60 * time.Second)
	if !strings.Contains(log, "is a live member") || !strings.Contains(log, "--replace") {
		t.Fatalf("joining under live n3's ID said:\n%s\nwant a refusal naming the live member and --replace", log)
	}
	if m := memberNamed(t, lead, "n3"); m["address"] != victim.ready.Raft || m["voter"] != true {
		t.Fatalf("after the refused join n3 is %v, want the voter at %s", m, victim.ready.Raft)
	}

	replacement := startMember(t, filepath.Join(t.TempDir(), "n3-replacement"), append(impostorArgs, "--replace")...)
	if m := memberNamed(t, lead, "n3"); m["address"] != replacement.ready.Raft {
		t.Fatalf("after --replace n3 is %v, want it at %s", m, replacement.ready.Raft)
	}
	waitWithdrawn(t, victim, "replaced n3")

	leadID := statusOf(t, lead).NodeID
	out := lead.mustCLI("cluster", "remove", leadID)
	t.Logf("cluster remove %s on the leader: %s", leadID, strings.TrimSpace(out))
	waitWithdrawn(t, lead, "removed leader")
}

// waitWithdrawn waits until n answers REFUSED, /readyz says 503 with what
// to do, and its log says it withdrew because it is not a member.
func waitWithdrawn(t *testing.T, n *node, who string) {
	t.Helper()
	eventually(t, 30*time.Second, func() (bool, string) {
		m, err := exchange("udp", n.ready.DNSUDP, "2.0.0.127.relay."+apex, dns.TypeA)
		if err != nil || m.Rcode != dns.RcodeRefused {
			return false, fmt.Sprintf("%s: DNS %v %v, want REFUSED", who, m, err)
		}
		code, b := n.api("GET", "/readyz", nil)
		if code != http.StatusServiceUnavailable || !strings.Contains(string(b), "not a cluster member") || !strings.Contains(string(b), "stop it") {
			return false, fmt.Sprintf("%s: /readyz %d %s", who, code, b)
		}
		log := n.logTail()
		return strings.Contains(log, "DNS withdrawn") && strings.Contains(log, "not a cluster member"), who + ": no withdrawal in the log:\n" + log
	})
}

// statusOf is n's /v1/status.
func statusOf(t *testing.T, n *node) nodeStatus {
	t.Helper()
	st, ok := n.status()
	if !ok {
		t.Fatalf("no status from %s", n.ready.HTTP)
	}
	return st
}

// memberNamed is the cluster status entry of member id, as n sees it.
func memberNamed(t *testing.T, n *node, id string) map[string]any {
	t.Helper()
	for _, m := range members(t, n) {
		if m["id"] == id {
			return m
		}
	}
	t.Fatalf("no member %s in %v", id, members(t, n))
	return nil
}
