package systest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The rbldnsd interoperability test: relays and groups go into wlns through
// `wlns import csv` and `wlns import rbldnsd`, `wlns export rbldnsd` writes
// the relay zone as datasets, a real rbldnsd serves them, and dig (wlns)
// and kdig (rbldnsd) must get the same rcode and the same A and TXT records
// (TTL included) for every address of a table: listed relays and group
// members, nested groups, a hole an unregistered relay makes in a group,
// the RFC 5782 test entries, IPv6, and addresses nobody lists.

const rbldnsdCSV = `ip,contact,ptr,group
192.0.2.4,postmaster@a.example,mx.a.example,
2001:db8::25,postmaster@a.example,,
198.51.100.0/24,postmaster@b.example,,payday
2001:db8:1::/48,postmaster@b.example,,payday
10.0.0.0/20,ops@c.example,,outer
10.0.0.0/22,ops@d.example,,inner
`

const rbldnsdDataset = `# a DNSBL operator's list
$SOA 3600 ns.dnsbl.example. hostmaster.dnsbl.example. 0 3600 600 86400 60
:127.0.0.2:Listed: $
203.0.113.5
203.0.113.9 :127.0.0.3:listed by hand
`

// rbldnsdSpot are answers the table must hold, so that it cannot pass by
// comparing two servers that both answer nothing.
var rbldnsdSpot = map[string]string{
	"10.0.0.1 TXT":         "wlns: registered relay group inner since ",
	"10.0.4.0 TXT":         "wlns: registered relay group outer since ",
	"198.51.100.77 A":      "NXDOMAIN",
	"198.51.100.255 A":     "300 IN A 127.0.2.1",
	"127.0.0.2 TXT":        "wlns: registered relay group RFC 5782 test entry\"",
	"::ffff:127.0.0.2 A":   "127.0.2.1",
	"2001:db8:1::9 TXT":    "relay group payday",
	"203.0.113.9 TXT":      "wlns: registered relay 203.0.113.9 since ",
	"192.0.2.50 A":         "NXDOMAIN",
	"2001:db8:1:ffff::1 A": "127.0.2.1",
}

func TestRbldnsd_ExportedRelayZoneAnswersAsWlns(t *testing.T) {
	needRoot(t) // rbldnsd starts as root and drops to its own user
	rbl := needTool(t, "rbldnsd", "rbldnsd")
	dig := toolAsk(needTool(t, "dig", "bind9-dnsutils"), "+notcp", "+tries=2", "+time=3")
	kdig := toolAsk(needTool(t, "kdig", "knot-dnsutils"), "+notcp", "+retry=1", "+time=3")
	n := startNode(t, "")
	dir := t.TempDir()

	// A pair made before the group gives 198.51.100.77 an unregistered
	// entity of its own, which hides that address in the group.
	n.mustCLI("pair", "add", "early@b.example", "198.51.100.77")
	n.mustCLI("pair", "add", "lone@e.example", "192.0.2.50")
	csvFile := writeFile(t, dir, "relays.csv", rbldnsdCSV)
	out := n.mustCLI("import", "csv", csvFile, "--contact", "ops@example.org")
	mustContain(t, out, "records 5, applied 5, rejected 0")
	setFile := writeFile(t, dir, "dnsbl.ip4set", rbldnsdDataset)
	out = n.mustCLI("import", "rbldnsd", setFile, "--contact", "abuse@dnsbl.example")
	mustContain(t, out, "records 2, applied 2, rejected 0")
	mustContain(t, n.mustCLI("relay", "show", "203.0.113.9"), "abuse@dnsbl.example")

	data := readableDir(t)
	out = n.mustCLI("export", "rbldnsd", data)
	mustContain(t, out, "relay.ip4set: ")
	server := startRbldnsd(t, rbl, data, "relay."+apex+":ip4set:relay.ip4set", "relay."+apex+":ip6trie:relay.ip6trie")
	waitRbldnsd(t, server, relayName(t, "127.0.0.2"))

	listed, unlisted := 0, 0
	for _, ip := range []string{"192.0.2.4", "192.0.2.5", "192.0.2.50", "198.51.100.0", "198.51.100.7", "198.51.100.77",
		"198.51.100.255", "10.0.0.1", "10.0.3.255", "10.0.4.0", "10.0.15.255", "10.0.16.0", "203.0.113.5", "203.0.113.9",
		"203.0.113.6", "127.0.0.1", "127.0.0.2", "2001:db8::25", "2001:db8::26", "2001:db8:1::9", "2001:db8:1:ffff::1",
		"2001:db8:2::1", "::ffff:127.0.0.2"} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeTXT} {
			name := relayName(t, ip)
			w, r := dig(t, n.ready.DNSUDP, name, qt), kdig(t, server, name, qt)
			if w.rcode != r.rcode || answers(w) != answers(r) {
				t.Errorf("%s %s: wlns %s %s (%v); rbldnsd %s %s", ip, dns.TypeToString[qt],
					dns.RcodeToString[w.rcode], answers(w), w, dns.RcodeToString[r.rcode], answers(r))
			}
			if want, ok := rbldnsdSpot[ip+" "+dns.TypeToString[qt]]; ok && !strings.Contains(answers(w)+dns.RcodeToString[w.rcode], want) {
				t.Errorf("%s %s: wlns answers %s %s, want %q in it", ip, dns.TypeToString[qt], dns.RcodeToString[w.rcode], answers(w), want)
			}
			if qt == dns.TypeA && len(w.answer) > 0 {
				listed++
			} else if qt == dns.TypeA {
				unlisted++
			}
		}
	}
	t.Logf("%d addresses listed and %d not, the same A and TXT from wlns and rbldnsd", listed, unlisted)
	if listed < 12 || unlisted < 6 {
		t.Errorf("%d listed and %d unlisted addresses: the table no longer covers both", listed, unlisted)
	}
}

func TestImport_RbldnsdAndCSVRefuseBeforeSending(t *testing.T) {
	n := startNode(t, "")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a range without --group", []string{"rbldnsd", writeFile(t, dir, "wide.ip4set", "192.0.2.1\n198.51.100.0/24\n"), "--contact", "a@b.example"},
			"wide.ip4set:2: 198.51.100.0/24 is wider than one address"},
		{"an exclusion", []string{"rbldnsd", writeFile(t, dir, "excl.ip4set", "192.0.2.1\n!192.0.2.2\n"), "--contact", "a@b.example"},
			"line 2"},
		{"no contact", []string{"csv", writeFile(t, dir, "nocontact.csv", "ip\n192.0.2.1\n")}, "nocontact.csv:2: no contact"},
		{"a bad address", []string{"csv", writeFile(t, dir, "bad.csv", "ip,contact\n192.0.2.1,a@b.example\n192.0.2.300,a@b.example\n")}, "bad.csv:3: ip \"192.0.2.300\""},
		{"an unknown column", []string{"csv", writeFile(t, dir, "col.csv", "ip,owner\n192.0.2.1,x\n")}, "header column \"owner\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := n.cli(append([]string{"import"}, tc.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want a failure saying %q", r.code, r.stderr, tc.want)
			}
		})
	}
	if out := n.mustCLI("relay", "list"); strings.Contains(out, "192.0.2.1") {
		t.Errorf("a refused import registered a relay:\n%s", out)
	}
	// The API's batches stay all-or-nothing: a relay inside a group is
	// refused, and its batch with it.
	n.mustCLI("group", "create", "g", "--member", "198.51.100.0/24", "--contact", "a@b.example", "--registered")
	r := n.cli("import", "csv", writeFile(t, dir, "clash.csv", "ip,contact\n192.0.2.9,a@b.example\n198.51.100.3,a@b.example\n"), "--batch", "10")
	if r.code == 0 || !strings.Contains(r.stdout, "record 2 (") || !strings.Contains(r.stdout, "clash.csv:3") {
		t.Errorf("import of a relay inside a group: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := n.mustCLI("relay", "list"); strings.Contains(out, "192.0.2.9") {
		t.Errorf("the rejected batch's other relay was registered:\n%s", out)
	}
}

// answers is a reply's answer records, sorted, for comparison.
func answers(r reply) string {
	var s []string
	for _, rr := range r.answer {
		s = append(s, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	slices.Sort(s)
	return "[" + strings.Join(s, "; ") + "]"
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readableDir is a new folder the rbldns user can read (test temp folders
// are private to root), removed after the test.
func readableDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "wlns-rbldnsd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// startRbldnsd runs rbldnsd in the foreground on a free loopback port with
// the datasets under dir, and returns its address. It is stopped when the
// test ends.
func startRbldnsd(t *testing.T, bin, dir string, zones ...string) string {
	t.Helper()
	port := strconv.Itoa(freeUDPPort(t, "127.0.0.1"))
	args := append([]string{"-n", "-u", "rbldns", "-b", "127.0.0.1/" + port, "-w", dir}, zones...)
	cmd := exec.Command(bin, args...)
	logf := createLog(t, filepath.Join(t.TempDir(), "rbldnsd.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting rbldnsd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	return "127.0.0.1:" + port
}

// waitRbldnsd polls until rbldnsd answers name (it loads after it binds).
func waitRbldnsd(t *testing.T, server, name string) {
	t.Helper()
	eventually(t, 15*time.Second, func() (bool, string) {
		m, err := exchange("udp", server, name, dns.TypeA)
		return err == nil && m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0, fmt.Sprintf("rbldnsd at %s: %v %v", server, m, err)
	})
}
