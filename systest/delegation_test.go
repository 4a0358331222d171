package systest

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDelegation_UnboundFollowsTheCutToNSD proves a delegated prefix end
// to end, with the commands docs/delegation.md gives. Two network
// namespaces joined by a veth pair (the Zonemaster lab): "server"
// (10.53.0.2, .3) runs wlns; "client" (10.53.0.1) runs the postmaster's
// NSD, loading the zones `wlns delegation export` wrote for 192.0.2.0/24,
// and an Unbound with strict QNAME minimisation whose stub zone for the
// apex is wlns. Names above the cut are wlns's own answers, the cut and
// everything below it NSD's (a pair added to wlns after the export is not
// listed: wlns never answers below the cut), an SPF exists: check through
// Unbound passes for a sender listed in the delegated zone, and the lame
// delegation check tells a working delegation from a lame one.
func TestDelegation_UnboundFollowsTheCutToNSD(t *testing.T) {
	needRoot(t)
	needTool(t, "dig", "bind9-dnsutils")
	l := newZMLab(t)
	n, ready := launchIn(t, l.server, filepath.Join(t.TempDir(), "data"), "--dns", "0.0.0.0:53",
		"--ns", "ns1."+apex+"="+zmNS1, "--delegation-check-interval", "1s", "--delegation-check-timeout", "1s", "--whois", "127.0.0.1:0")
	n.waitReady(ready, 60*time.Second)
	cli := func(token string, args ...string) cliResult {
		t.Helper()
		return wlnsIn(t, l.server, n, "", token, args...)
	}
	must := func(token string, args ...string) string {
		t.Helper()
		return mustIn(t, l.server, n, token, args...)
	}
	pm := seedDelegation(t, l.server, n)

	// The postmaster delegates their prefix with the commands of
	// docs/delegation.md, and cannot delegate another's.
	dir := t.TempDir()
	listed := runDocDelegation(t, l.server, n, dir, pm)
	if !strings.Contains(listed, "192.0.2.0/24") || !strings.Contains(listed, "ns1.2.0.192.relay."+apex) {
		t.Fatalf("delegation list printed %q", listed)
	}
	if res := cli(pm, "delegation", "add", "198.51.100.0/24", "--ns", "ns.umkc.edu"); res.code == 0 || !strings.Contains(res.stderr, "outside its prefixes") {
		t.Fatalf("postmaster delegating another's prefix: exit %d: %s", res.code, res.stderr)
	}
	var zones [][2]string
	for _, tree := range []string{"relay", "sender", "verp"} {
		origin := "2.0.192." + tree + "." + apex + "."
		b, err := os.ReadFile(filepath.Join(dir, origin+"zone"))
		if err != nil {
			t.Fatalf("the export of docs/delegation.md: %v", err)
		}
		zones = append(zones, [2]string{origin, string(b)})
	}
	// Added after the export: wlns has it, the postmaster's NSD does not.
	must(n.token, "pair", "add", "eve@umkc.edu", "192.0.2.4")
	l.startNSD(l.client, []string{zmRoot}, zones)

	// wlns itself refers: AA off, NS and glue; DS at the cut is its own.
	direct := func(name string, qtype uint16) *dns.Msg {
		t.Helper()
		var m *dns.Msg
		ns, err := os.Open("/run/netns/" + l.client)
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		if err := inNetns(ns, func() (err error) { m, err = exchange("udp", zmNS1+":53", name, qtype); return err }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := direct("4.2.0.192.relay."+apex, dns.TypeA); m.Authoritative || len(m.Ns) != 1 || len(m.Extra) < 2 || len(m.Answer) != 0 {
		t.Errorf("wlns below the cut: %v", m)
	}
	if m := direct("2.0.192.relay."+apex, dns.TypeDS); !m.Authoritative || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
		t.Errorf("wlns DS at the cut: %v", m)
	}

	u := l.spfUnbound()
	u.check(t, []resolveCase{
		{"above the cut: an empty non-terminal", "192.relay." + apex, dns.TypeA, dns.RcodeSuccess, ""},
		{"beside the cut: wlns's own relay", "9.100.51.198.relay." + apex, dns.TypeA, dns.RcodeSuccess, codeRelay},
		{"beside the cut: wlns's own pair", "dave.umkc.edu.9.100.51.198.sender." + apex, dns.TypeA, dns.RcodeSuccess, codeSender},
		{"at the cut: NSD's SOA", "2.0.192.relay." + apex, dns.TypeSOA, dns.RcodeSuccess, "ns1.2.0.192.relay." + apex + "."},
		{"at the cut: NSD's NS", "2.0.192.sender." + apex, dns.TypeNS, dns.RcodeSuccess, "ns1.2.0.192.relay." + apex + "."},
		{"below: relay", "4.2.0.192.relay." + apex, dns.TypeA, dns.RcodeSuccess, codeRelay},
		{"below: pair", "dave.umkc.edu.4.2.0.192.sender." + apex, dns.TypeA, dns.RcodeSuccess, codeSender},
		{"below: VERP source", "lists.umkc.edu.4.2.0.192.verp." + apex, dns.TypeA, dns.RcodeSuccess, codeVerp},
		{"below: unlisted address", "5.2.0.192.relay." + apex, dns.TypeA, dns.RcodeNameError, ""},
		{"below: a pair only wlns has", "eve.umkc.edu.4.2.0.192.sender." + apex, dns.TypeA, dns.RcodeNameError, ""},
	})

	spf := newSPFChecker(t, "127.0.0.1")
	spf.netns = l.client
	for _, c := range []struct{ sender, ip, want string }{
		{"dave@umkc.edu", "192.0.2.4", "pass"},    // listed in the delegated zone
		{"eve@umkc.edu", "192.0.2.4", "fail"},     // only in wlns, below the cut
		{"dave@umkc.edu", "198.51.100.9", "pass"}, // wlns's own
	} {
		if got := spf.libspf2(c.sender, c.ip); got != c.want {
			t.Errorf("spfquery %s from %s = %q, want %q", c.sender, c.ip, got, c.want)
		}
		if got := spf.mailSPF(c.sender, c.ip); got != c.want {
			t.Errorf("Mail::SPF %s from %s = %q, want %q", c.sender, c.ip, got, c.want)
		}
	}

	// A second delegation names a server that answers without authority
	// (wlns itself, on its other address): lame. The working one is not.
	// Its glue must name a host below its own cut: one elsewhere in the
	// zone would be an address wlns answers NXDOMAIN for.
	if res := cli(n.token, "delegation", "add", "203.0.113.0/24", "--ns", "ns.lame."+apex+"="+zmNS2); res.code == 0 || !strings.Contains(res.stderr, "not below a cut") {
		t.Fatalf("glue outside the cut: exit %d %s", res.code, res.stderr)
	}
	lameNS := "ns.113.0.203.relay." + apex
	must(n.token, "delegation", "add", "203.0.113.0/24", "--ns", lameNS+"="+zmNS2)
	deadline := time.Now().Add(30 * time.Second)
	for {
		list := must(n.token, "delegation", "list")
		good, lame := lineOf(list, "192.0.2.0/24"), lineOf(list, "203.0.113.0/24")
		if strings.Contains(good, " no ") && strings.Contains(lame, "yes: "+lameNS+" "+zmNS2) && strings.Contains(lame, "not authoritative") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("wlns delegation list does not show the checks:\n%s", list)
		}
		time.Sleep(500 * time.Millisecond)
	}
	var info []struct {
		Prefix string `json:"prefix"`
		Lame   bool   `json:"lame"`
	}
	if err := json.Unmarshal([]byte(must(n.token, "delegation", "list", "--json")), &info); err != nil || len(info) != 2 || info[0].Lame || !info[1].Lame {
		t.Fatalf("delegation list --json: %+v %v", info, err)
	}
	// WHOIS names the delegation of a relay inside it.
	host, port, _ := net.SplitHostPort(n.ready.WHOIS)
	who := runCmd(t, exec.Command("ip", "netns", "exec", l.server, needTool(t, "whois", "whois"), "-h", host, "-p", port, "192.0.2.4"))
	if !strings.Contains(who.stdout, "delegation:") || !strings.Contains(who.stdout, "192.0.2.0/24 to ns1.2.0.192.relay."+apex) {
		t.Errorf("WHOIS 192.0.2.4 does not show the delegation:\n%s%s", who.stdout, who.stderr)
	}
	if got := metricIn(t, l.server, n.ready.HTTP, "wlns_delegation_lame_delegations"); got != "1" {
		t.Errorf("wlns_delegation_lame_delegations = %q, want 1", got)
	}
}

// wlnsIn runs the wlns CLI in netns (in dir, unless "") against n's API
// with token.
func wlnsIn(t *testing.T, netns string, n *node, dir, token string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command("ip", append(append([]string{"netns", "exec", netns, wlnsBin}, args...), "--server", "http://"+n.ready.HTTP, "--token", token)...)
	cmd.Dir = dir
	return runCmd(t, cmd)
}

// mustIn is wlnsIn that fails the test unless the command succeeds, and
// returns its output.
func mustIn(t *testing.T, netns string, n *node, token string, args ...string) string {
	t.Helper()
	res := wlnsIn(t, netns, n, "", token, args...)
	if res.code != 0 {
		t.Fatalf("wlns %s: exit %d: %s%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res.stdout
}

// seedDelegation registers 192.0.2.4 (dave@umkc.edu, VERP lists.umkc.edu)
// and 198.51.100.9 (dave@umkc.edu) on n, and returns the secret of a new
// postmaster token for 192.0.2.0/24.
func seedDelegation(t *testing.T, netns string, n *node) string {
	t.Helper()
	for _, args := range [][]string{
		{"relay", "add", "192.0.2.4", "--contact", "postmaster@umkc.edu"},
		{"relay", "add", "198.51.100.9", "--contact", "postmaster@example.net"},
		{"pair", "add", "dave@umkc.edu", "192.0.2.4"},
		{"pair", "add", "dave@umkc.edu", "198.51.100.9"},
		{"verp", "add", "lists.umkc.edu", "192.0.2.4"},
	} {
		mustIn(t, netns, n, n.token, args...)
	}
	return strings.TrimSpace(mustIn(t, netns, n, n.token, "token", "create", "pm-umkc", "--role", "postmaster", "--prefix", "192.0.2.0/24"))
}

// runDocDelegation runs the commands of docs/delegation.md's step by step
// as the postmaster (token) in dir, and returns the last one's output.
func runDocDelegation(t *testing.T, netns string, n *node, dir, token string) string {
	t.Helper()
	var out string
	for _, args := range docCommands(t, "../docs/delegation.md", "wl.example.org", apex, "198.51.100.53", zmRoot) {
		res := wlnsIn(t, netns, n, dir, token, args...)
		if res.code != 0 {
			t.Fatalf("wlns %s (docs/delegation.md): exit %d: %s", strings.Join(args, " "), res.code, res.stderr)
		}
		out = res.stdout
	}
	return out
}

// spfUnbound starts Unbound in the client namespace on 127.0.0.1:53 with
// strict QNAME minimisation, the stub for the apex at the server
// namespace's first address, and umkc.edu's SPF record asking the sender
// zone with exists:.
func (l *zmLab) spfUnbound() *unbound {
	return startUnbound(l.t, unboundConfig{host: "127.0.0.1", port: 53, stub: zmNS1 + ":53", netns: l.client,
		localZones: []string{"umkc.edu."},
		localData:  []string{`umkc.edu. 300 IN TXT "v=spf1 exists:%{l}.%{o}.%{ir}.sender.` + apex + ` -all"`}})
}

// resolveCase is a name asked through Unbound and what must come back.
type resolveCase struct {
	what, name string
	qtype      uint16
	rcode      int
	answer     string // the first answer record's data; "" for none
}

// check resolves each case through u.
func (u *unbound) check(t *testing.T, cases []resolveCase) {
	t.Helper()
	for _, c := range cases {
		m := u.resolve(t, c.name, c.qtype)
		got := ""
		if len(m.Answer) > 0 {
			got = strings.Fields(m.Answer[0].String())[4]
		}
		if m.Rcode != c.rcode || got != c.answer {
			t.Errorf("%s: %s %s through Unbound = %s %q, want %s %q\n%v", c.what, c.name, dns.TypeToString[c.qtype],
				dns.RcodeToString[m.Rcode], got, dns.RcodeToString[c.rcode], c.answer, m)
		}
	}
}

// lineOf returns the first line of text that starts with prefix.
func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// metricIn reads one unlabelled metric's value from the /metrics of the
// HTTP API at addr (host:port) in the named network namespace.
func metricIn(t *testing.T, netns, addr, name string) string {
	t.Helper()
	ns, err := os.Open("/run/netns/" + netns)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	var conn net.Conn
	if err := inNetns(ns, func() (err error) { conn, err = net.DialTimeout("tcp", addr, 10*time.Second); return err }); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	req.Close = true
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return ""
}

// docCommands returns the `wlns …` lines of the sh blocks of a doc as
// argument lists (without "wlns"), with each old string replaced by the
// new one after it.
func docCommands(t *testing.T, path string, replace ...string) [][]string {
	t.Helper()
	return docBlockCommands(t, path, "sh", replace...)
}

// docBlockCommands is docCommands for the blocks of another info string.
func docBlockCommands(t *testing.T, path, block string, replace ...string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(b), "```")
	var out [][]string
	for i := 1; i < len(parts); i += 2 {
		info, body, _ := strings.Cut(parts[i], "\n")
		if info != block {
			continue
		}
		for _, line := range strings.Split(strings.NewReplacer(replace...).Replace(body), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "wlns" {
				out = append(out, f[1:])
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no wlns commands in %s", path)
	}
	return out
}
