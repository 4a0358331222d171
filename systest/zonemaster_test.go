package systest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The Zonemaster comparison. Two network namespaces joined by a veth pair:
// "client" (10.53.0.1) holds a fake root, NSD serving "." and "test."
// which delegates wl.test to ns1.wl.test (10.53.0.2) and ns2.wl.test
// (10.53.0.3) with glue, and runs zonemaster-cli with that root as its
// hints; "server" holds both addresses and the server under test. The same
// zone content is served first by wlns (its own names from --ns and zone
// records), then by NSD from a zone file; Zonemaster must report nothing at
// WARNING or above against wlns that it does not report against NSD
// (private addresses and missing reverse names it reports for both).

const (
	zmRoot = "10.53.0.1"
	zmNS1  = "10.53.0.2"
	zmNS2  = "10.53.0.3"
)

// zmRecords are the zone's own records both servers publish: the
// confirmation mail and web host of docs/verification.md, SPF and CAA.
var zmRecords = []struct{ name, typ, data string }{
	{"@", "MX", "10 mail"},
	{"@", "TXT", `"v=spf1 mx -all"`},
	{"@", "CAA", `0 issue "letsencrypt.org"`},
	{"@", "A", "10.53.0.80"},
	{"mail", "A", "10.53.0.25"},
	{"verify", "MX", "10 mail"},
}

// zmLab is the pair of namespaces, removed at cleanup.
type zmLab struct {
	t              *testing.T
	client, server string
}

func newZMLab(t *testing.T) *zmLab {
	t.Helper()
	var rb [3]byte
	if _, err := rand.Read(rb[:]); err != nil {
		t.Fatal(err)
	}
	p := "wlns-" + hex.EncodeToString(rb[:])
	l := &zmLab{t: t, client: p + "-zmc", server: p + "-zms"}
	t.Cleanup(func() {
		for _, ns := range []string{l.client, l.server} {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Logf("removing namespace %s: %v: %s", ns, err, out)
			}
		}
	})
	for _, args := range [][]string{
		{"netns", "add", l.client}, {"netns", "add", l.server},
		{"-n", l.client, "link", "set", "lo", "up"}, {"-n", l.server, "link", "set", "lo", "up"},
		{"-n", l.client, "link", "add", "c0", "type", "veth", "peer", "name", "s0", "netns", l.server},
		{"-n", l.client, "addr", "add", zmRoot + "/24", "dev", "c0"}, {"-n", l.client, "link", "set", "c0", "up"},
		{"-n", l.server, "addr", "add", zmNS1 + "/24", "dev", "s0"}, {"-n", l.server, "addr", "add", zmNS2 + "/24", "dev", "s0"},
		{"-n", l.server, "link", "set", "s0", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return l
}

// startNSD runs NSD in namespace ns on addrs with zones (name → zone file
// text) until the test ends, and waits until it answers the first zone's
// SOA from the client namespace.
func (l *zmLab) startNSD(ns string, addrs []string, zones [][2]string) {
	t := l.t
	t.Helper()
	bin := needTool(t, "nsd", "nsd")
	dir := t.TempDir()
	var conf strings.Builder
	fmt.Fprintf(&conf, "server:\n  port: 53\n  username: \"\"\n  chroot: \"\"\n  zonesdir: %q\n  database: \"\"\n"+
		"  pidfile: %q\n  xfrdfile: %q\n  zonelistfile: %q\n  logfile: %q\n  verbosity: 1\n",
		dir, filepath.Join(dir, "nsd.pid"), filepath.Join(dir, "xfrd.state"), filepath.Join(dir, "zone.list"), filepath.Join(dir, "nsd.log"))
	for _, a := range addrs {
		fmt.Fprintf(&conf, "  ip-address: %s\n", a)
	}
	conf.WriteString("remote-control:\n  control-enable: no\n")
	for i, z := range zones {
		file := fmt.Sprintf("zone%d", i)
		if err := os.WriteFile(filepath.Join(dir, file), []byte(z[1]), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&conf, "zone:\n  name: %q\n  zonefile: %q\n", z[0], file)
	}
	cfg := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, bin, "-d", "-c", cfg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf := createLog(t, filepath.Join(dir, "stderr.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting nsd: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	l.waitSOA(addrs[0], zones[0][0], func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
		return string(b)
	})
}

// waitSOA waits until server answers name's SOA to a query from the client
// namespace.
func (l *zmLab) waitSOA(server, name string, log func() string) {
	l.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := exec.Command("ip", "netns", "exec", l.client, "dig", "@"+server, "+norec", "+short", "+time=1", "+tries=1", name, "SOA").Output()
		if err == nil && len(strings.TrimSpace(string(out))) > 0 {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("%s does not answer the SOA of %s: %v %s\n%s", server, name, err, out, log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// zmMessage is one Zonemaster log entry.
type zmMessage struct {
	Level    string         `json:"level"`
	Testcase string         `json:"testcase"`
	Tag      string         `json:"tag"`
	Args     map[string]any `json:"args"`
}

func (m zmMessage) String() string {
	b, _ := json.Marshal(m.Args)
	return fmt.Sprintf("%s %s %s %s", m.Level, m.Testcase, m.Tag, b)
}

// zonemaster runs zonemaster-cli from the client namespace against wl.test
// with the fake root and returns its messages at WARNING or above.
func (l *zmLab) zonemaster(hints string) []zmMessage {
	l.t.Helper()
	bin := needTool(l.t, "zonemaster-cli", "zonemaster-cli")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", l.client, bin, "--hints", hints, "--no-ipv6",
		"--level", "WARNING", "--json", "--no-progress", apex)
	out, err := cmd.Output()
	if err != nil {
		l.t.Fatalf("zonemaster-cli: %v\n%s", err, out)
	}
	var msgs []zmMessage
	if err := json.Unmarshal(out, &msgs); err != nil {
		l.t.Fatalf("zonemaster-cli output: %v\n%s", err, out)
	}
	l.t.Logf("zonemaster-cli took %v, %d messages at WARNING or above", time.Since(start).Round(time.Millisecond), len(msgs))
	return msgs
}

// zmZoneFile is the zone NSD serves: what wlns serves at and under the
// apex, with wlns's SOA.
func zmZoneFile(soa *dns.SOA) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s.\n$TTL 300\n", apex)
	fmt.Fprintf(&b, "@ 300 IN SOA %s %s %d %d %d %d %d\n", soa.Ns, soa.Mbox, soa.Serial, soa.Refresh, soa.Retry, soa.Expire, soa.Minttl)
	fmt.Fprintf(&b, "@ IN NS ns1\n@ IN NS ns2\nns1 IN A %s\nns2 IN A %s\n", zmNS1, zmNS2)
	for _, r := range zmRecords {
		fmt.Fprintf(&b, "%s IN %s %s\n", r.name, r.typ, r.data)
	}
	return b.String()
}

func TestZonemaster_ReportsNothingNSDDoesNot(t *testing.T) {
	needRoot(t)
	needTool(t, "zonemaster-cli", "zonemaster-cli")
	needTool(t, "dig", "bind9-dnsutils")
	l := newZMLab(t)
	l.startNSD(l.client, []string{zmRoot}, [][2]string{
		{".", ". 86400 IN SOA ns.test. hostmaster.test. 1 1800 900 604800 86400\n. 86400 IN NS ns.test.\n" +
			"test. 86400 IN NS ns.test.\nns.test. 86400 IN A " + zmRoot + "\n"},
		{"test.", "test. 86400 IN SOA ns.test. hostmaster.test. 1 1800 900 604800 86400\ntest. 86400 IN NS ns.test.\n" +
			"ns.test. 86400 IN A " + zmRoot + "\nwl.test. 86400 IN NS ns1.wl.test.\nwl.test. 86400 IN NS ns2.wl.test.\n" +
			"ns1.wl.test. 86400 IN A " + zmNS1 + "\nns2.wl.test. 86400 IN A " + zmNS2 + "\n"},
	})
	hints := filepath.Join(t.TempDir(), "hints")
	if err := os.WriteFile(hints, []byte(". 3600000 IN NS ns.test.\nns.test. 3600000 IN A "+zmRoot+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	n, ready := launchIn(t, l.server, filepath.Join(t.TempDir(), "data"), "--dns", "0.0.0.0:53",
		"--ns", "ns1."+apex+"="+zmNS1+",ns2."+apex+"="+zmNS2, "--hostmaster", "hostmaster@"+apex)
	n.waitReady(ready, 60*time.Second)
	for _, r := range zmRecords {
		res := runCmd(t, exec.Command("ip", "netns", "exec", l.server, wlnsBin, "zone-record", "add",
			"--server", "http://"+n.ready.HTTP, "--token", n.token, r.name, r.typ, r.data))
		if res.code != 0 {
			t.Fatalf("wlns zone-record add %s %s %s: exit %d: %s", r.name, r.typ, r.data, res.code, res.stderr)
		}
	}
	l.waitSOA(zmNS1, apex, n.logTail)
	soaOut, err := exec.Command("ip", "netns", "exec", l.client, "dig", "@"+zmNS1, "+norec", "+short", apex, "SOA").Output()
	if err != nil {
		t.Fatal(err)
	}
	soa, err := dns.NewRR(apex + ". 300 IN SOA " + strings.TrimSpace(string(soaOut)))
	if err != nil {
		t.Fatalf("wlns SOA %q: %v", soaOut, err)
	}
	fromWlns := l.zonemaster(hints)
	n.kill()
	<-n.done

	l.startNSD(l.server, []string{zmNS1, zmNS2}, [][2]string{{apex + ".", zmZoneFile(soa.(*dns.SOA))}})
	fromNSD := l.zonemaster(hints)

	var nsd []string
	for _, m := range fromNSD {
		nsd = append(nsd, m.String())
		t.Logf("NSD:  %s", m)
		if m.Level == "CRITICAL" {
			t.Fatalf("Zonemaster cannot test NSD, the reference, so the set-up is broken: %s", m)
		}
	}
	var extra []string
	for _, m := range fromWlns {
		t.Logf("wlns: %s", m)
		if !slices.Contains(nsd, m.String()) {
			extra = append(extra, m.String())
		}
	}
	if len(extra) > 0 {
		t.Errorf("Zonemaster reports against wlns what it does not against NSD serving the same zone:\n%s", strings.Join(extra, "\n"))
	}
}
