package systest

import (
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
