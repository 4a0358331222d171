package zone

import (
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// docsIndex holds the records docs/query-format.md talks about: relay
// 192.0.2.4 registered, dave@ and first.last@umkc.edu, the domain umkc.edu,
// and the VERP domain lists.example.net.
func docsIndex(t *testing.T) *index.View {
	t.Helper()
	ix := index.New()
	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 1, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.4/32")},
		Meta: record.Meta{Created: created}})
	for _, s := range []string{"dave@umkc.edu", "first.last@umkc.edu", "umkc.edu"} {
		tx.PutPair(&record.Pair{Entity: 1, Sender: s, Meta: record.Meta{Created: created}})
	}
	tx.PutVerp(&record.Verp{Entity: 1, Domain: "lists.example.net", Meta: record.Meta{Created: created}})
	tx.Commit()
	return ix.Load()
}

var (
	digLine  = regexp.MustCompile(`^\s*\$ dig @\S+ -p \d+ \+short (\S+) (A|TXT)$`)
	hashLine = regexp.MustCompile(`^\s*\$ h=\$\(printf %s (\S+) \|`)
)

// TestDocs_QueryFormatExamples runs every `dig +short` example of
// docs/query-format.md through the Responder and compares the output.
func TestDocs_QueryFormatExamples(t *testing.T) {
	text, err := os.ReadFile("../docs/query-format.md")
	if err != nil {
		t.Fatal(err)
	}
	r, v := newTestResponder(t), docsIndex(t)
	lines := strings.Split(string(text), "\n")
	hash, ran := "", 0
	for i := 0; i < len(lines); i++ {
		if m := hashLine.FindStringSubmatch(lines[i]); m != nil {
			hash = record.HashLabel(m[1])
			continue
		}
		m := digLine.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		name := strings.Trim(strings.ReplaceAll(m[1], "$h", hash), `'`)
		var want []string
		for j := i + 1; j < len(lines) && !strings.Contains(lines[j], "$ ") && !strings.Contains(lines[j], "```"); j++ {
			want = append(want, strings.TrimSpace(lines[j]))
		}
		resp := ask(t, r, v, dns.Fqdn(name), dns.StringToType[m[2]])
		var got []string
		for _, rr := range resp.Answer {
			switch rr := rr.(type) {
			case *dns.A:
				got = append(got, rr.A.String())
			case *dns.TXT:
				got = append(got, `"`+strings.Join(rr.Txt, `" "`)+`"`)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("docs line %d: dig %s %s\n got %q\nwant %q", i+1, name, m[2], got, want)
		}
		ran++
	}
	if ran < 8 {
		t.Errorf("only %d dig examples found; the pattern no longer matches the docs", ran)
	}
}
