package systest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// docCommand is one "$ " line of a console block with the output lines
// that follow it.
type docCommand struct {
	line int
	cmd  string
	want []string
}

// consoleCommands returns the commands of the console blocks in the
// section of a Markdown file that starts with heading.
func consoleCommands(t *testing.T, path, heading string) []docCommand {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []docCommand
	in, block := false, false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "## "):
			in = l == heading
		case !in:
		case strings.HasPrefix(l, "```"):
			block = l == "```console"
		case block && strings.HasPrefix(l, "$ "):
			out = append(out, docCommand{line: i + 1, cmd: strings.TrimPrefix(l, "$ ")})
		case block && len(out) > 0:
			out[len(out)-1].want = append(out[len(out)-1].want, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no console commands under %q", path, heading)
	}
	return out
}

// shellWords splits a command line into words as sh would for the simple
// quoting the docs use ('...' and "...").
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	quote, word := rune(0), false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, word = r, true
		case r == ' ':
			if word {
				out = append(out, cur.String())
				cur.Reset()
			}
			word = false
		default:
			cur.WriteRune(r)
			word = true
		}
	}
	if word {
		out = append(out, cur.String())
	}
	return out
}

var (
	docDate = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	docID   = regexp.MustCompile(`id: \d+`)
)

// sameOutput compares output lines with whitespace runs, dates and DNS
// message IDs evened out.
func sameOutput(got string, want []string) bool {
	norm := func(ls []string) string {
		var out []string
		for _, l := range ls {
			l = docID.ReplaceAllString(docDate.ReplaceAllString(l, "DATE"), "id: 0")
			if f := strings.Fields(l); len(f) > 0 {
				out = append(out, strings.Join(f, " "))
			}
		}
		return strings.Join(out, "\n")
	}
	return norm(strings.Split(got, "\n")) == norm(want)
}

// TestDocs_OwnNamesExamples runs the commands of docs/operations.md "The
// zone's own names" against the real binary and dig: the refused start,
// the node with in-zone name servers, the zone records and the answers.
func TestDocs_OwnNamesExamples(t *testing.T) {
	needTool(t, "dig", "bind9-dnsutils")
	var n *node
	ran := 0
	for _, c := range consoleCommands(t, "../docs/operations.md", "## The zone's own names") {
		words := shellWords(c.cmd)
		switch {
		case strings.HasPrefix(c.cmd, "wlns serve ") && len(c.want) > 0:
			r := runWlns(t, append([]string{"serve", "--data", filepath.Join(t.TempDir(), "data")}, words[2:]...)...)
			if r.code != 2 || !sameOutput(strings.SplitN(r.stderr, "\n", 2)[0], c.want) {
				t.Fatalf("docs line %d: %s: exit %d\n%s\nwant exit 2 and %q", c.line, c.cmd, r.code, r.stderr, c.want)
			}
		case strings.HasPrefix(c.cmd, "wlns serve "):
			n = startNode(t, "", words[2:]...)
		case strings.HasPrefix(c.cmd, "wlns "):
			r := n.cli(words[1:]...)
			if r.code != 0 || len(c.want) > 0 && !sameOutput(r.stdout, c.want) {
				t.Errorf("docs line %d: %s: exit %d\n%s%s\nwant:\n%s", c.line, c.cmd, r.code, r.stdout, r.stderr, strings.Join(c.want, "\n"))
			}
		case strings.HasPrefix(c.cmd, "dig @192.0.2.53 "):
			host, port, _ := strings.Cut(n.ready.DNSUDP, ":")
			cmd := strings.Replace(c.cmd, "@192.0.2.53", "@"+host+" -p "+port, 1)
			out, err := exec.Command("sh", "-c", cmd).Output()
			if err != nil || !sameOutput(string(out), c.want) {
				t.Errorf("docs line %d: %s: %v\n got:\n%s\nwant:\n%s", c.line, c.cmd, err, out, strings.Join(c.want, "\n"))
			}
		default:
			t.Fatalf("docs line %d: the test does not know how to run %q", c.line, c.cmd)
		}
		ran++
	}
	if ran < 10 {
		t.Errorf("ran %d commands; the section lost its examples", ran)
	}
}

// TestZone_OwnNamesSurviveRestart: a zone record is answered again after
// the node restarts from its data folder, and the --ns glue comes from the
// flags of the new start.
func TestZone_OwnNamesSurviveRestart(t *testing.T) {
	flags := []string{"--ns", "ns1." + apex + "=192.0.2.53"}
	n := startNode(t, "", flags...)
	n.mustCLI("zone-record", "add", "confirm", "MX", "10", "ns1")
	if err := n.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	n = startNode(t, n.dataDir, "--ns", "ns1."+apex+"=192.0.2.54")
	m, err := exchange("udp", n.ready.DNSUDP, "confirm."+apex, dns.TypeMX)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Answer) != 1 || len(m.Extra) < 1 || !strings.Contains(m.Extra[0].String(), "192.0.2.54") {
		t.Fatalf("after the restart: %v\nwant the MX with ns1's new address as glue", m)
	}
}

// TestCluster_ZoneRecordsReplicate: a zone record written through one
// member is answered by every member, with the glue each has from --ns.
func TestCluster_ZoneRecordsReplicate(t *testing.T) {
	nodes := startCluster(t, 2, "--ns", "ns1."+apex+"=192.0.2.53")
	nodes[1].mustCLI("zone-record", "add", "confirm", "MX", "10", "ns1")
	for _, n := range nodes {
		eventually(t, 15*time.Second, func() (bool, string) {
			m, err := exchange("udp", n.ready.DNSUDP, "confirm."+apex, dns.TypeMX)
			if err != nil {
				return false, err.Error()
			}
			return len(m.Answer) == 1 && len(m.Extra) > 0 && strings.Contains(m.Extra[0].String(), "192.0.2.53"), m.String()
		})
	}
}
