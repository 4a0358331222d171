package systest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestUnbound_ControlRbldnsdIsUnreachable shows that the Unbound test above
// can fail: the same resolver set-up in front of rbldnsd, which answers
// NXDOMAIN for the names between its zone and a listed entry, loses a name
// that rbldnsd itself answers when asked directly.
func TestUnbound_ControlRbldnsdIsUnreachable(t *testing.T) {
	bin := needTool(t, "rbldnsd", "rbldnsd")
	needRoot(t)                                   // rbldnsd starts as root and drops to its own user
	dir, err := os.MkdirTemp("", "wlns-rbldnsd-") // readable by user rbldns
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := "$SOA 60 ns.wl.test. hostmaster.wl.test. 1 3600 600 86400 60\n:127.0.2.1:listed\n" + relayV4 + "\n"
	if err := os.WriteFile(filepath.Join(dir, "relays"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freeUDPPort(t, "127.0.0.1")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-n", "-q", "-u", "rbldns", "-c", "0", "-b", "127.0.0.1/"+strconv.Itoa(port),
		"-w", dir, "relay."+apex+":ip4set:relays")
	if out, err := os.Create(filepath.Join(t.TempDir(), "rbldnsd.log")); err == nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting rbldnsd: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })

	name := relayName(t, relayV4)
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := exchange("udp", addr, name, dns.TypeA)
		if err == nil && hasA(m, codeRelay) {
			break // rbldnsd lists the address when asked directly
		}
		if time.Now().After(deadline) {
			t.Fatalf("rbldnsd does not answer %s directly: %v %v", name, m, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	u := startUnbound(t, unboundConfig{host: "127.0.0.1", port: freeUDPPort(t, "127.0.0.1"), stub: addr, stubZone: "relay." + apex})
	// The resolver does reach rbldnsd: the zone's SOA resolves.
	if m := u.resolve(t, "relay."+apex, dns.TypeSOA); m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
		t.Fatalf("Unbound cannot reach rbldnsd: SOA query = %s %v", dns.RcodeToString[m.Rcode], m.Answer)
	}
	if m := u.resolve(t, name, dns.TypeA); hasA(m, codeRelay) {
		t.Errorf("%s resolved through strict QNAME minimisation in front of rbldnsd (%v): the resolver test could not catch an NXDOMAIN above a listed name", name, m.Answer)
	}
}
