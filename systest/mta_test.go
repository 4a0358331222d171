package systest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The mail-filter system tests (Exim, Rspamd, SpamAssassin) share one world:
// a real `wlns serve` holding a small data set. Rspamd and SpamAssassin are
// told to ask it directly; Exim asks the system resolver, so its test adds a
// real Unbound on port 53 of a spare loopback address stubbing the zone to
// wlns, named by a private resolv.conf bind-mounted in Exim's own mount
// namespace. The relay addresses are documentation prefixes: no tool ever
// connects to them, they only appear in query names, host-checking sessions
// and Received headers.
const (
	mtaRelay      = "192.0.2.25"   // registered relay
	mtaRelay6     = "2001:db8::25" // registered relay (IPv6)
	mtaStranger   = "192.0.2.99"   // no entity
	mtaListed     = "alice@example.com"
	mtaUnlisted   = "bob@example.com"
	mtaPlus       = "dave+lists@example.com" // listed; '+' fits no hostname label
	mtaWideDomain = "friendly.example"       // verified domain-wide through mtaRelay
	mtaListDomain = "lists.example.net"
	mtaDeferText  = "sender not yet validated in global whitelist"
)

// mtaWorld is the whitelist as a mail filter sees it.
type mtaWorld struct {
	n *node
}

// newMTAWorld starts the node and loads: mtaListed verified
// through mtaRelay and mtaRelay6, mtaPlus verified through mtaRelay,
// mtaWideDomain verified domain-wide through mtaRelay, and mtaRelay a list
// server for mtaListDomain.
func newMTAWorld(t *testing.T) *mtaWorld {
	t.Helper()
	needRoot(t)
	w := &mtaWorld{n: startNode(t, "", "--negative-ttl", "1")}
	w.n.mustCLI("relay", "add", mtaRelay, "--contact", "postmaster@relay.example")
	w.n.mustCLI("relay", "add", mtaRelay6, "--contact", "postmaster@relay.example")
	w.n.mustCLI("pair", "add", mtaListed, mtaRelay)
	w.n.mustCLI("pair", "add", mtaListed, mtaRelay6)
	w.n.mustCLI("pair", "add", mtaPlus, mtaRelay)
	w.n.mustCLI("pair", "add", "@"+mtaWideDomain, mtaRelay)
	w.n.mustCLI("verp", "add", mtaListDomain, mtaRelay)
	return w
}

// systemResolvers starts an Unbound in front of the node and returns two
// resolv.conf files: one naming it, and one naming a loopback address where
// nothing answers (the whitelist unreachable).
func (w *mtaWorld) systemResolvers(t *testing.T) (live, dead string) {
	t.Helper()
	host := spareLoopback(t)
	startUnbound(t, unboundConfig{host: host, port: 53, stub: w.n.ready.DNSUDP})
	dir := t.TempDir()
	return writeResolvConf(t, dir, "resolv.conf", host), writeResolvConf(t, dir, "dead-resolv.conf", spareLoopback(t))
}

func writeResolvConf(t *testing.T, dir, name, host string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("nameserver "+host+"\noptions timeout:2 attempts:1\n"), 0o644); err != nil {
		t.Fatalf("writing %s: %v", name, err)
	}
	return p
}

// bindMount is one file bind-mounted over another inside a private mount
// namespace.
type bindMount struct{ src, dst string }

// isolatedCmd returns a command that runs argv in a new private mount
// namespace with the given files bind-mounted (the host's files are never
// touched), killed with the test process and after limit.
func isolatedCmd(t *testing.T, limit time.Duration, mounts []bindMount, argv ...string) (*exec.Cmd, context.CancelFunc) {
	t.Helper()
	unshare := needTool(t, "unshare", "util-linux")
	// sh -c SCRIPT sh SRC1 DST1 SRC2 DST2 ... ARGV: the script mounts each
	// pair of positional parameters, shifts them away and execs the rest.
	var script strings.Builder
	var paths []string
	for i, m := range mounts {
		fmt.Fprintf(&script, "mount --bind \"${%d}\" \"${%d}\" || exit 97; ", 2*i+1, 2*i+2)
		paths = append(paths, m.src, m.dst)
	}
	script.WriteString("shift " + strconv.Itoa(len(paths)) + "; exec \"$@\"")
	args := append([]string{"-m", "--propagation", "private", "--", "sh", "-c", script.String(), "sh"}, paths...)
	args = append(args, argv...)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := exec.CommandContext(ctx, unshare, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd, cancel
}

// eventually retries check (which reports whether it passed and what it
// saw) until it passes or limit runs out; it is how a test waits for a
// confirmed sender's retry to pass once negative caching has expired.
func eventually(t *testing.T, limit time.Duration, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, saw := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %v; last result:\n%s", limit, saw)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
