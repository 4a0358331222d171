package systest

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// damageCases is how many damaged copies of the data folder the fuzz test
// starts a node on: every file gets a truncation and a corruption, the
// rest are random. Each costs a node start (a second or two).
const damageCases = 36

// crashSigns are what a crash prints: a Go panic or fatal signal and its
// goroutine dump.
var crashSigns = []string{"panic:", "fatal error:", "SIGBUS", "SIGSEGV", "goroutine "}

// TestDataFolder_DamagedFilesNeverCrashTheNode truncates and corrupts the
// files of a real data folder at random offsets (seeded and logged:
// WLNS_DAMAGE_SEED repeats a run) and starts the real binary on each copy.
// The node must either serve — answering DNS; /readyz 503 when it says it
// is read-only —, withdraw DNS saying why (a node-id naming another node),
// or exit 1 with a message naming the damaged file; never crash with a
// panic, SIGBUS or goroutine dump.
func TestDataFolder_DamagedFilesNeverCrashTheNode(t *testing.T) {
	golden := damageFixture(t)
	files := dataFiles(t, golden)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("WLNS_DAMAGE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (WLNS_DAMAGE_SEED=%d repeats this run); files: %v", seed, seed, files)
	rng := rand.New(rand.NewPCG(seed, seed))
	outcomes := map[string]int{}
	for i := range damageCases {
		file := files[i%len(files)]
		truncate := (i/len(files))%2 == 0
		if i >= 2*len(files) {
			file, truncate = files[rng.IntN(len(files))], rng.IntN(2) == 0
		}
		dir := filepath.Join(t.TempDir(), "data")
		copyTree(t, golden, dir)
		what := damage(t, rng, filepath.Join(dir, file), truncate)
		t.Logf("case %d: %s %s", i, file, what)
		outcomes[startDamaged(t, dir, file, what)]++
	}
	t.Logf("outcomes: %v", outcomes)
}

// damageFixture makes a data folder with a snapshot, log entries after it,
// a spool and the usual small files, stopped cleanly.
func damageFixture(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "golden")
	n := startNode(t, dir)
	n.mustCLI("pair", "add", "dave@umkc.edu", "192.0.2.4")
	n.mustCLI("backup", "-o", filepath.Join(t.TempDir(), "backup.snap")) // takes a snapshot
	for i := range 20 {
		n.mustCLI("pair", "add", fmt.Sprintf("user%d@umkc.edu", i), "192.0.2.4")
	}
	if err := n.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stopping the fixture node: %v\n%s", err, n.logTail())
	}
	return dir
}

// dataFiles lists the regular files under dir, relative to it.
func dataFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// copyTree copies the folder src to dst, keeping file modes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}

// damage truncates path at a random offset or overwrites a few bytes at
// one with random bytes, and says which.
func damage(t *testing.T, rng *rand.Rand, path string, truncate bool) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return "left empty (it was)"
	}
	off := rng.IntN(len(b))
	if truncate {
		b = b[:off]
	} else {
		n := min(1+rng.IntN(16), len(b)-off)
		for i := range n {
			b[off+i] = byte(rng.UintN(256))
		}
		off = off<<8 | n
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if truncate {
		return fmt.Sprintf("truncated to %d bytes", off)
	}
	return fmt.Sprintf("%d bytes overwritten at offset %d", off&0xff, off>>8)
}

// startDamaged starts a node on dir and judges what it does; it returns
// the outcome's name.
func startDamaged(t *testing.T, dir, file, what string) string {
	t.Helper()
	n, readyFile := launch(t, dir)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			return judgeExit(t, n, file, what)
		case <-time.After(100 * time.Millisecond):
		}
		if log := n.logTail(); strings.Contains(log, "DNS withdrawn") && strings.Contains(log, "not a cluster member") {
			// A node-id that parses but names another node: the node
			// withdraws DNS and waits, saying so.
			if !strings.Contains(log, filepath.Base(file)) {
				t.Errorf("%s %s: withdrawn without naming %s; log:\n%s", file, what, filepath.Base(file), log)
			}
			return "withdrawn"
		}
		if b, err := os.ReadFile(readyFile); err == nil && len(b) > 0 {
			n.waitReady(readyFile, time.Second)
			defer n.kill()
			return judgeServing(t, n, file, what)
		}
	}
	t.Errorf("%s %s: neither serving nor exited after 30s; log:\n%s", file, what, n.logTail())
	return "hung"
}

// judgeExit checks a node that exited: status 1 and a message that names
// the file, no crash.
func judgeExit(t *testing.T, n *node, file, what string) string {
	t.Helper()
	log := n.logTail()
	for _, s := range crashSigns {
		if strings.Contains(log, s) {
			t.Errorf("%s %s: the node crashed (%q); log:\n%s", file, what, s, log)
			return "crashed"
		}
	}
	if n.cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("%s %s: exit status %d, want 1; log:\n%s", file, what, n.cmd.ProcessState.ExitCode(), log)
	}
	if !strings.Contains(log, filepath.Base(file)) {
		t.Errorf("%s %s: the exit message does not name %s; log:\n%s", file, what, filepath.Base(file), log)
	}
	return "refused"
}

// judgeServing checks a node that started: it answers DNS, and a node
// that serves read-only says so on /readyz.
func judgeServing(t *testing.T, n *node, file, what string) string {
	t.Helper()
	m, err := exchange("udp", n.ready.DNSUDP, "2.0.0.127.relay."+apex, dns.TypeA)
	if err != nil || m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeRefused {
		t.Errorf("%s %s: the node started but DNS answers %v, %v; log:\n%s", file, what, m, err, n.logTail())
	}
	code, body, err := doAPI(http.DefaultClient, "http://"+n.ready.HTTP, "", "GET", "/readyz", nil, nil)
	switch {
	case err != nil:
		t.Errorf("%s %s: /readyz: %v", file, what, err)
	case strings.Contains(string(body), "read-only"):
		if code != http.StatusServiceUnavailable || !strings.Contains(string(body), filepath.Base(file)) {
			t.Errorf("%s %s: read-only /readyz %d %s, want 503 naming the file", file, what, code, body)
		}
		return "read-only"
	}
	return "serving"
}
