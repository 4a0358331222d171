package systest

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestCLI_ImportLoadsEveryKind(t *testing.T) {
	n := startNode(t, "")
	lines := []string{
		`{"kind":"relay","ip":"203.0.113.9","contact":"postmaster@example.com"}`,
		`{"kind":"group","name":"lists","members":["198.18.0.0/24","2001:db8:77::/48"],"contact":"ops@example.com","registered":true}`,
		`# comments and blank lines are skipped`,
		``,
		`{"kind":"pair","sender":"alice@example.com","ip":"203.0.113.9"}`,
		`{"kind":"pair","sender":"bob@example.com","ip":"198.18.0.1"}`,
		`{"kind":"verp","domain":"bounces.example.com","ip":"2001:db8:77::1"}`,
	}
	file := filepath.Join(t.TempDir(), "data.ndjson")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := n.mustCLI("import", file)
	if !strings.Contains(out, "applied 5") {
		t.Errorf("import report %q, want 5 records applied", out)
	}
	clients := []dnsClient{{"miekg/udp", miekgAsk("udp")}}
	checkAll(t, n.ready.DNSUDP, clients, []query{
		{relayName(t, "203.0.113.9"), dns.TypeA, listedA(codeRelay)},
		{relayName(t, "198.18.0.77"), dns.TypeA, listedA(codeRelay)},
		{senderName(t, "alice.example.com", "203.0.113.9"), dns.TypeA, listedA(codeSender)},
		{senderName(t, "bob.example.com", "2001:db8:77::2"), dns.TypeA, listedA(codeSender)},
		{verpName(t, "bounces.example.com", "198.18.0.200"), dns.TypeA, listedA(codeVerp)},
	})

	// A bad line rejects its batch and the command says so with exit 1.
	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	if err := os.WriteFile(bad, []byte(`{"kind":"pair","sender":"not an address","ip":"203.0.113.9"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := n.cli("import", bad); r.code != 1 || !strings.Contains(r.stdout+r.stderr, "line 1") {
		t.Errorf("bad import: exit %d, output %q %q; want exit 1 naming line 1", r.code, r.stdout, r.stderr)
	}
}

// An import whose connection is cut off says which batches were applied
// (line ranges) and which key to run it again with; run again with that
// key, it finishes, and every record is there.
func TestCLI_ImportCutOffSaysWhatWasApplied(t *testing.T) {
	n := startNode(t, "")
	var lines []string
	for i := range 2000 {
		lines = append(lines, fmt.Sprintf(`{"kind":"pair","sender":"cut%d@example.com","ip":"203.0.113.7"}`, i))
	}
	file := filepath.Join(t.TempDir(), "cut.ndjson")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	proxy := cuttingProxy(t, n.ready.HTTP, `"batch":`, 2)
	r := runWlns(t, "import", file, "--batch", "50", "--server", "http://"+proxy, "--token", n.token)
	if r.code != 1 || !strings.Contains(r.stderr, "cut off after") || !strings.Contains(r.stdout, "applied lines 1-") {
		t.Fatalf("cut-off import: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	t.Logf("cut off:\n%s%s", r.stdout, r.stderr)
	var last int
	if _, err := fmt.Sscanf(r.stdout[strings.Index(r.stdout, "applied lines 1-"):], "applied lines 1-%d", &last); err != nil || last < 50 {
		t.Fatalf("applied range in %q: %v", r.stdout, err)
	}
	for _, i := range []int{0, last - 1} { // what it says was applied was
		if !pairExists(t, n, fmt.Sprintf("cut%d@example.com", i)) {
			t.Fatalf("line %d reported applied but cut%d@example.com is not there", i+1, i)
		}
	}
	_, key, ok := strings.Cut(r.stderr, "--key ")
	if !ok {
		t.Fatalf("no key to run again with in %q", r.stderr)
	}
	key = strings.Fields(key)[0]
	again := n.cli("import", file, "--batch", "50", "--key", key)
	if again.code != 0 || !strings.Contains(again.stdout, "applied 2000, rejected 0") {
		t.Fatalf("import again with --key %s: exit %d %s %s", key, again.code, again.stdout, again.stderr)
	}
	if !pairExists(t, n, "cut1999@example.com") {
		t.Fatal("the last line is not there after the import ran again")
	}
}

// cuttingProxy forwards one HTTP connection to target and cuts both ways
// once the answer has carried marker count times.
func cuttingProxy(t *testing.T, target, marker string, count int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		s, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer s.Close()
		go func() { _, _ = io.Copy(s, c) }()
		buf, seen := make([]byte, 64<<10), 0
		for seen < count {
			k, err := s.Read(buf)
			if k > 0 {
				seen += strings.Count(string(buf[:k]), marker)
				if _, werr := c.Write(buf[:k]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return ln.Addr().String()
}

// pairExists asks the API whether sender has a pair.
func pairExists(t *testing.T, n *node, sender string) bool {
	t.Helper()
	code, b := n.api("GET", "/v1/pairs?sender="+sender, nil)
	return code == 200 && strings.Contains(string(b), sender)
}

// TestCLI_ImportShowsProgress: the import prints, as its batches are
// decided, the input lines done of the file's total and the rate, and
// finishes at the total.
func TestCLI_ImportShowsProgress(t *testing.T) {
	n := startNode(t, "")
	var sb strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&sb, `{"kind":"pair","sender":"user%d@example.com","ip":"192.0.2.%d"}`+"\n", i, i%200+1)
	}
	file := filepath.Join(t.TempDir(), "data.ndjson")
	if err := os.WriteFile(file, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := n.cli("import", "--batch", "500", "--progress", "1ns", file)
	if r.code != 0 {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) < 6 || !strings.Contains(lines[0], "import: line 500 of 3000 (16.7%), 500 records in ") {
		t.Fatalf("progress %q: want a line per batch from 500 of 3000", r.stderr)
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "line 3000 of 3000 (100.0%), 3000 records in ") || !strings.HasSuffix(last, " records/s") {
		t.Errorf("last progress line %q", last)
	}
	if q := n.cli("import", "--progress", "0", file); q.code != 0 || q.stderr != "" {
		t.Errorf("--progress 0: exit %d, stderr %q", q.code, q.stderr)
	}
}

// TestCLI_ImportBatchesTenThousandByDefault: without --batch, wlns import
// sends 10,000-record batches (the API's largest), not the API's default
// of 1,000 for callers that name none.
func TestCLI_ImportBatchesTenThousandByDefault(t *testing.T) {
	n := startNode(t, "")
	var b strings.Builder
	for i := range 12_000 {
		fmt.Fprintf(&b, `{"kind":"pair","sender":"u%d@example.com","ip":"203.0.113.%d"}`+"\n", i, i%200)
	}
	file := filepath.Join(t.TempDir(), "pairs.ndjson")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := n.mustCLI("import", file); !strings.Contains(out, "applied 12000, rejected 0, batches 2") {
		t.Errorf("import report %q, want 12000 records in 2 batches", out)
	}
}
