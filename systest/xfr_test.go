package systest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// registerRelay registers a lone relay address through n's API.
func registerRelay(t *testing.T, n *node, ip string) {
	t.Helper()
	code, b := n.api("POST", "/v1/relays", map[string]any{"ip": ip, "contact": "postmaster@example.org"})
	if code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("POST /v1/relays %s: %d %s", ip, code, b)
	}
}

// wlnsSerial is the relay zone's SOA serial on a node's transfer port.
func wlnsSerial(t *testing.T, addr, zone string) uint32 {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(zone, dns.TypeSOA)
	q.SetTsig(xfrKeyName+".", dns.HmacSHA256, 300, time.Now().Unix())
	c := &dns.Client{TsigSecret: map[string]string{xfrKeyName + ".": xfrKeySecret}, Timeout: 5 * time.Second}
	m, _, err := c.Exchange(q, addr)
	if err != nil || len(m.Answer) == 0 {
		t.Fatalf("SOA %s from %s: %v %v", zone, addr, m, err)
	}
	return m.Answer[0].(*dns.SOA).Serial
}

// TestXFR_NSDKnotBINDFollowTwoMirrors: real NSD, Knot and BIND secondaries
// of the relay zone take a first AXFR from a two-node wlns cluster, follow
// a change by NOTIFY and IXFR within seconds (the SOA refresh is an hour),
// and Knot, switched to the other mirror, gets the same serial and an IXFR
// from it; a wrong TSIG key and a foreign address are refused.
func TestXFR_NSDKnotBINDFollowTwoMirrors(t *testing.T) {
	zone := "relay." + apex + "."
	keys := filepath.Join(t.TempDir(), "tsig.keys")
	if err := os.WriteFile(keys, []byte(xfrKeyName+" hmac-sha256 "+xfrKeySecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	servers := []string{"nsd", "knotd", "named"}
	ports := map[string]int{}
	var notify []string
	for _, s := range servers {
		ports[s] = freeUDPPort(t, "127.0.0.1")
		notify = append(notify, fmt.Sprintf("127.0.0.1:%d", ports[s]))
	}
	xfrPorts := []int{freeUDPPort(t, "127.0.0.1"), freeUDPPort(t, "127.0.0.1")}
	ca := clusterCA(t)
	const secret = "join-secret-for-the-test"
	xfrArgs := func(i int) []string {
		return []string{"--xfr", fmt.Sprintf("127.0.0.1:%d", xfrPorts[i]), "--xfr-allow", "127.0.0.1/32",
			"--xfr-tsig-keys", keys, "--xfr-notify", strings.Join(notify, ","), "--xfr-interval", "200ms"}
	}
	n1 := startMember(t, filepath.Join(t.TempDir(), "n1"), append(append(nodeCert(t, ca, "n1"), "--join-token", secret, "--promote-after", "1s", "--raft-profile", "lan"), xfrArgs(0)...)...)
	n2 := startMember(t, filepath.Join(t.TempDir(), "n2"), append(append(nodeCert(t, ca, "n2"), "--join", n1.ready.Raft, "--join-token", secret, "--promote-after", "1s", "--raft-profile", "lan"), xfrArgs(1)...)...)
	waitReachableVoters(t, n1, 2, 30*time.Second)
	registerRelay(t, n1, "192.0.2.4")
	first := relayName(t, "192.0.2.4")

	secs := map[string]*secondary{}
	for _, s := range servers {
		secs[s] = startSecondary(t, s, secondaryConf{Dir: filepath.Join(t.TempDir(), s), Zone: zone, Key: xfrKeyName, Secret: xfrKeySecret,
			Port: ports[s], Primary: "127.0.0.1", PrimaryPort: xfrPorts[0]})
	}
	for _, s := range servers {
		took := secs[s].waitAnswer(first, 1, 30*time.Second)
		t.Logf("%s: first AXFR served after %v", s, took)
	}
	// Both mirrors hand out the same serial for the same content.
	s1, s2 := wlnsSerial(t, n1.ready.XFR, zone), wlnsSerial(t, n2.ready.XFR, zone)
	for s1 != s2 {
		time.Sleep(100 * time.Millisecond)
		s1, s2 = wlnsSerial(t, n1.ready.XFR, zone), wlnsSerial(t, n2.ready.XFR, zone)
	}
	for _, s := range servers {
		if got := secs[s].serial(); got != s1 {
			t.Errorf("%s serves serial %d, wlns %d", s, got, s1)
		}
	}

	// A change reaches every secondary through NOTIFY and IXFR.
	ixfr0 := metricOr0(t, n1, `wlns_xfr_transfers_total{kind="ixfr"}`)
	registerRelay(t, n2, "198.51.100.7")
	second := relayName(t, "198.51.100.7")
	for _, s := range servers {
		took := secs[s].waitAnswer(second, 1, 15*time.Second)
		t.Logf("%s: change served %v after the write", s, took)
	}
	if got := metricOr0(t, n1, `wlns_xfr_transfers_total{kind="ixfr"}`) - ixfr0; got < 3 {
		t.Errorf("node 1 served %v IXFRs with differences, want one per secondary (3)", got)
	}

	// Knot switches to the other mirror: it keeps its serial, and the next
	// change comes as an IXFR from node 2.
	k := secs["knotd"]
	k.stop()
	conf := k.conf
	conf.PrimaryPort = xfrPorts[1]
	k = startSecondary(t, "knotd", conf)
	k.waitAnswer(second, 1, 15*time.Second)
	ixfr2 := metricOr0(t, n2, `wlns_xfr_transfers_total{kind="ixfr"}`)
	full2 := metricOr0(t, n2, `wlns_xfr_transfers_total{kind="ixfr_full"}`) + metricOr0(t, n2, `wlns_xfr_transfers_total{kind="axfr"}`)
	registerRelay(t, n1, "203.0.113.9")
	k.waitAnswer(relayName(t, "203.0.113.9"), 1, 15*time.Second)
	if got := metricOr0(t, n2, `wlns_xfr_transfers_total{kind="ixfr"}`) - ixfr2; got < 1 {
		t.Errorf("node 2 served no IXFR with differences to Knot after the switch")
	}
	if got := metricOr0(t, n2, `wlns_xfr_transfers_total{kind="ixfr_full"}`) + metricOr0(t, n2, `wlns_xfr_transfers_total{kind="axfr"}`) - full2; got != 0 {
		t.Errorf("node 2 sent Knot %v full zones after the switch, want IXFR only", got)
	}

	// A wrong key and a foreign address are refused (kdig, a real client).
	kdig := needTool(t, "kdig", "knot-dnsutils")
	xp := fmt.Sprint(xfrPorts[0])
	wrong := exec.Command(kdig, "-p", xp, "@127.0.0.1", "-y", "hmac-sha256:"+xfrKeyName+":d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmct", "AXFR", zone)
	out, _ := wrong.CombinedOutput()
	if strings.Contains(string(out), "IN\tA\t127.0.2.1") || !strings.Contains(strings.ToUpper(string(out)), "NOTAUTH") {
		t.Errorf("AXFR with a wrong TSIG key was not refused with NOTAUTH:\n%s", out)
	}
	foreign := exec.Command(kdig, "-p", xp, "@127.0.0.1", "-b", "127.0.0.2", "-y", "hmac-sha256:"+xfrKeyName+":"+xfrKeySecret, "AXFR", zone)
	out, _ = foreign.CombinedOutput()
	if strings.Contains(string(out), "IN\tA\t127.0.2.1") || !strings.Contains(strings.ToUpper(string(out)), "REFUSED") {
		t.Errorf("AXFR from 127.0.0.2 (outside --xfr-allow) was not refused:\n%s", out)
	}
	right := exec.Command(kdig, "-p", xp, "@127.0.0.1", "-y", "hmac-sha256:"+xfrKeyName+":"+xfrKeySecret, "AXFR", zone)
	if out, _ = right.CombinedOutput(); !strings.Contains(string(out), "127.0.2.1") {
		t.Errorf("AXFR with the right key failed:\n%s", out)
	}
}

// TestXFR_LargeRelayZoneToNSD imports WLNS_XFR_RELAYS lone relays (default
// 3,000; make bench-xfr runs 1,000,000) into a node and times a real NSD's
// first AXFR of the relay zone, until it answers the last relay.
func TestXFR_LargeRelayZoneToNSD(t *testing.T) {
	n := 3000
	if s := os.Getenv("WLNS_XFR_RELAYS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("WLNS_XFR_RELAYS=%q: %v", s, err)
		}
	}
	zone := "relay." + apex + "."
	dir := t.TempDir()
	keys := filepath.Join(dir, "tsig.keys")
	if err := os.WriteFile(keys, []byte(xfrKeyName+" hmac-sha256 "+xfrKeySecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	xfrPort := freeUDPPort(t, "127.0.0.1")
	node := startNode(t, "", "--xfr", fmt.Sprintf("127.0.0.1:%d", xfrPort), "--xfr-allow", "127.0.0.1/32", "--xfr-tsig-keys", keys)
	relay := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	start := time.Now()
	const chunk = 100_000 // one CLI run each, well within its time limit
	for from := 0; from < n; from += chunk {
		var b strings.Builder
		for i := from; i < min(from+chunk, n); i++ {
			fmt.Fprintf(&b, `{"kind":"relay","ip":%q,"contact":"pm@example.org"}`+"\n", relay(i))
		}
		file := filepath.Join(dir, fmt.Sprintf("relays-%d.ndjson", from))
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := node.cli("import", file, "--batch", "10000"); r.code != 0 {
			t.Fatalf("import: exit %d %s %s", r.code, r.stdout, r.stderr)
		}
	}
	t.Logf("imported %d relays in %v", n, time.Since(start).Round(time.Millisecond))
	// Wait until the transfer port serves the serial the import ended at.
	want := soaSerial(t, node)
	for wlnsSerial(t, node.ready.XFR, zone) != want {
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("zone written out %v after the import", time.Since(start).Round(time.Millisecond))
	nsd := startSecondary(t, "nsd", secondaryConf{Dir: filepath.Join(dir, "nsd"), Zone: zone, Key: xfrKeyName, Secret: xfrKeySecret,
		Port: freeUDPPort(t, "127.0.0.1"), Primary: "127.0.0.1", PrimaryPort: xfrPort})
	last := relayName(t, relay(n-1))
	took := nsd.waitAnswer(last, 1, 20*time.Minute)
	t.Logf("NSD took the relay zone of %d relays (%d records) and answered its last relay %v after it started", n, 2*(n+1)+3, took.Round(time.Millisecond))
	if got := nsd.serial(); got != want {
		t.Errorf("NSD serves serial %d, wlns %d", got, want)
	}
}
