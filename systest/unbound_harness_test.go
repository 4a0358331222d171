package systest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// unbound is a running Unbound resolver with a stub zone for the apex.
type unbound struct {
	addr string // host:port it listens on
	log  string
	// ns is the network namespace it runs in; nil: this one.
	ns *os.File
}

// unboundConfig is what the resolver needs to know.
type unboundConfig struct {
	host       string   // loopback address to listen on
	port       int      // port to listen on
	stub       string   // wlns DNS address, host:port
	stubZone   string   // the stub zone's name; default the apex
	localZones []string // extra static local zones
	localData  []string // extra local-data records (zone-file syntax)
	// forwardTLS, when set, forwards the apex over DNS over TLS to this
	// forward-addr ("IP@853#name") instead of the stub zone, trusting the
	// CA certificates in tlsBundle.
	forwardTLS, tlsBundle string
	// netns, when set, is the named network namespace Unbound runs in
	// (host and stub are addresses there); the harness asks it from there.
	netns string
}

// readyName is a local-data name the harness polls to see Unbound serve,
// without touching the apex (the cache must stay cold).
const readyName = "ready.systest.invalid."

// configText renders unbound.conf: strict QNAME minimisation, no DNSSEC, a
// stub zone for the apex pointing at wlns on loopback.
func (c unboundConfig) configText(dir string) string {
	stubHost, stubPort, _ := net.SplitHostPort(c.stub)
	var b strings.Builder
	fmt.Fprintf(&b, `server:
	interface: %[1]s@%[2]d
	port: %[2]d
	do-ip4: yes
	do-ip6: no
	do-udp: yes
	do-tcp: yes
	chroot: ""
	username: ""
	directory: %[3]q
	pidfile: ""
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	qname-minimisation: yes
	qname-minimisation-strict: yes
	do-not-query-localhost: no
	cache-max-negative-ttl: 5
	# Unbound answers the special-use names of RFC 6761 (test., invalid.)
	# itself; the apex lives under test., so that default must go.
	local-zone: "test." nodefault
	local-zone: "systest.invalid." static
	local-data: "%[4]s 60 IN A 127.0.0.1"
`, c.host, c.port, dir, readyName)
	for _, z := range c.localZones {
		fmt.Fprintf(&b, "\tlocal-zone: %q static\n", z)
	}
	for _, rr := range c.localData {
		fmt.Fprintf(&b, "\tlocal-data: '%s'\n", rr) // single quotes: rr may hold double ones
	}
	zone := c.stubZone
	if zone == "" {
		zone = apex
	}
	if c.forwardTLS != "" {
		fmt.Fprintf(&b, `	tls-cert-bundle: %q
remote-control:
	control-enable: no
forward-zone:
	name: %q
	forward-tls-upstream: yes
	forward-addr: %s
`, c.tlsBundle, zone+".", c.forwardTLS)
		return b.String()
	}
	fmt.Fprintf(&b, `remote-control:
	control-enable: no
stub-zone:
	name: %q
	stub-addr: %s@%s
`, zone+".", stubHost, stubPort)
	return b.String()
}

// startUnbound runs unbound in the foreground until the test ends.
func startUnbound(t testing.TB, c unboundConfig) *unbound {
	t.Helper()
	bin := needTool(t, "unbound", "unbound")
	dir := t.TempDir()
	conf := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(conf, []byte(c.configText(dir)), 0o644); err != nil {
		t.Fatalf("writing unbound.conf: %v", err)
	}
	if out, err := exec.Command(needTool(t, "unbound-checkconf", "unbound"), conf).CombinedOutput(); err != nil {
		t.Fatalf("unbound-checkconf: %v\n%s", err, out)
	}
	u := &unbound{addr: net.JoinHostPort(c.host, strconv.Itoa(c.port)), log: filepath.Join(dir, "unbound.log")}
	logf, err := os.Create(u.log)
	if err != nil {
		t.Fatalf("creating unbound log: %v", err)
	}
	cmd := exec.Command(bin, "-d", "-c", conf)
	if c.netns != "" {
		cmd = exec.Command("ip", "netns", "exec", c.netns, bin, "-d", "-c", conf)
		if u.ns, err = os.Open("/run/netns/" + c.netns); err != nil {
			t.Fatalf("opening namespace %s: %v", c.netns, err)
		}
		t.Cleanup(func() { u.ns.Close() })
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting unbound: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		var m *dns.Msg
		err := u.in(func() (err error) { m, err = exchange("udp", u.addr, readyName, dns.TypeA); return err })
		if err == nil && m.Rcode == dns.RcodeSuccess && len(m.Answer) == 1 {
			return u
		}
		select {
		case <-done:
			b, _ := os.ReadFile(u.log)
			t.Fatalf("unbound exited before serving:\n%s", b)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(u.log)
			t.Fatalf("unbound not answering on %s after 20s:\n%s", u.addr, b)
		}
	}
}

// resolve asks the resolver recursively (RD set) and returns the answer.
func (u *unbound) resolve(t testing.TB, qname string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(qname), qtype)
	c := &dns.Client{Net: "udp", Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var m *dns.Msg
	err := u.in(func() (err error) { m, _, err = c.ExchangeContext(ctx, q, u.addr); return err })
	if err != nil {
		t.Fatalf("resolving %s through unbound: %v", qname, err)
	}
	return m
}

// in runs f in Unbound's network namespace.
func (u *unbound) in(f func() error) error {
	if u.ns == nil {
		return f()
	}
	return inNetns(u.ns, f)
}

// freeUDPPort returns a port that was free on host, for both UDP and TCP,
// a moment ago.
func freeUDPPort(t testing.TB, host string) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatalf("finding a free port on %s: %v", host, err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		pc.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatalf("no port on %s free for both UDP and TCP", host)
	return 0
}

// spareLoopback returns a random 127.x.y.z address whose UDP and TCP port 53
// are free, so a resolver can listen where resolv.conf (which cannot name a
// port) sends queries.
func spareLoopback(t testing.TB) string {
	t.Helper()
	for range 50 {
		host := fmt.Sprintf("127.%d.%d.%d", 100+rand.IntN(100), rand.IntN(256), 2+rand.IntN(250))
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, "53"))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, "53"))
		pc.Close()
		if err != nil {
			continue
		}
		l.Close()
		return host
	}
	t.Fatal("no free port 53 on a spare loopback address")
	return ""
}
