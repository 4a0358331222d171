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

// A node whose disk fills up keeps answering DNS from memory, refuses writes
// with 503 and a message naming the cause, loses nothing it acknowledged,
// takes writes again once there is room, and still has everything after a
// restart.
func TestNode_FullDiskRefusesWritesKeepsAnswering(t *testing.T) {
	needRoot(t)
	mnt := smallDisk(t, "8m")
	n := startNode(t, filepath.Join(mnt, "data"))

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
	var code int
	var body string
	for i := 1; i <= 2000; i++ {
		if code, body = add(i); code/100 != 2 {
			break
		}
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no space left on device") {
		t.Fatalf("write on a full disk: %d %s, want 503 naming the full disk", code, body)
	}
	t.Logf("%d writes acknowledged before the disk was full; then: %s", len(acked), strings.TrimSpace(body))
	assertListed(t, n, acked, relay)

	if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body = add(100_000 + len(acked))
		if code/100 == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes still fail 30 s after the disk has room again: %d %s\n%s", code, body, n.logTail())
		}
		time.Sleep(200 * time.Millisecond)
	}
	assertListed(t, n, acked, relay)

	if err := n.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping: %v\n%s", err, n.logTail())
	}
	n2 := startNode(t, n.dataDir)
	assertListed(t, n2, acked, relay)
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
