package systest

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// diskReserve is the --min-free-disk of the full-disk tests: small, for
// disks of a few MiB.
const diskReserve = "1MiB"

// A node whose disk fills up keeps answering DNS from memory, refuses writes
// with 503 and a message naming the full disk (every one, not only the
// first), says so on /readyz and in a metric, stays leader, loses nothing
// it acknowledged, takes writes again by itself once there is room, and
// still has everything after a restart.
func TestNode_FullDiskRefusesWritesKeepsAnswering(t *testing.T) {
	needRoot(t)
	mnt := smallDisk(t, "8m")
	n := startNode(t, filepath.Join(mnt, "data"), "--min-free-disk", diskReserve, "--raft-profile", "lan")

	const relay = "192.0.2.44"
	var acked []string
	add := func(i int) (int, string) {
		sender := fmt.Sprintf("user%d@disk.example", i)
		code, body := n.api(http.MethodPost, "/v1/pairs", map[string]any{"sender": sender, "ip": relay})
		if code/100 == 2 {
			acked = append(acked, sender)
		}
		return code, string(body)
	}
	if code, body := add(0); code != http.StatusCreated {
		t.Fatalf("first write on an empty disk: %d %s", code, body)
	}

	fillDisk(t, filepath.Join(mnt, "filler"))
	for i := 1; i <= 5; i++ {
		code, body := add(i)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "disk full") || strings.Contains(body, "leader") {
			t.Fatalf("write %d on a full disk: %d %s, want 503 naming the full disk", i, code, body)
		}
		time.Sleep(300 * time.Millisecond) // long enough for a flapping leader to step down
	}
	assertDiskFull(t, n)
	if st, _ := n.status(); !st.Leader {
		t.Errorf("the single node lost leadership on a full disk:\n%s", n.logTail())
	}
	assertListed(t, n, acked, relay)

	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	waitDiskRoom(t, n)
	if code, body := add(100_000); code != http.StatusCreated {
		t.Fatalf("write once the disk has room again: %d %s\n%s", code, body, n.logTail())
	}
	assertListed(t, n, acked, relay)

	if err := n.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping: %v\n%s", err, n.logTail())
	}
	n2 := startNode(t, n.dataDir)
	assertListed(t, n2, acked, relay)
}

// A follower whose disk fills says so (/readyz 503, the metric) instead of
// going stale silently, still forwards writes to the leader, and catches
// up by itself once there is room. A leader whose disk fills hands
// leadership over once and does not take it back while its disk is full;
// the cluster keeps taking writes, through that node too.
func TestCluster_FullDiskFollowerAndLeader(t *testing.T) {
	needRoot(t)
	var dirs []string
	for range 3 {
		dirs = append(dirs, filepath.Join(smallDisk(t, "16m"), "data"))
	}
	nodes := startClusterIn(t, dirs, "--raft-profile", "lan", "--promote-after", "1s", "--min-free-disk", diskReserve)
	leader := leaderOf(t, nodes, 20*time.Second)
	waitReachableVoters(t, leader, 3, 30*time.Second)
	const relay = "192.0.2.45"

	follower := without(nodes, leader)[0]
	filler := filepath.Join(filepath.Dir(follower.dataDir), "filler")
	fillDisk(t, filler)
	assertDiskFull(t, follower)
	// A write through it still commits: it is forwarded to the leader.
	addPair(t, follower, "through-full-follower@disk.example", relay)
	addPair(t, leader, "while-follower-full@disk.example", relay)
	waitListed(t, without(nodes, follower), "while-follower-full@disk.example", relay, 10*time.Second)
	waitListed(t, without(nodes, follower), "through-full-follower@disk.example", relay, 10*time.Second)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitDiskRoom(t, follower)
	waitListed(t, []*node{follower}, "while-follower-full@disk.example", relay, 30*time.Second)
	waitListed(t, []*node{follower}, "through-full-follower@disk.example", relay, 10*time.Second)

	filler = filepath.Join(filepath.Dir(leader.dataDir), "filler")
	fillDisk(t, filler)
	assertDiskFull(t, leader)
	others := without(nodes, leader)
	next := leaderOf(t, others, 15*time.Second)
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if st, _ := leader.status(); st.Leader {
			t.Fatalf("the node with the full disk took leadership back:\n%s", leader.logTail())
		}
	}
	if now := leaderOf(t, others, 5*time.Second); now != next {
		t.Fatalf("leadership moved again among the healthy nodes (%s, then %s)", next.ready.Raft, now.ready.Raft)
	}
	addPair(t, next, "while-leader-full@disk.example", relay)
	addPair(t, leader, "through-old-leader@disk.example", relay) // forwarded now
	waitListed(t, others, "while-leader-full@disk.example", relay, 10*time.Second)
	waitListed(t, others, "through-old-leader@disk.example", relay, 10*time.Second)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitDiskRoom(t, leader)
	waitListed(t, []*node{leader}, "while-leader-full@disk.example", relay, 30*time.Second)
	addPair(t, leader, "after-room@disk.example", relay)
	waitListed(t, nodes, "after-room@disk.example", relay, 10*time.Second)
}

// assertDiskFull waits (bounded) until n says on /readyz, with 503, and in
// its metric that its disk is full.
func assertDiskFull(t *testing.T, n *node) {
	t.Helper()
	eventually(t, 10*time.Second, func() (bool, string) {
		code, body := n.api(http.MethodGet, "/readyz", nil)
		return code == http.StatusServiceUnavailable && strings.Contains(string(body), "disk full"), fmt.Sprintf("/readyz %d %s", code, body)
	})
	if v := nodeMetric(t, n, "wlns_raft_disk_full"); v != 1 {
		t.Fatalf("wlns_raft_disk_full = %v on a full disk", v)
	}
}

// waitDiskRoom waits (bounded) until n is ready again after space came
// back, with the metric back to 0.
func waitDiskRoom(t *testing.T, n *node) {
	t.Helper()
	eventually(t, 30*time.Second, func() (bool, string) {
		code, body := n.api(http.MethodGet, "/readyz", nil)
		return code == http.StatusOK, fmt.Sprintf("/readyz %d %s\n%s", code, body, n.logTail())
	})
	if v := nodeMetric(t, n, "wlns_raft_disk_full"); v != 0 {
		t.Fatalf("wlns_raft_disk_full = %v once the disk has room", v)
	}
}

// smallDisk mounts a tmpfs of the given size for the test and unmounts it
// when the test ends (after the nodes on it are stopped).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mounting a %s tmpfs: %v: %s", size, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("unmounting %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for i := 0; i < 1<<14; i++ { // bounded: 1 GiB at most
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatalf("filling the disk: %v", err)
		}
	}
	t.Fatal("the disk did not fill up")
}

// assertListed checks over DNS that every sender answers listed through
// relay. The senders' local parts have no dots, so the query name is the
// address with its "@" made a dot (docs/query-format.md), built here by hand
// as an MTA would.
func assertListed(t *testing.T, n *node, senders []string, relay string) {
	t.Helper()
	o := strings.Split(relay, ".")
	rev := o[3] + "." + o[2] + "." + o[1] + "." + o[0]
	for _, s := range senders {
		name := strings.Replace(s, "@", ".", 1) + "." + rev + ".sender." + apex + "."
		m, err := exchange("udp", n.ready.DNSUDP, name, dns.TypeA)
		if err != nil {
			t.Fatalf("asking %s: %v", name, err)
		}
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
			t.Fatalf("%s (acknowledged) is not listed: %s", s, dns.RcodeToString[m.Rcode])
		}
	}
}
